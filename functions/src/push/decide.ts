// What the push function does with a write to a session, decided from the documents alone
// (pure: no Firebase import, so unit tests need nothing running). A ring push goes out once per
// session, on its create, to each live target of the callee, and only while the call still
// rings; a "call over" push goes to the targets that were rung when the call stops ringing.
import {
  INCOMING_CALLS_QUERY,
  PUSH_TARGET_IDS,
  isPushTargetLive,
  pushTargetSchema,
  ringEndsAtMillis,
  uidSchema,
  type CallOverReason,
  type EndedReason,
  type PushTarget,
  type Timeouts,
  timestampSchema,
} from "@webrtc-lite/contract";
import { z } from "zod";

/** What one write to a session asks of the push function. */
export type PushEvent = { kind: "ring" } | { kind: "call_over"; reason: CallOverReason } | { kind: "none" };

/**
 * The create of a session asks for its ring pushes; a write that takes a call out of the
 * incoming-calls query (an answer, an end request, the server's end) asks for "call over".
 * Every other write (the trigger's status steps, candidates, a connectivity report) asks for
 * nothing, and costs no read.
 */
export function pushEventOf(before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): PushEvent {
  if (before === undefined) return after === undefined ? { kind: "none" } : { kind: "ring" };
  if (after === undefined || !isRingingShape(before) || isRingingShape(after)) return { kind: "none" };
  return { kind: "call_over", reason: callOverReason(after) };
}

/** Whether a session is in the incoming-calls query (INCOMING_CALLS_QUERY): not answered, not asked to end, not ended. */
export function isRingingShape(session: Record<string, unknown>): boolean {
  return (
    (INCOMING_CALLS_QUERY.statuses as readonly unknown[]).includes(session.status) &&
    INCOMING_CALLS_QUERY.nullFields.every((field) => session[field] === null || session[field] === undefined)
  );
}

function callOverReason(after: Record<string, unknown>): CallOverReason {
  const request = after.end_request as { reason?: unknown } | null | undefined;
  if (typeof request?.reason === "string") return request.reason as EndedReason;
  if (after.answer !== null && after.answer !== undefined) return "answered";
  return typeof after.ended_reason === "string" ? (after.ended_reason as EndedReason) : "timeout";
}

const ringingSessionSchema = z.object({
  caller_id: uidSchema,
  callee_id: uidSchema,
  created_at: timestampSchema,
  ring_seconds: z.number().int(),
});

/** A call that still rings: who calls whom, and the deadline the sweep holds it to (epoch ms). */
export interface RingingCall {
  callerId: string;
  calleeId: string;
  deadlineMillis: number;
}

/**
 * The call as the ring push announces it, or why none goes out: it was answered, asked to end
 * or ended before the function ran, its deadline has passed, or the document is not a session.
 */
export function ringingCall(session: Record<string, unknown> | undefined, nowMillis: number, timeouts: Timeouts): RingingCall | { skip: string } {
  if (session === undefined) return { skip: "the session is gone" };
  if (!isRingingShape(session)) return { skip: "the call no longer rings (answered or ended)" };
  const parsed = ringingSessionSchema.safeParse(session);
  if (!parsed.success) return { skip: "the session document is invalid" };
  const deadlineMillis = ringEndsAtMillis(parsed.data.created_at.toMillis(), parsed.data.ring_seconds, timeouts);
  if (deadlineMillis <= nowMillis) return { skip: "the ring deadline has passed" };
  return { callerId: parsed.data.caller_id, calleeId: parsed.data.callee_id, deadlineMillis };
}

/** A target the function may push to: its slot id and its parsed document. */
export interface UsableTarget {
  id: string;
  target: PushTarget;
}

/**
 * The targets to ring out of the callee's documents: valid, in a slot, not past their
 * `expire_at`. A document the rules would not have let in (an Admin SDK write) is passed over.
 */
export function usableTargets(documents: ReadonlyArray<{ id: string; data: Record<string, unknown> }>, nowMillis: number): UsableTarget[] {
  const usable: UsableTarget[] = [];
  for (const { id, data } of documents) {
    if (!PUSH_TARGET_IDS.includes(id)) continue;
    const parsed = pushTargetSchema.safeParse(data);
    if (parsed.success && isPushTargetLive(parsed.data, nowMillis)) usable.push({ id, target: parsed.data });
  }
  return usable;
}
