// What the server does with a session: given the document as it is now, the trigger and the
// sweep ask these functions for the one write (or none) that moves it along. Decisions look at
// the current document only, never at how it got there, so a redelivered event, an event for
// the server's own write, or events handled out of order all converge on the same state.
import { z } from "zod";
import {
  ROLES,
  SESSION_STATUSES,
  answerSchema,
  describeIssues,
  offerSchema,
  roleSchema,
  timestampSchema,
  uidSchema,
  type EndedReason,
  type LiveStatus,
  type Role,
  type SessionError,
  type SessionStatus,
  type Timeouts,
  END_REQUEST_REASONS,
} from "./model";
import { candidateExpireAtMillis, expireAtMillis, isStale } from "./timeouts";
import { STEP_RULES, transition, type SessionEvent } from "./transitions";

/** Fields participants write that the server removes when it refuses them. */
export type ParticipantField = "answer" | "connectivity" | "end_request";

/** The server-owned fields a decision sets (times in epoch milliseconds) and the fields it removes. */
export interface SessionPatch {
  status?: SessionStatus;
  updated_at?: number;
  ended_at?: number;
  ended_reason?: EndedReason;
  expire_at?: number;
  error?: SessionError;
  remove?: ParticipantField[];
}

/** A candidates document as the server creates it (times in epoch milliseconds). */
export interface NewCandidateDocument {
  sender: Role;
  caller_id: string;
  callee_id: string;
  candidates: [];
  created_at: number;
  expire_at: number;
}

/** One write to a session and what happens to its candidate documents in the same batch. */
export type SessionWrite =
  | { kind: "transition"; event: string; from: SessionStatus | "invalid"; to: SessionStatus; patch: SessionPatch; candidates: "create" | "delete" | "keep"; newCandidates?: NewCandidateDocument[] }
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
  })
  .refine((core) => core.caller_id !== core.callee_id, { path: ["callee_id"], message: "caller and callee are the same user" });

const connectivitySchema = z.strictObject({ by: roleSchema, at: timestampMillis });
const endRequestSchema = z.strictObject({ by: roleSchema, reason: z.enum(END_REQUEST_REASONS), at: timestampMillis });

type Core = z.infer<typeof coreSchema>;

/**
 * Decides the trigger's write for a session document that was just written (`undefined` when
 * it was deleted). `nowMillis` stamps `updated_at`, `ended_at` and the expiry times.
 */
export function decideAfterWrite(data: Record<string, unknown> | undefined, nowMillis: number, timeouts: Timeouts): Decision {
  if (data === undefined) return { kind: "none", why: "the session was deleted" };
  if (data.status === "ended") return { kind: "none", why: "the session has ended" };

  const core = coreSchema.safeParse(data);
  if (!core.success) {
    return endInvalid(`the session document is invalid: ${describeIssues(core.error)}`, nowMillis, timeouts);
  }
  const session = core.data;
  const status = session.status as LiveStatus;

  // Refusals first: a field written out of turn must go before it can count in a later state.
  const judged = judgeParticipantFields(data, status);
  const refusals = judged.filter((judgement): judgement is Refused => !judgement.ok);
  if (refusals.length > 0) {
    return {
      kind: "refusal",
      status,
      refused: refusals[0].error,
      patch: { error: refusals[0].error, remove: refusals.map((refusal) => refusal.field) },
    };
  }
  const accepted = judged as Accepted[];
  const endEvent = accepted.map((judgement) => judgement.event).find((event): event is EndEvent => event.kind === "end");
  if (endEvent) return end(status, endEvent, nowMillis, timeouts);
  const next = accepted[0];
  if (next) return step(status, next.event.kind, next.to, nowMillis, timeouts, { candidates: "keep" });
  if (status === "pending") {
    return step(status, "offer", STEP_RULES.offer.to, nowMillis, timeouts, {
      candidates: "create",
      newCandidates: ROLES.map((sender) => newCandidateDocument(session, sender, nowMillis, timeouts)),
    });
  }
  return { kind: "none", why: `${status}: waiting for ${WAITING_FOR[status]}` };
}

/**
 * Decides the sweep's write for a session its queries found: end a live session that outstayed
 * its state's timeout, otherwise nothing (it may have moved on since the query ran).
 */
export function decideStale(data: Record<string, unknown>, nowMillis: number, timeouts: Timeouts): Decision {
  if (data.status === "ended") return { kind: "none", why: "the session has ended" };
  const core = coreSchema.safeParse(data);
  if (!core.success) {
    return endInvalid(`the session document is invalid: ${describeIssues(core.error)}`, nowMillis, timeouts);
  }
  const status = core.data.status as LiveStatus;
  if (!isStale(status, core.data.updated_at, nowMillis, timeouts)) {
    return { kind: "none", why: `${status} and within its timeout` };
  }
  return end(status, { kind: "timeout" }, nowMillis, timeouts);
}

/** The candidates document the server creates for `sender` when a call starts ringing. */
export function newCandidateDocument(session: Pick<Core, "caller_id" | "callee_id">, sender: Role, nowMillis: number, timeouts: Timeouts): NewCandidateDocument {
  return {
    sender,
    caller_id: session.caller_id,
    callee_id: session.callee_id,
    candidates: [],
    created_at: nowMillis,
    expire_at: candidateExpireAtMillis(nowMillis, timeouts),
  };
}

const WAITING_FOR: Readonly<Record<Exclude<LiveStatus, "pending">, string>> = Object.freeze({
  offered: "the callee's answer",
  answered: "a connectivity report",
  connected: "the end of the call",
});

type EndEvent = Extract<SessionEvent, { kind: "end" }>;

interface Accepted {
  ok: true;
  field: ParticipantField;
  event: SessionEvent;
  to: SessionStatus;
}
interface Refused {
  ok: false;
  field: ParticipantField;
  error: SessionError;
}

// A participant field is judged only in the states where it can still cause a step: an answer
// in `pending`/`offered`, a connectivity report before `connected`, an end request always.
// Elsewhere it has already been consumed and is history.
function judgeParticipantFields(data: Record<string, unknown>, status: LiveStatus): Array<Accepted | Refused> {
  const judged: Array<Accepted | Refused> = [];
  if (data.answer !== undefined && (status === "pending" || status === "offered")) {
    const answer = answerSchema.safeParse(data.answer);
    judged.push(
      answer.success
        ? judge("answer", status, { kind: "answer", by: "callee" })
        : refused("answer", "invalid-answer", `the answer is invalid: ${describeIssues(answer.error)}`),
    );
  }
  if (data.connectivity !== undefined && status !== "connected") {
    const report = connectivitySchema.safeParse(data.connectivity);
    judged.push(
      report.success
        ? judge("connectivity", status, { kind: "connectivity", by: report.data.by })
        : refused("connectivity", "invalid-connectivity", `the connectivity report is invalid: ${describeIssues(report.error)}`),
    );
  }
  if (data.end_request !== undefined) {
    const request = endRequestSchema.safeParse(data.end_request);
    judged.push(
      request.success
        ? judge("end_request", status, { kind: "end", by: request.data.by, reason: request.data.reason })
        : refused("end_request", "invalid-end-request", `the end request is invalid: ${describeIssues(request.error)}`),
    );
  }
  return judged;
}

function judge(field: ParticipantField, status: SessionStatus, event: SessionEvent): Accepted | Refused {
  const result = transition(status, event);
  return result.ok ? { ok: true, field, event, to: result.to } : refused(field, result.code, result.message);
}

function refused(field: ParticipantField, code: string, message: string): Refused {
  return { ok: false, field, error: { code, message } };
}

function stamp(to: SessionStatus, nowMillis: number, timeouts: Timeouts): SessionPatch {
  return { status: to, updated_at: nowMillis, expire_at: expireAtMillis(to, nowMillis, timeouts) };
}

function step(
  from: LiveStatus,
  event: string,
  to: SessionStatus,
  nowMillis: number,
  timeouts: Timeouts,
  candidates: Pick<Extract<SessionWrite, { kind: "transition" }>, "candidates" | "newCandidates">,
): SessionWrite {
  return { kind: "transition", event, from, to, patch: stamp(to, nowMillis, timeouts), ...candidates };
}

// Ends a live session: on a participant's end request (its reason) or a timeout.
function end(from: LiveStatus, event: Extract<SessionEvent, { kind: "end" | "timeout" }>, nowMillis: number, timeouts: Timeouts): SessionWrite {
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
