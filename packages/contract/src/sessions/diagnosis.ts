// What a `permission-denied` on a signaling write means, from one read of the document the write
// touched: the device's own earlier write resent after a lost acknowledgement (a success), a call
// that moved on, a limit, a device clock too far off, anonymous callers switched off, or a write
// the contract does not allow (a bug in the app's field map). Pure: the web client runs this
// code, and conformance/refusal-diagnosis.json holds the same decisions as vectors.
import { CREATE_EXPIRY, RING_SECONDS, type Role } from "./constants.js";
import { CALL_LIMITS, callHasEnded, callsPerMinuteRetryAt, callsPerMinuteSentence, liveCallsSentence, type KnownCallLimits } from "./limits.js";
import type { CandidateEntry } from "./model.js";

/** The writes of the protocol that the rules may refuse. */
export const REFUSED_WRITES = ["dial", "answer", "append", "restart", "restart-request", "connectivity", "end-request"] as const;
/** A write of the protocol that the rules may refuse. */
export type RefusedWrite = (typeof REFUSED_WRITES)[number];

/** What each write carried that tells its own repeat apart. */
export type RefusedWriteSent =
  /** The dial batch; the read is of the new session. */
  | { write: "dial"; sent: { callerId: string; offerSdp: string } }
  /** The answer batch; the read is of the session. */
  | { write: "answer"; sent: { answerSdp: string } }
  /** An append to this side's candidates document; the read is of that document. */
  | { write: "append"; sent: { entries: CandidateEntry[] } }
  /** An ICE restart of this side's candidates document; the read is of that document. */
  | { write: "restart"; sent: { generation: number; sdp: string } }
  /** The callee's restart request; the read is of its candidates document. */
  | { write: "restart-request"; sent: { generation: number } }
  /** The connectivity report or an end request; the read is of the session. */
  | { write: "connectivity" | "end-request"; sent: Record<string, never> };

/** The one read from the server after the refusal. `permission-denied`: the rules refused the read too (they do for a session that is gone). */
export interface RefusalRead {
  outcome: "found" | "missing" | "permission-denied";
  /** The document's fields when found; timestamps as epoch ms or Firestore timestamps. */
  data?: Record<string, unknown>;
}

/** Everything `diagnoseRefusal` needs. */
export type RefusalInput = RefusedWriteSent & {
  role: Role;
  read: RefusalRead;
  /**
   * Dial only, after the limits document was read and the dial retried: what the device knows
   * (`live` holding only the entries whose calls have not ended). Absent on the first refusal.
   */
  limits?: KnownCallLimits;
  /** The ID token's `firebase.sign_in_provider` (`anonymous` for a guest). */
  signInProvider?: string;
  deviceNowMillis: number;
  /** The server's time as estimated from a TURN credential (`serverTimeOfCredential`), when the app has one. */
  serverNowMillis?: number;
};

/** Why the rules refused a write. */
export const REFUSAL_CAUSES = [
  "own-repeat",
  "call-ended",
  "answered-elsewhere",
  "ring-deadline-passed",
  "limits-stale",
  "too-many-live-calls",
  "too-many-calls-per-minute",
  "anonymous-callers-refused",
  "device-clock-off",
  "not-allowed",
] as const;
/** Why the rules refused a write. */
export type RefusalCause = (typeof REFUSAL_CAUSES)[number];

/**
 * What to do: `continue` as if the write succeeded (it did, or what it asked for is done),
 * `retry-once` after reading the limits document afresh, `show` the sentence (the write failed).
 */
export type RefusalNext = "continue" | "retry-once" | "show";

/** A refusal explained. */
export interface RefusalDiagnosis {
  cause: RefusalCause;
  then: RefusalNext;
  /** The reference English sentence to show (absent when there is nothing to show). */
  sentence?: string;
}

const DOING: Record<RefusedWrite, string> = {
  dial: "start the call",
  answer: "answer the call",
  append: "send ICE candidates",
  restart: "restart ICE",
  "restart-request": "ask for an ICE restart",
  connectivity: "report the connection",
  "end-request": "end the call",
};

const HOUR_MS = 3_600_000;

/** `value` as epoch ms: a number, or anything with `toMillis()`; else undefined. */
function millisOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "object" && value !== null && typeof (value as { toMillis?: unknown }).toMillis === "function") return (value as { toMillis(): number }).toMillis();
  return undefined;
}

/** `value[key]` when `value` is a map, else undefined. */
function fieldOf(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function sameEntry(held: unknown, entry: CandidateEntry): boolean {
  return (
    fieldOf(held, "candidate") === entry.candidate &&
    fieldOf(held, "sdpMid") === entry.sdpMid &&
    fieldOf(held, "sdpMLineIndex") === entry.sdpMLineIndex &&
    (fieldOf(held, "usernameFragment") ?? null) === (entry.usernameFragment ?? null)
  );
}

/** Whether the document as read already holds what the refused write carried: the SDK resent a write that had landed. */
function isOwnRepeat(given: RefusalInput, data: Record<string, unknown>): boolean {
  switch (given.write) {
    case "dial":
      return data.caller_id === given.sent.callerId && fieldOf(data.offer, "sdp") === given.sent.offerSdp;
    case "answer":
      return fieldOf(data.answer, "sdp") === given.sent.answerSdp;
    case "append": {
      const held = data.candidates;
      return Array.isArray(held) && given.sent.entries.every((entry) => held.some((other) => sameEntry(other, entry)));
    }
    case "restart":
      return data.generation === given.sent.generation && fieldOf(data.description, "sdp") === given.sent.sdp;
    case "restart-request":
      return typeof data.restart_request === "number" && data.restart_request >= given.sent.generation;
    case "connectivity":
      return fieldOf(data.connectivity, "by") === given.role;
    case "end-request":
      return fieldOf(data.end_request, "by") === given.role;
  }
}

/**
 * How far the device clock is off the server's, in ms (device − server), when that puts the
 * `expire_at` it writes at create (device + `CREATE_EXPIRY.clientSeconds`) outside what the
 * rules accept (server + `minSeconds` … + `maxSeconds`): more than 23 h ahead or 24 h behind.
 */
function clockOffsetOutOfRange(given: RefusalInput): number | undefined {
  if (given.serverNowMillis === undefined) return undefined;
  const offset = given.deviceNowMillis - given.serverNowMillis;
  const expiresIn = CREATE_EXPIRY.clientSeconds * 1_000 + offset;
  return expiresIn < CREATE_EXPIRY.minSeconds * 1_000 || expiresIn > CREATE_EXPIRY.maxSeconds * 1_000 ? offset : undefined;
}

function show(cause: RefusalCause, sentence: string): RefusalDiagnosis {
  return { cause, then: "show", sentence };
}

function clockSentence(offset: number): string {
  const hours = Math.round(Math.abs(offset) / HOUR_MS);
  return `This device's clock is about ${hours} hours ${offset > 0 ? "ahead of" : "behind"} the server's, so Firestore refuses the expiry time this app writes; set the device to the correct time (automatic date and time) and try again.`;
}

function notAllowed(write: RefusedWrite): RefusalDiagnosis {
  return show(
    "not-allowed",
    `Firestore refused to ${DOING[write]}, and neither the call's state nor the limits explain it: compare the fields this app writes with the field tables in docs/signaling.md (a wrong name, a wrong type or an extra key is refused).`,
  );
}

function callEnded(write: RefusedWrite): RefusalDiagnosis {
  // Ending a call, or reporting on one, that has ended asked for nothing that is not done.
  if (write === "end-request" || write === "connectivity") return { cause: "call-ended", then: "continue" };
  if (write === "answer") return show("call-ended", "The call ended before it was answered: the caller hung up or gave up.");
  return show("call-ended", `The call had already ended, so Firestore refused to ${DOING[write]}.`);
}

function diagnoseDial(given: RefusalInput & { write: "dial" }): RefusalDiagnosis {
  const offset = clockOffsetOutOfRange(given);
  if (offset !== undefined) return show("device-clock-off", clockSentence(offset));
  if (!given.limits) return { cause: "limits-stale", then: "retry-once" };
  const retryAt = callsPerMinuteRetryAt(given.limits.recent, given.deviceNowMillis);
  if (retryAt !== undefined) return show("too-many-calls-per-minute", callsPerMinuteSentence(retryAt, given.deviceNowMillis));
  if (Object.keys(given.limits.live).length >= CALL_LIMITS.maxLiveCalls) return show("too-many-live-calls", liveCallsSentence());
  if (given.signInProvider === "anonymous") return show("anonymous-callers-refused", "This app does not let guest (anonymous) accounts start calls; sign in with an account to call.");
  return notAllowed("dial");
}

/**
 * Why the rules refused a write, from the one read of the document it touched (the session for
 * the dial, the answer, the connectivity report and an end request; this side's candidates
 * document for an append, an ICE restart and a restart request), checked in this order:
 * 1. `own-repeat` (continue): the document already holds what the write carried.
 * 2. Dial: `device-clock-off` when the server time is known and the device clock is more than
 *    23 h ahead or 24 h behind it; `limits-stale` (retry once) on the first refusal; after the
 *    retry, `too-many-calls-per-minute`, `too-many-live-calls`, `anonymous-callers-refused`
 *    (a guest account: the rules may switch them off), else `not-allowed`.
 * 3. `call-ended`: the document is missing (or its read refused), or the session has ended
 *    (`callHasEnded`); for an end request or a connectivity report that is what was asked (continue).
 * 4. Answer: `answered-elsewhere` (the session holds another answer), `ring-deadline-passed`
 *    (server time, or the device's when unknown, past `created_at + ring_seconds`),
 *    `device-clock-off`, else `not-allowed`.
 * 5. Anything else: `not-allowed` — a bug in the app's field map.
 */
export function diagnoseRefusal(given: RefusalInput): RefusalDiagnosis {
  const { read } = given;
  if (read.outcome === "found" && read.data && isOwnRepeat(given, read.data)) return { cause: "own-repeat", then: "continue" };
  if (given.write === "dial") return diagnoseDial(given);
  if (read.outcome !== "found" || !read.data) return callEnded(given.write);
  const data = read.data;
  const now = given.serverNowMillis ?? given.deviceNowMillis;
  const sessionRead = given.write === "answer" || given.write === "connectivity" || given.write === "end-request";
  if (!sessionRead) return notAllowed(given.write);
  const expireAt = millisOf(data.expire_at);
  if (callHasEnded({ status: data.status, end_request: data.end_request, ...(expireAt === undefined ? {} : { expire_at: { toMillis: () => expireAt } }) }, now)) return callEnded(given.write);
  if (given.write !== "answer") return notAllowed(given.write);
  if (isSet(data.answer)) return show("answered-elsewhere", "The call was answered on another device.");
  const createdAt = millisOf(data.created_at);
  const ringSeconds = typeof data.ring_seconds === "number" ? data.ring_seconds : RING_SECONDS.default;
  if (createdAt !== undefined && now >= createdAt + ringSeconds * 1_000) {
    return show("ring-deadline-passed", "The call stopped ringing before it was answered: its ring deadline had passed.");
  }
  const offset = clockOffsetOutOfRange(given);
  if (offset !== undefined) return show("device-clock-off", clockSentence(offset));
  return notAllowed("answer");
}
