import { sessionAnswerTimeout, sessionMaxCall, sessionPendingTimeout, sessionRingTimeout, sessionTtl } from "../config";
import { logTimeoutsMisconfigured } from "../logs";
import { resolveTimeouts, type Timeouts } from "@webrtc-lite/contract/timeouts";

/** The timeouts and TTL from the params, with out-of-range values replaced by defaults (and logged). */
export function configuredTimeouts(): Timeouts {
  const { timeouts, problems } = resolveTimeouts({
    pendingSeconds: sessionPendingTimeout.value(),
    ringSeconds: sessionRingTimeout.value(),
    answerSeconds: sessionAnswerTimeout.value(),
    maxCallSeconds: sessionMaxCall.value(),
    sessionTtlSeconds: sessionTtl.value(),
  });
  if (problems.length > 0) logTimeoutsMisconfigured(problems);
  return timeouts;
}
