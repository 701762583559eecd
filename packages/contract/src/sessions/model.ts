// The signaling contract shared by the functions, the security rules and every client
// (web imports this file; Android and iOS mirror it from docs/signaling.md). Pure TypeScript:
// no Firebase import, so a browser bundle and a unit test can load it as is.
import { z } from "zod";
import {
  SDP_MID_PATTERN,
  UID_PATTERN,
  USERNAME_FRAGMENT_PATTERN,
  candidateLineProblem,
  sdpProblem,
  wholeMatch,
} from "./validation.js";

import {
  CANDIDATES_COLLECTION,
  CREATE_EXPIRY,
  ENDED_REASONS,
  END_REQUEST_REASONS,
  ICE_RESTART,
  LIMITS,
  RING_SECONDS,
  ROLES,
  SESSIONS_COLLECTION,
  SESSION_STATUSES,
  type EndRequestReason,
  type Role,
} from "./constants.js";

export * from "./constants.js";

/** Anything with `toMillis()`: a Firestore `Timestamp` from the web, admin or native SDKs. */
export interface TimestampLike {
  toMillis(): number;
}

/** A Firestore timestamp (anything with `toMillis()`). */
export const timestampSchema = z.custom<TimestampLike>(
  (value) => typeof value === "object" && value !== null && typeof (value as { toMillis?: unknown }).toMillis === "function",
  { error: "must be a Firestore timestamp" },
);

/** A Firebase Auth uid: `UID_PATTERN` (min and max only make the refusal precise). */
export const uidSchema = z
  .string({ error: "must be a Firebase Auth uid (a string)" })
  .min(1, { error: "must not be empty" })
  .max(LIMITS.maxUidLength, { error: `must be at most ${LIMITS.maxUidLength} characters` })
  .regex(wholeMatch(UID_PATTERN), { error: "must be made of A-Z, a-z, 0-9, _ and - (the Firebase Auth uid alphabet)" });

function descriptionSchema<T extends "offer" | "answer">(type: T) {
  return z
    .strictObject({
      type: z.literal(type, { error: `type must be "${type}"` }),
      sdp: z.string({ error: "sdp must be a string" }),
    })
    .superRefine((value, context) => {
      const problem = sdpProblem(value.sdp);
      if (problem) context.addIssue({ code: "custom", path: ["sdp"], message: problem });
    });
}

/** The caller's `offer`: `{ type: "offer", sdp }`, a plausible, bounded WebRTC SDP. */
export const offerSchema = descriptionSchema("offer");
/** The callee's `answer`: `{ type: "answer", sdp }`. */
export const answerSchema = descriptionSchema("answer");
/** An offer or answer as stored. */
export type SessionDescription<T extends "offer" | "answer" = "offer" | "answer"> = { type: T; sdp: string };

/** One entry of a candidates document: a `candidate:` line, or `""` meaning end-of-candidates. */
export const candidateEntrySchema = z
  .strictObject({
    candidate: z.string({ error: "candidate must be a string" }),
    sdpMid: z
      .string({ error: "sdpMid must be a string or null" })
      .max(LIMITS.maxSdpMidLength, { error: `sdpMid must be at most ${LIMITS.maxSdpMidLength} characters` })
      .regex(wholeMatch(SDP_MID_PATTERN), { error: "sdpMid must be made of A-Z, a-z, 0-9 and ! # $ % * + - . ^ _ | ~" })
      .nullable(),
    sdpMLineIndex: z
      .number({ error: "sdpMLineIndex must be a whole number or null" })
      .int({ error: "sdpMLineIndex must be a whole number or null" })
      .min(0, { error: "sdpMLineIndex must not be negative" })
      .max(LIMITS.maxSdpMLineIndex, { error: `sdpMLineIndex must be at most ${LIMITS.maxSdpMLineIndex}` })
      // Firestore stores -0 as a double, which the rules' `is int` refuses.
      .refine((index) => !Object.is(index, -0), { error: "sdpMLineIndex must be a whole number or null, not -0" })
      .nullable(),
    // RTCIceCandidate.toJSON() (the spec's and libwebrtc's) includes it; optional, may be null.
    usernameFragment: z
      .string({ error: "usernameFragment must be a string or null" })
      .regex(wholeMatch(USERNAME_FRAGMENT_PATTERN), {
        error: `usernameFragment must be 1 to ${LIMITS.maxUsernameFragmentLength} characters of A-Z, a-z, 0-9, + and /`,
      })
      .nullable()
      .optional(),
  })
  .superRefine((entry, context) => {
    const problem = candidateLineProblem(entry.candidate);
    if (problem) context.addIssue({ code: "custom", path: ["candidate"], message: problem });
    if (entry.candidate !== "" && entry.sdpMid === null && entry.sdpMLineIndex === null) {
      context.addIssue({ code: "custom", path: ["sdpMid"], message: "a candidate needs sdpMid or sdpMLineIndex" });
    }
  });
/** One ICE candidate (or end-of-candidates marker), ready for `RTCPeerConnection.addIceCandidate`. */
export type CandidateEntry = z.infer<typeof candidateEntrySchema>;

/** A batch of 1–6 entries a participant appends (with `arrayUnion`) to its own candidates document. */
export const candidateBatchSchema = z
  .array(candidateEntrySchema, { error: "candidates must be an array" })
  .min(1, { error: "a batch holds at least one entry" })
  .max(LIMITS.maxCandidatesPerWrite, { error: `a batch holds at most ${LIMITS.maxCandidatesPerWrite} entries; send the rest in another write` });

/** What the caller supplies to create a session; `sessionCreateFields` turns it into the document. */
export const sessionCreateInputSchema = z
  .strictObject({
    caller_id: uidSchema,
    callee_id: uidSchema,
    offer: offerSchema,
    ring_seconds: z
      .number({ error: "ring_seconds must be a whole number of seconds" })
      .int({ error: "ring_seconds must be a whole number of seconds" })
      .min(RING_SECONDS.min, { error: `ring_seconds must be at least ${RING_SECONDS.min}` })
      .max(RING_SECONDS.max, { error: `ring_seconds must be at most ${RING_SECONDS.max}` })
      .default(RING_SECONDS.default),
  })
  .refine((input) => input.caller_id !== input.callee_id, {
    path: ["callee_id"],
    message: "callee_id must be a different user than caller_id",
  });
/** What the caller supplies to create a session (`ring_seconds` may be left out). */
export type SessionCreateInput = z.input<typeof sessionCreateInputSchema>;

/** The connectivity report a participant writes once ICE is connected. */
export interface ConnectivityReport<T = TimestampLike> {
  by: Role;
  at: T;
}
/** The end request a participant writes to hang up, reject, cancel… */
export interface EndRequest<T = TimestampLike> {
  by: Role;
  reason: EndRequestReason;
  at: T;
}
/** A transition the server refused, recorded on the session. */
export interface SessionError {
  code: string;
  message: string;
}

/** The `expire_at` a client writes at create: its own clock plus `CREATE_EXPIRY.clientSeconds`. */
export function createExpiry(nowMillis: number): Date {
  return new Date(nowMillis + CREATE_EXPIRY.clientSeconds * 1_000);
}

/**
 * The session document a client creates; `serverTime` is the SDK's `serverTimestamp()` and
 * `nowMillis` the device clock. `answer` and `end_request` start as explicit nulls so that
 * the callee's incoming-calls query can select calls nobody has answered or ended yet.
 */
export function sessionCreateFields<T>(input: SessionCreateInput, serverTime: T, nowMillis: number) {
  return {
    caller_id: input.caller_id,
    callee_id: input.callee_id,
    status: "pending" as const,
    offer: { type: "offer" as const, sdp: input.offer.sdp },
    answer: null,
    end_request: null,
    ring_seconds: input.ring_seconds ?? RING_SECONDS.default,
    created_at: serverTime,
    updated_at: serverTime,
    expire_at: createExpiry(nowMillis),
  };
}

/**
 * A participant's own candidates document, created by the caller in the same batch as the
 * session and by the callee in the same batch as its answer, holding what was gathered so far
 * (0 to `LIMITS.maxCandidatesPerWrite` entries).
 */
export function candidatesCreateFields<T>(
  session: { caller_id: string; callee_id: string },
  sender: Role,
  entries: CandidateEntry[],
  serverTime: T,
  nowMillis: number,
) {
  return {
    sender,
    caller_id: session.caller_id,
    callee_id: session.callee_id,
    candidates: entries,
    created_at: serverTime,
    expire_at: createExpiry(nowMillis),
  };
}

/** The ICE generation a candidates document is in: `generation`, absent (0) before any ICE restart. */
export function generationOf(document: { generation?: unknown }): number {
  return typeof document.generation === "number" ? document.generation : 0;
}

/**
 * The update of a side's own candidates document that moves it to ICE generation `generation`
 * (1…`ICE_RESTART.maxGeneration`): the caller's restart offer or the callee's answer to it, and
 * the first 0–6 entries of the new generation, replacing the previous generation's entries.
 */
export function restartFields(sender: Role, generation: number, sdp: string, entries: CandidateEntry[]) {
  return {
    generation,
    description: { type: sender === "caller" ? ("offer" as const) : ("answer" as const), sdp },
    candidates: entries,
  };
}

/** The update with which the callee asks the caller to restart ICE into `generation`. */
export function restartRequestFields(generation: number) {
  return { restart_request: generation };
}

/** An ICE generation a restart may move to: 1…`ICE_RESTART.maxGeneration`. */
export const restartGenerationSchema = z
  .number({ error: "generation must be a whole number" })
  .int({ error: "generation must be a whole number" })
  .min(1, { error: "generation must be at least 1 (0 is the call's first negotiation)" })
  .max(ICE_RESTART.maxGeneration, { error: `a call restarts ICE at most ${ICE_RESTART.maxGeneration} times` });

/**
 * A restart write as the rules accept it, for `sender`: the next generation, the offer (caller)
 * or answer (callee) of that generation, and 0–6 entries of it.
 */
export function restartWriteSchema(sender: Role) {
  return z.strictObject({
    generation: restartGenerationSchema,
    description: sender === "caller" ? offerSchema : answerSchema,
    candidates: z
      .array(candidateEntrySchema, { error: "candidates must be an array" })
      .max(LIMITS.maxCandidatesPerWrite, { error: `a restart write holds at most ${LIMITS.maxCandidatesPerWrite} entries; send the rest in another write` }),
  });
}

/** The update with which the callee answers. */
export function answerFields(answer: SessionDescription<"answer">) {
  return { answer: { type: "answer" as const, sdp: answer.sdp } };
}

/** The update reporting that ICE connected. */
export function connectivityFields<T>(by: Role, serverTime: T) {
  return { connectivity: { by, at: serverTime } };
}

/** The update asking the server to end the call (written with the deletion of the sender's own candidates document). */
export function endRequestFields<T>(by: Role, reason: EndRequestReason, serverTime: T) {
  return { end_request: { by, reason, at: serverTime } };
}

/** When an unanswered call stops ringing: `created_at` plus `ring_seconds` (server time, epoch ms). */
export function ringDeadlineMillis(session: { created_at: TimestampLike; ring_seconds: number }): number {
  return session.created_at.toMillis() + session.ring_seconds * 1_000;
}

/** `"caller"` or `"callee"`. */
export const roleSchema = z.enum(ROLES, { error: `must be "caller" or "callee"` });

/** A session document as clients read it (read snapshots with `serverTimestamps: "estimate"`). */
export const sessionSchema = z
  .object({
    caller_id: uidSchema,
    callee_id: uidSchema,
    status: z.enum(SESSION_STATUSES, { error: `status must be one of ${SESSION_STATUSES.join(", ")}` }),
    offer: offerSchema.optional(),
    answer: answerSchema.nullish(),
    connectivity: z.object({ by: roleSchema, at: timestampSchema }).nullish(),
    end_request: z
      .object({ by: roleSchema, reason: z.enum(END_REQUEST_REASONS), at: timestampSchema })
      .nullish(),
    // Sessions created before ring_seconds existed ring for the default.
    ring_seconds: z.number().int().min(RING_SECONDS.min).max(RING_SECONDS.max).default(RING_SECONDS.default),
    created_at: timestampSchema,
    updated_at: timestampSchema,
    ended_at: timestampSchema.optional(),
    ended_reason: z.enum(ENDED_REASONS).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    expire_at: timestampSchema.optional(),
  })
  .superRefine((session, context) => {
    const rank = SESSION_STATUSES.indexOf(session.status);
    if (session.status !== "ended" && !session.offer) {
      context.addIssue({ code: "custom", path: ["offer"], message: `a session in state ${session.status} has an offer` });
    }
    if (session.status !== "ended" && rank >= 2 && !session.answer) {
      context.addIssue({ code: "custom", path: ["answer"], message: `a session in state ${session.status} has an answer` });
    }
    if (session.status === "ended" && (!session.ended_at || !session.ended_reason)) {
      context.addIssue({ code: "custom", path: ["ended_reason"], message: "an ended session has ended_at and ended_reason" });
    }
  });
/** A session document as read. */
export type Session = z.infer<typeof sessionSchema>;

/** A candidates document as clients read it. */
export const candidateDocumentSchema = z.object({
  sender: roleSchema,
  caller_id: uidSchema,
  callee_id: uidSchema,
  candidates: z.array(candidateEntrySchema).max(LIMITS.maxCandidatesPerSide),
  created_at: timestampSchema,
  expire_at: timestampSchema,
  generation: z.number().int().min(0).max(ICE_RESTART.maxGeneration).default(0),
  description: z.union([offerSchema, answerSchema]).nullish(),
  restart_request: restartGenerationSchema.optional(),
});
/** A candidates document as read. */
export type CandidateDocument = z.infer<typeof candidateDocumentSchema>;

/** Path of a session document. */
export function sessionPath(sessionId: string): string {
  return `${SESSIONS_COLLECTION}/${sessionId}`;
}

/** Path of one side's candidates document; its id is the sender's role. */
export function candidatesPath(sessionId: string, sender: Role): string {
  return `${SESSIONS_COLLECTION}/${sessionId}/${CANDIDATES_COLLECTION}/${sender}`;
}

/** The other participant. */
export function peerOf(role: Role): Role {
  return role === "caller" ? "callee" : "caller";
}

/**
 * Turns a zod error into one sentence naming the field, e.g.
 * `offer.sdp: sdp is 40000 characters long; at most 32768 are accepted.`
 */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "the data does not match the signaling contract.";
  const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return `${where}${issue.message}`;
}
