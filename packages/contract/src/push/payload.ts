// What a ring push and a "call over" push carry, the same on every platform: a flat map of
// strings (FCM data messages carry only strings; the APNs VoIP payload is the same map as
// JSON). An app reads the session itself for everything else (the offer comes from Firestore,
// never through a push), and recognises a call it already shows by `session_id`.
import { z } from "zod";
import { ENDED_REASONS, type EndedReason } from "../sessions/constants.js";
import { SESSION_ID_PATTERN } from "../sessions/limits.js";
import { uidSchema } from "../sessions/model.js";
import { wholeMatch } from "../sessions/validation.js";

/** `ring`: a call to this user is ringing; `call_over`: a call a ring push announced stopped ringing. */
export const PUSH_KINDS = ["ring", "call_over"] as const;
/** One of PUSH_KINDS. */
export type PushKind = (typeof PUSH_KINDS)[number];

/** Why a call stopped ringing: answered (on one of the callee's devices), or how it ended. */
export const CALL_OVER_REASONS = ["answered", ...ENDED_REASONS] as const;
/** One of CALL_OVER_REASONS. */
export type CallOverReason = "answered" | EndedReason;

/** A ring push: who calls, which session, and until when it rings (server time, epoch milliseconds, as a decimal string). */
export interface RingPayload {
  kind: "ring";
  session_id: string;
  caller_id: string;
  ring_deadline: string;
}

/** A "call over" push: dismiss the ringing UI of this session, if any. */
export interface CallOverPayload {
  kind: "call_over";
  session_id: string;
  caller_id: string;
  ring_deadline: string;
  reason: CallOverReason;
}

/** Either push's payload. */
export type PushPayload = RingPayload | CallOverPayload;

/** The payload of the ring push for one session. */
export function ringPayload(sessionId: string, callerId: string, ringDeadlineMillis: number): RingPayload {
  return { kind: "ring", session_id: sessionId, caller_id: callerId, ring_deadline: String(ringDeadlineMillis) };
}

/** The payload of the "call over" push for one session. */
export function callOverPayload(sessionId: string, callerId: string, ringDeadlineMillis: number, reason: CallOverReason): CallOverPayload {
  return { kind: "call_over", session_id: sessionId, caller_id: callerId, ring_deadline: String(ringDeadlineMillis), reason };
}

const common = {
  session_id: z.string().regex(wholeMatch(SESSION_ID_PATTERN), { error: "session_id must be a session id" }),
  caller_id: uidSchema,
  ring_deadline: z.string().regex(/^[0-9]{1,15}$/, { error: "ring_deadline must be epoch milliseconds as a decimal string" }),
};

/**
 * Parses what a push delivered (FCM `data`, the PushKit dictionary or a service worker's
 * payload). Keys the platform adds (`aps`, `google.*`, `from`…) are ignored.
 */
export const pushPayloadSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ring"), ...common }),
  z.object({ kind: z.literal("call_over"), ...common, reason: z.enum(CALL_OVER_REASONS) }),
]);
