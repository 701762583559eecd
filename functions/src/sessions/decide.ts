// What the server does with a session: given the document as it is now, the trigger and the
// sweep ask these functions for the one write (or none) that records it. Participants move a
// call along with their own fields and never wait for the server, so a decision reads how far
// those fields show the call has got and brings `status` up to it, in one write, however many
// steps behind the record is. Decisions look at the current document only, never at how it got
// there, so a redelivered, reordered or late event converges on the same state.
import { z } from "zod";
import {
  END_REQUEST_REASONS,
  RING_SECONDS,
  SESSION_STATUSES,
  answerSchema,
  describeIssues,
  offerSchema,
  roleSchema,
  timestampSchema,
  uidSchema,
  type EndedReason,
  type LiveStatus,
  type SessionError,
  type SessionStatus,
  type Timeouts,
  expireAtMillis,
  isStale,
  ringEndsAtMillis,
} from "@webrtc-lite/contract";
import { reachedPhase, statusRank, transition, type CallPhase, type SessionEvent } from "./transitions";

/** Fields participants write that the server resets to null when it refuses them. */
export type ParticipantField = "answer" | "connectivity" | "end_request";

/** The server-owned fields a decision sets (times in epoch milliseconds) and the participant fields it resets. */
export interface SessionPatch {
  status?: SessionStatus;
  updated_at?: number;
  ended_at?: number;
  ended_reason?: EndedReason;
  expire_at?: number;
  error?: SessionError;
  reset?: ParticipantField[];
}

/** One write to a session and what happens to its candidate documents in the same batch. */
export type SessionWrite =
  | { kind: "transition"; event: string; from: SessionStatus | "invalid"; to: SessionStatus; patch: SessionPatch; candidates: "delete" | "keep" }
  | { kind: "refusal"; status: SessionStatus; patch: SessionPatch; refused: SessionError };

/** What to do with a session: nothing (and why), or one write. */
export type Decision = { kind: "none"; why: string } | SessionWrite;

const timestampMillis = timestampSchema.transform((value) => value.toMillis());

const coreSchema = z
  .object({
    caller_id: uidSchema,
    callee_id: uidSchema,
    status: z.enum(SESSION_STATUSES),
    offer: offerSchema,
    created_at: timestampMillis,
    updated_at: timestampMillis,
    ring_seconds: z.number().int().min(RING_SECONDS.min).max(RING_SECONDS.max).default(RING_SECONDS.default),
  })
  .refine((core) => core.caller_id !== core.callee_id, { path: ["callee_id"], message: "caller and callee are the same user" });

const connectivitySchema = z.strictObject({ by: roleSchema, at: timestampMillis });
const endRequestSchema = z.strictObject({ by: roleSchema, reason: z.enum(END_REQUEST_REASONS), at: timestampMillis });

type Core = z.infer<typeof coreSchema>;

/**
 * Decides the trigger's write for a session document that was just written (`undefined` when
 * it was deleted). `nowMillis` stamps `updated_at`, `ended_at` and `expire_at`.
 */
export function decideAfterWrite(data: Record<string, unknown> | undefined, nowMillis: number, timeouts: Timeouts): Decision {
  if (data === undefined) return { kind: "none", why: "the session was deleted" };
  if (data.status === "ended") return { kind: "none", why: "the session has ended" };
  const core = coreSchema.safeParse(data);
  if (!core.success) {
    return endInvalid(`the session document is invalid: ${describeIssues(core.error)}`, nowMillis, timeouts);
  }
  return catchUp(data, core.data, nowMillis, timeouts);
}

/**
 * Decides the sweep's write for a session its queries found: first whatever the trigger has
 * not recorded yet; then, for a live session whose record is up to date, the end of one that
 * rang past its deadline or outstayed its state's timeout.
 */
export function decideStale(data: Record<string, unknown>, nowMillis: number, timeouts: Timeouts): Decision {
  if (data.status === "ended") return { kind: "none", why: "the session has ended" };
  const core = coreSchema.safeParse(data);
  if (!core.success) {
    return endInvalid(`the session document is invalid: ${describeIssues(core.error)}`, nowMillis, timeouts);
  }
  const session = core.data;
  const pending = catchUp(data, session, nowMillis, timeouts);
  if (pending.kind === "refusal" || (pending.kind === "transition" && pending.to === "ended")) return pending;
  const recorded = (pending.kind === "transition" ? pending.to : session.status) as LiveStatus;
  const stale =
    recorded === "offered" || recorded === "pending"
      ? nowMillis >= ringEndsAtMillis(session.created_at, session.ring_seconds, timeouts)
      : // A state the sweep itself is about to record was entered just now.
        pending.kind === "none" && isStale(recorded, session.updated_at, nowMillis, timeouts);
  if (!stale) return pending.kind === "none" ? { kind: "none", why: `${recorded} and within its timeout` } : pending;
  return end(session.status as LiveStatus, { kind: "timeout" }, nowMillis, timeouts);
}

interface Accepted {
  ok: true;
  field: ParticipantField;
  event: SessionEvent;
}
interface Refused {
  ok: false;
  field: ParticipantField;
  error: SessionError;
}

// Brings the record up to what the participants' fields show, in one write.
function catchUp(data: Record<string, unknown>, session: Core, nowMillis: number, timeouts: Timeouts): Decision {
  const status = session.status as LiveStatus;
  // Refusals first: a field that does not fit must go before it can count.
  const judged = judgeParticipantFields(data);
  const refusals = judged.filter((judgement): judgement is Refused => !judgement.ok);
  if (refusals.length > 0) {
    return {
      kind: "refusal",
      status,
      refused: refusals[0].error,
      patch: { error: refusals[0].error, reset: refusals.map((refusal) => refusal.field) },
    };
  }
  const endEvent = (judged as Accepted[]).map((judgement) => judgement.event).find((event) => event.kind === "end");
  if (endEvent?.kind === "end") return end(status, endEvent, nowMillis, timeouts);
  const reached = reachedPhase(data);
  if (statusRank(reached) <= statusRank(status)) return { kind: "none", why: `${status}: ${WAITING_FOR[reached]}` };
  return {
    kind: "transition",
    event: `${reached} (from the participants' fields)`,
    from: status,
    to: reached,
    patch: stamp(reached, nowMillis, timeouts),
    candidates: "keep",
  };
}

const WAITING_FOR: Readonly<Record<CallPhase, string>> = Object.freeze({
  offered: "waiting for the callee's answer",
  answered: "waiting for a connectivity report",
  connected: "waiting for the end of the call",
});

// Each participant field is judged against the phase the other fields show, so the verdict is
// the same however often and however late the document is looked at.
function judgeParticipantFields(data: Record<string, unknown>): Array<Accepted | Refused> {
  const judged: Array<Accepted | Refused> = [];
  let answered = false;
  if (data.answer !== undefined && data.answer !== null) {
    const answer = answerSchema.safeParse(data.answer);
    answered = answer.success;
    judged.push(
      answer.success
        ? { ok: true, field: "answer", event: { kind: "answer", by: "callee" } }
        : refused("answer", "invalid-answer", `the answer is invalid: ${describeIssues(answer.error)}`),
    );
  }
  let connected = false;
  if (data.connectivity !== undefined && data.connectivity !== null) {
    const report = connectivitySchema.safeParse(data.connectivity);
    if (report.success) {
      const verdict = judge("connectivity", answered ? "answered" : "offered", { kind: "connectivity", by: report.data.by });
      connected = verdict.ok;
      judged.push(verdict);
    } else {
      judged.push(refused("connectivity", "invalid-connectivity", `the connectivity report is invalid: ${describeIssues(report.error)}`));
    }
  }
  if (data.end_request !== undefined && data.end_request !== null) {
    const request = endRequestSchema.safeParse(data.end_request);
    const phase: CallPhase = connected ? "connected" : answered ? "answered" : "offered";
    judged.push(
      request.success
        ? judge("end_request", phase, { kind: "end", by: request.data.by, reason: request.data.reason })
        : refused("end_request", "invalid-end-request", `the end request is invalid: ${describeIssues(request.error)}`),
    );
  }
  return judged;
}

function judge(field: ParticipantField, phase: CallPhase, event: SessionEvent): Accepted | Refused {
  const result = transition(phase, event);
  return result.ok ? { ok: true, field, event } : refused(field, result.code, result.message);
}

function refused(field: ParticipantField, code: string, message: string): Refused {
  return { ok: false, field, error: { code, message } };
}

function stamp(to: SessionStatus, nowMillis: number, timeouts: Timeouts): SessionPatch {
  return { status: to, updated_at: nowMillis, expire_at: expireAtMillis(to, nowMillis, timeouts) };
}

// Ends a live session: on a participant's end request (its reason) or a timeout.
function end(
  from: LiveStatus,
  event: Extract<SessionEvent, { kind: "end" }> | { kind: "timeout" },
  nowMillis: number,
  timeouts: Timeouts,
): SessionWrite {
  const reason: EndedReason = event.kind === "end" ? event.reason : "timeout";
  return {
    kind: "transition",
    event: event.kind === "end" ? `end requested by the ${event.by} (${event.reason})` : "timeout",
    from,
    to: "ended",
    patch: { ...stamp("ended", nowMillis, timeouts), ended_at: nowMillis, ended_reason: reason },
    candidates: "delete",
  };
}

function endInvalid(message: string, nowMillis: number, timeouts: Timeouts): SessionWrite {
  const error = { code: "invalid-session", message };
  return {
    kind: "transition",
    event: "invalid",
    from: "invalid",
    to: "ended",
    patch: { ...stamp("ended", nowMillis, timeouts), ended_at: nowMillis, ended_reason: "error", error },
    candidates: "delete",
  };
}
