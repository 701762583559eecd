import type { DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { adminFirestore } from "../admin";
import { applySessionWrite, type ApplyOutcome } from "./apply";
import { decideAfterWrite, type Decision } from "./decide";
import { SESSIONS_COLLECTION, type Timeouts } from "@webrtc-lite/contract";
import { configuredTimeouts } from "./settings";

/** What the trigger did with one event: its decision and, for a write, whether it landed. */
export interface SessionEventOutcome {
  decision: Decision;
  outcome?: ApplyOutcome;
}

/**
 * Handles one write to a session: decides from the document as written and commits at most
 * one batch, guarded by the snapshot's update time. Redelivered events and the trigger's own
 * writes decide "nothing" or lose the precondition, so handling converges.
 */
export async function handleSessionWritten(
  db: Firestore,
  after: DocumentSnapshot | undefined,
  timeouts: Timeouts,
  nowMillis: number = Date.now(),
): Promise<SessionEventOutcome> {
  if (!after?.exists || !after.updateTime) return { decision: { kind: "none", why: "the session was deleted" } };
  const decision = decideAfterWrite(after.data(), nowMillis, timeouts);
  if (decision.kind === "none") return { decision };
  const outcome = await applySessionWrite(db, after.ref, after.updateTime, decision, "trigger");
  return { decision, outcome };
}

/** Firestore trigger: advances a session's state machine on every write to it. */
export const onSessionWritten = onDocumentWritten(`${SESSIONS_COLLECTION}/{sessionId}`, async (event) => {
  await handleSessionWritten(await adminFirestore(), event.data?.after, configuredTimeouts());
});
