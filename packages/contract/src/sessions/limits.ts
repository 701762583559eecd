// Abuse limits on placing calls, enforced by firestore.rules without a server on the call path:
// each caller keeps one document, `call_limits/{uid}`, that it rewrites in the same batch that
// creates a session, and the rules check the session against that document as the batch
// leaves it (getAfter), the well-known throttle pattern. The document holds
//   - `live`:   callee uid → the session id of the caller's latest call to them. An entry is
//               replaced or removed only once its call has ended (the rules read that session),
//               so a caller has at most `maxLiveCalls` live calls, and one per callee;
//   - `recent`: slot "0".."n-1" → the server time of a create. A create overwrites one slot, and
//               only a slot written at least a minute ago, so no minute holds more than n creates.
// Pure: the web client, the test clients and the unit tests run this code; Android and iOS
// follow the same steps from docs/signaling.md.
import { z } from "zod";
import { RING_DEADLINE, RING_SECONDS, timestampSchema, uidSchema, type EndRequestReason, type TimestampLike } from "./model.js";
import { wholeMatch } from "./validation.js";

/** Collection of the per-caller limits documents; the document id is the caller's uid. */
export const CALL_LIMITS_COLLECTION = "call_limits";

/**
 * The limits; firestore.rules holds the same numbers in its settings functions (a unit test
 * keeps them in step). Raising `maxLiveCalls` in the rules alone is safe for deployed clients;
 * `callsPerMinute` is also the number of slots clients choose from, so change it in both.
 */
export const CALL_LIMITS = Object.freeze({
  /** Most calls one user may have live (ringing, answered or connected) as the caller. */
  maxLiveCalls: 3,
  /** Most sessions one user may create in any window of `windowSeconds`. */
  callsPerMinute: 10,
  /** The window of `callsPerMinute`. */
  windowSeconds: 60,
  /** How many `live` entries one write may replace or remove: the rules read each one's session. */
  maxReleasedPerWrite: 6,
} as const);

/** A session id as clients make them (Firestore auto-ids are 20 of these characters); firestore.rules carries this very pattern. */
export const SESSION_ID_PATTERN = "[A-Za-z0-9_-]{1,128}";

/** A session id in the limits document. */
export const sessionIdSchema = z
  .string({ error: "must be a session id (a string)" })
  .regex(wholeMatch(SESSION_ID_PATTERN), { error: "must be 1 to 128 characters of A-Z, a-z, 0-9, _ and -" });

/** A slot name: "0" to `callsPerMinute - 1`. */
export function slotNames(callsPerMinute: number = CALL_LIMITS.callsPerMinute): string[] {
  return Array.from({ length: callsPerMinute }, (_, index) => String(index));
}

/** The limits document as read (timestamps as the SDK gives them). */
export const callLimitsDocumentSchema = z.object({
  live: z.record(uidSchema, sessionIdSchema),
  recent: z.record(z.string(), timestampSchema),
  slot: z.string(),
  session_id: sessionIdSchema,
  callee_id: uidSchema,
});
/** The limits document as read. */
export type CallLimitsDocument = z.infer<typeof callLimitsDocumentSchema>;

/**
 * What a client knows of its own limits document: the `live` map and, per slot, when it was
 * last written (epoch ms; only their order matters). Empty when it has not read or written it yet.
 */
export interface KnownCallLimits {
  live: Record<string, string>;
  recent: Record<string, number>;
}

/** Knowledge of nothing: a client that has neither read nor written its limits document yet. */
export function unknownCallLimits(): KnownCallLimits {
  return { live: {}, recent: {} };
}

/** What a client knows after reading its limits document (`undefined`: it does not exist). */
export function knownFromDocument(document: CallLimitsDocument | undefined): KnownCallLimits {
  if (!document) return unknownCallLimits();
  return {
    live: { ...document.live },
    recent: Object.fromEntries(Object.entries(document.recent).map(([slot, at]) => [slot, at.toMillis()])),
  };
}

/** The write that goes with one create: which slot it takes and which `live` entries it releases. */
export interface CallLimitsPlan {
  slot: string;
  sessionId: string;
  calleeId: string;
  /** Callees whose entries this write removes (their calls have ended, or the rules refuse the write). */
  released: string[];
  /** The session the callee's entry named before, which this write replaces (it must have ended, or end in the same batch). */
  replaces?: string;
}

/** A call of this user that a dial's batch ends (with an end request and the deletion of this caller's candidates document of it). */
export interface CallToEnd {
  sessionId: string;
  reason: Extract<EndRequestReason, "cancel" | "hangup" | "timeout">;
}

/** Where a call placed on this device stands: still ringing, or answered (connecting, connected, reconnecting). */
export type LiveHereState = "ringing" | "answered";

/** Everything a dial's plan depends on. */
export interface DialPlanInput {
  /** What this device knows of its limits document (`unknownCallLimits()` when nothing). */
  known: KnownCallLimits;
  /** The calls placed on this device that have not ended here, by session id. */
  liveHere: Readonly<Record<string, LiveHereState>>;
  call: { sessionId: string; calleeId: string };
  deviceNowMillis: number;
  /**
   * After the rules refused a batch: the limits document as read (`undefined`: it does not
   * exist) and each session its `live` names that is not live here (`undefined`: gone, or the
   * read was refused). The plan then uses this instead of `known`.
   */
  read?: { limits: KnownCallLimits | undefined; sessions: Readonly<Record<string, EndedFields | undefined>> };
}

/** A dial's decision: the batch to write, or a refusal made on the device (nothing is sent). */
export type DialPlan =
  | { kind: "batch"; plan: CallLimitsPlan; ends: CallToEnd[] }
  | { kind: "refuse"; reason: CallLimitReason; sentence: string; retryAtMillis?: number };

/**
 * Plans a dial: the limits write and the calls its batch ends, or a refusal on the device.
 * - **Redial**: the entry for this callee names a call still live on this device (or, after a
 *   read, live or lapsed elsewhere): the batch ends it (`hangup` if answered, `cancel` if not,
 *   `timeout` if it lapsed) and replaces the entry, so the first batch goes through.
 * - **Calls per minute**: every slot was written within the last `windowSeconds` by this
 *   device's clock: refused, to retry at the oldest slot's time plus the window.
 * - **Live calls**: other entries are released (each costs the rules a read) only as many as
 *   needed to stay within `maxLiveCalls`; entries of calls live here, or live elsewhere as
 *   read, are never released, and when too few can be, the dial is refused. A lapsed call
 *   that is released is ended with `timeout` in the same batch.
 * Entries of calls not live here that were not read are taken to have ended; the rules verify.
 * The slot is one never written (a random one when nothing is known, so that a client that
 * restarted rarely picks the slot it wrote a moment ago), else the least recently written.
 */
export function planDial(
  given: DialPlanInput,
  random: () => number = Math.random,
  limits: { maxLiveCalls: number; callsPerMinute: number; windowSeconds: number } = CALL_LIMITS,
): DialPlan {
  const now = given.deviceNowMillis;
  const known = given.read ? (given.read.limits ?? unknownCallLimits()) : given.known;
  const retryAtMillis = callsPerMinuteRetryAt(known.recent, now, limits);
  if (retryAtMillis !== undefined) return { kind: "refuse", reason: "too-many-calls-per-minute", sentence: callsPerMinuteSentence(retryAtMillis, now, limits), retryAtMillis };

  const standing = (sessionId: string): "live" | "lapsed" | "ended" => {
    if (given.liveHere[sessionId] !== undefined) return "live";
    if (!given.read) return "ended";
    const session = given.read.sessions[sessionId];
    if (callHasLapsed(session, now)) return "lapsed";
    return callHasEnded(session, now) ? "ended" : "live";
  };
  const ends: CallToEnd[] = [];
  const current = known.live[given.call.calleeId];
  if (current !== undefined && standing(current) !== "ended") {
    const answered = given.liveHere[current] === "answered" || isSet(given.read?.sessions[current]?.answer);
    ends.push({ sessionId: current, reason: standing(current) === "lapsed" ? "timeout" : answered ? "hangup" : "cancel" });
  }
  const others = Object.entries(known.live).filter(([callee]) => callee !== given.call.calleeId);
  const excess = others.length + 1 - limits.maxLiveCalls;
  // Ended entries first: a lapsed one costs an end request as well.
  const releasable = [...others.filter(([, id]) => standing(id) === "ended"), ...others.filter(([, id]) => standing(id) === "lapsed")];
  if (excess > releasable.length) return { kind: "refuse", reason: "too-many-live-calls", sentence: liveCallsSentence(limits) };
  const released = releasable.slice(0, Math.max(0, excess));
  for (const [, sessionId] of released) if (standing(sessionId) === "lapsed") ends.push({ sessionId, reason: "timeout" });
  return {
    kind: "batch",
    plan: {
      slot: chooseSlot(known.recent, limits.callsPerMinute, random),
      sessionId: given.call.sessionId,
      calleeId: given.call.calleeId,
      released: released.map(([callee]) => callee),
      ...(current === undefined ? {} : { replaces: current }),
    },
    ends,
  };
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** How many sessions the rules read for the limits write of `plan`: one per entry it replaces or removes. */
export function releasedSessionReads(plan: CallLimitsPlan): number {
  return plan.released.length + (plan.replaces === undefined ? 0 : 1);
}

/** When every slot was written within the window by `nowMillis` (the device's clock): when the oldest leaves it, the time to retry; else undefined. */
export function callsPerMinuteRetryAt(recent: Record<string, number>, nowMillis: number, limits: { callsPerMinute: number; windowSeconds: number } = CALL_LIMITS): number | undefined {
  const times = slotNames(limits.callsPerMinute).map((slot) => recent[slot]);
  if (times.some((at) => at === undefined)) return undefined;
  const retryAt = Math.min(...times) + limits.windowSeconds * 1_000;
  return retryAt > nowMillis ? retryAt : undefined;
}

/** The sentence of `too-many-live-calls`. */
export function liveCallsSentence(limits: { maxLiveCalls: number } = CALL_LIMITS): string {
  return `You already have ${limits.maxLiveCalls} calls in progress; end one before starting another.`;
}

/** The sentence of `too-many-calls-per-minute`, naming the wait until `retryAtMillis` by this device's clock. */
export function callsPerMinuteSentence(retryAtMillis: number, nowMillis: number, limits: { callsPerMinute: number; windowSeconds: number } = CALL_LIMITS): string {
  const waitSeconds = Math.max(1, Math.ceil((retryAtMillis - nowMillis) / 1_000));
  return `You started ${limits.callsPerMinute} calls in the last ${limits.windowSeconds} seconds; try again in about ${waitSeconds} s.`;
}

function chooseSlot(recent: Record<string, number>, callsPerMinute: number, random: () => number): string {
  const slots = slotNames(callsPerMinute);
  const written = slots.filter((slot) => recent[slot] !== undefined);
  if (written.length === 0) return slots[Math.floor(random() * slots.length)];
  const fresh = slots.find((slot) => recent[slot] === undefined);
  if (fresh !== undefined) return fresh;
  return written.reduce((oldest, slot) => (recent[slot] < recent[oldest] ? slot : oldest));
}

/**
 * The fields of the limits write, for `set(…, { merge: true })`: `serverTime` is the SDK's
 * `serverTimestamp()` and `remove` its `deleteField()`. A merge leaves the entries this client
 * does not mention as they are, so it needs to know nothing but the plan.
 */
export function callLimitsFields<T, D>(plan: CallLimitsPlan, serverTime: T, remove: D) {
  const live: Record<string, string | D> = { [plan.calleeId]: plan.sessionId };
  for (const callee of plan.released) live[callee] = remove;
  return {
    live,
    recent: { [plan.slot]: serverTime },
    slot: plan.slot,
    session_id: plan.sessionId,
    callee_id: plan.calleeId,
  };
}

/** What the client knows once the write of `plan` has committed (at `nowMillis` on its clock). */
export function afterCallLimitsWrite(known: KnownCallLimits, plan: CallLimitsPlan, nowMillis: number): KnownCallLimits {
  const live = { ...known.live, [plan.calleeId]: plan.sessionId };
  for (const callee of plan.released) delete live[callee];
  return { live, recent: { ...known.recent, [plan.slot]: Math.max(nowMillis, ...Object.values(known.recent).map((at) => at + 1)) } };
}

/** The session fields that decide whether a call has ended, as firestore.rules' `hasEnded` reads them. */
export interface EndedFields {
  status?: unknown;
  answer?: unknown;
  end_request?: unknown;
  created_at?: TimestampLike | null;
  ring_seconds?: unknown;
  expire_at?: TimestampLike | null;
}

/**
 * Whether a call no longer counts against its caller's limits at server time `nowMillis`: it is
 * gone, the server recorded its end, a participant asked to end it, or its `expire_at` passed.
 * firestore.rules (`hasEnded`) decides the same way; none of it needs a function to have run.
 * A call left ringing past its deadline still counts (see `callHasLapsed`).
 */
export function callHasEnded(session: EndedFields | undefined, nowMillis: number): boolean {
  if (!session) return true;
  if (session.status === "ended") return true;
  if (session.end_request !== undefined && session.end_request !== null) return true;
  return !!session.expire_at && nowMillis >= session.expire_at.toMillis();
}

/**
 * Whether a call that has not ended was left ringing past its deadline with no answer, by this
 * device's clock (`nowMillis`) with the ring tolerance: `answer` is null and `nowMillis ≥
 * created_at + ring_seconds·1000 + RING_DEADLINE.clockToleranceMs`. The rules refuse any answer
 * by then (they judge by server time, and the tolerance covers a device clock a little ahead),
 * so it can never connect, and its caller ends it with `timeout` (a caller whose app died while
 * it rang does so in its next dial's batch). Until then it still counts against the caller's
 * limits, and still shows in the callee's incoming-calls query.
 */
export function callHasLapsed(session: EndedFields | undefined, nowMillis: number): boolean {
  if (!session || callHasEnded(session, nowMillis)) return false;
  const ringSeconds = typeof session.ring_seconds === "number" ? session.ring_seconds : RING_SECONDS.default;
  return !isSet(session.answer) && !!session.created_at && nowMillis >= session.created_at.toMillis() + ringSeconds * 1_000 + RING_DEADLINE.clockToleranceMs;
}

/** Why a call could not be placed because of the caller's limits. */
export type CallLimitReason = "too-many-live-calls" | "too-many-calls-per-minute";

/** A call refused by the caller's own limits, with a sentence the app can show. */
export class CallLimitError extends Error {
  constructor(
    readonly reason: CallLimitReason,
    message: string,
    /** `too-many-calls-per-minute`: when a dial may go through again, by this device's clock. */
    readonly retryAtMillis?: number,
  ) {
    super(message);
    this.name = "CallLimitError";
  }
}
