// What a `permission-denied` meant, from one read after it ("Every write is safe to repeat" and
// the refusals each step names): the write was this side's own, resent; or the call moved on;
// or the limits; or the sign-in; or the device clock; else the app's field map is wrong.
import { CALLS_PER_MINUTE, CALLS_WINDOW_MS, MAX_LIVE_CALLS, RING_SECONDS_DEFAULT, type Role } from "./constants";
import { tooManyCallsSentence, tooManyLiveCallsSentence } from "./limits";

/** Which write was refused. */
export type RefusedWrite = "dial" | "answer" | "append" | "restart" | "restart-request" | "connectivity" | "end-request";

/** A diagnosis: the cause, what to do next, and the sentence to show. */
export interface Diagnosis {
  cause: string;
  then: "continue" | "retry-once" | "show";
  sentence?: string;
}

/** What the diagnosis is given: the write, what it carried, and the one read. */
export interface RefusalFacts {
  write: RefusedWrite;
  role: Role;
  sent: Record<string, unknown>;
  read: { outcome: "found" | "missing" | "permission-denied"; data?: Record<string, unknown> };
  /** The limits document as read after a refused dial (recent: slot → epoch ms). */
  limits?: { live?: Record<string, string>; recent?: Record<string, number> };
  signInProvider?: string;
  deviceNowMillis: number;
  serverNowMillis?: number;
}

/** `expire_at` is device + 25 h; the rules take server + 1 h … + 2 days: a clock more than 23 h off is refused. */
export const CLOCK_OFF_LIMIT_MS = 23 * 3_600_000;

function field(data: Record<string, unknown> | undefined, path: string): unknown {
  return path.split(".").reduce<unknown>((value, key) => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined), data);
}

/** "it was yours if" of the table under "Every write is safe to repeat". */
function ownRepeat(facts: RefusalFacts): boolean {
  const { write, role, sent } = facts;
  const data = facts.read.outcome === "found" ? facts.read.data : undefined;
  if (!data) return false;
  switch (write) {
    case "dial":
      return data.caller_id === sent.caller_id && field(data, "offer.sdp") === sent.sdp;
    case "answer":
      return field(data, "answer.sdp") === sent.sdp;
    case "append": {
      const there = (Array.isArray(data.candidates) ? data.candidates : []).map((entry) => JSON.stringify(entry));
      return (Array.isArray(sent.candidates) ? sent.candidates : []).every((entry) => there.includes(JSON.stringify(entry)));
    }
    case "restart":
      return data.generation === sent.generation && field(data, "description.sdp") === sent.sdp;
    case "restart-request":
      return typeof data.restart_request === "number" && data.restart_request >= Number(sent.restart_request);
    case "connectivity":
      return field(data, "connectivity.by") === role;
    case "end-request":
      return field(data, "end_request.by") === role;
  }
}

const SENTENCES = {
  callEnded: "The call has already ended.",
  answeredElsewhere: "The call was answered on another device.",
  ringDeadlinePassed: "The call stopped ringing before it was answered.",
  anonymous: "This app does not let guests place calls: sign in with an account to call.",
  notAllowed:
    "Firestore refused the write and nothing the app can read explains it: compare the write with the field tables of docs/signaling.md (a bug in the app's field map).",
};

function clockSentence(offMillis: number): string {
  const hours = Math.round(Math.abs(offMillis) / 3_600_000);
  return `This device's clock is about ${hours} hours ${offMillis > 0 ? "ahead" : "behind"}; set it right and call again.`;
}

/** The cause of a refusal, from the write and what one read showed. */
export function diagnoseRefusal(facts: RefusalFacts): Diagnosis {
  if (ownRepeat(facts)) return { cause: "own-repeat", then: "continue" };
  const data = facts.read.outcome === "found" ? facts.read.data : undefined;
  const ended = !data || data.status === "ended" || (data.end_request !== undefined && data.end_request !== null);
  const clockOff = facts.serverNowMillis === undefined ? 0 : facts.deviceNowMillis - facts.serverNowMillis;
  switch (facts.write) {
    case "dial": {
      const recent = facts.limits?.recent ?? {};
      const times = Object.values(recent);
      if (times.length >= CALLS_PER_MINUTE) {
        const retryAtMillis = Math.min(...times) + CALLS_WINDOW_MS;
        if (retryAtMillis > facts.deviceNowMillis) return { cause: "too-many-calls-per-minute", then: "show", sentence: tooManyCallsSentence(retryAtMillis, facts.deviceNowMillis) };
      }
      if (Object.keys(facts.limits?.live ?? {}).length > MAX_LIVE_CALLS - 1 && facts.limits !== undefined) {
        return { cause: "too-many-live-calls", then: "show", sentence: tooManyLiveCallsSentence() };
      }
      if (Math.abs(clockOff) > CLOCK_OFF_LIMIT_MS) return { cause: "device-clock-off", then: "show", sentence: clockSentence(clockOff) };
      if (facts.signInProvider === "anonymous") return { cause: "anonymous-callers-refused", then: "show", sentence: SENTENCES.anonymous };
      return { cause: "not-allowed", then: "show", sentence: SENTENCES.notAllowed };
    }
    case "answer": {
      if (ended) return { cause: "call-ended", then: "show", sentence: SENTENCES.callEnded };
      if (data.answer !== undefined && data.answer !== null) return { cause: "answered-elsewhere", then: "show", sentence: SENTENCES.answeredElsewhere };
      const ringSeconds = typeof data.ring_seconds === "number" ? data.ring_seconds : RING_SECONDS_DEFAULT;
      const now = facts.serverNowMillis ?? facts.deviceNowMillis;
      if (typeof data.created_at === "number" && now >= data.created_at + ringSeconds * 1_000) return { cause: "ring-deadline-passed", then: "show", sentence: SENTENCES.ringDeadlinePassed };
      if (Math.abs(clockOff) > CLOCK_OFF_LIMIT_MS) return { cause: "device-clock-off", then: "show", sentence: clockSentence(clockOff) };
      return { cause: "not-allowed", then: "show", sentence: SENTENCES.notAllowed };
    }
    default:
      if (ended) return { cause: "call-ended", then: "show", sentence: SENTENCES.callEnded };
      return { cause: "not-allowed", then: "show", sentence: SENTENCES.notAllowed };
  }
}
