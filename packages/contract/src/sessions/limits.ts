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
import { RING_SECONDS, timestampSchema, uidSchema, type TimestampLike } from "./model.js";
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
  /** The session the callee's entry named before, which this write replaces (it must have ended). */
  replaces?: string;
}

/**
 * Plans the limits write for a call to `calleeId` as session `sessionId`. `liveHere` is the set
 * of session ids this client knows to be live (its own calls in progress); entries for any
 * other session are taken to have ended, which the rules verify. The slot is one never written
 * or the least recently written one (a random one when nothing is known, so that a client that
 * restarted rarely picks the slot it wrote a moment ago). Releases only as many entries as
 * needed to stay within `maxLiveCalls`: each release costs the rules a read.
 */
export function planCallLimits(
  known: KnownCallLimits,
  call: { sessionId: string; calleeId: string },
  liveHere: ReadonlySet<string>,
  random: () => number = Math.random,
  limits: { maxLiveCalls: number; callsPerMinute: number } = CALL_LIMITS,
): CallLimitsPlan {
  const current = known.live[call.calleeId];
  if (current !== undefined && liveHere.has(current)) {
    throw new CallLimitError("already-calling", `You are already in a call with ${call.calleeId} (session ${current}); end it before calling again.`);
  }
  const others = Object.entries(known.live).filter(([callee]) => callee !== call.calleeId);
  const excess = others.length + 1 - limits.maxLiveCalls;
  const releasable = others.filter(([, sessionId]) => !liveHere.has(sessionId)).map(([callee]) => callee);
  if (excess > releasable.length) {
    throw new CallLimitError("too-many-live-calls", `You already have ${limits.maxLiveCalls} calls in progress; end one before starting another.`);
  }
  return {
    slot: chooseSlot(known.recent, limits.callsPerMinute, random),
    sessionId: call.sessionId,
    calleeId: call.calleeId,
    released: releasable.slice(0, Math.max(0, excess)),
    ...(current === undefined ? {} : { replaces: current }),
  };
}

/** How many sessions the rules read for the limits write of `plan`: one per entry it replaces or removes. */
export function releasedSessionReads(plan: CallLimitsPlan): number {
  return plan.released.length + (plan.replaces === undefined ? 0 : 1);
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
 * Whether a call that has not ended was left ringing past its deadline (`created_at +
 * ring_seconds`) with no answer: the rules refuse any answer now, so it can never connect, and
 * its caller ends it with `timeout` (a caller whose app died while it rang does so in its next
 * dial's batch). Until then it still counts, and still shows in the callee's incoming-calls query.
 */
export function callHasLapsed(session: EndedFields | undefined, nowMillis: number): boolean {
  if (!session || callHasEnded(session, nowMillis)) return false;
  const ringSeconds = typeof session.ring_seconds === "number" ? session.ring_seconds : RING_SECONDS.default;
  const unanswered = session.answer === undefined || session.answer === null;
  return unanswered && !!session.created_at && nowMillis >= session.created_at.toMillis() + ringSeconds * 1_000;
}

/** Why a call could not be placed because of the caller's limits. */
export type CallLimitReason = "already-calling" | "too-many-live-calls" | "too-many-calls-per-minute";

/** A call refused by the caller's own limits, with a sentence the app can show. */
export class CallLimitError extends Error {
  constructor(
    readonly reason: CallLimitReason,
    message: string,
  ) {
    super(message);
    this.name = "CallLimitError";
  }
}

/**
 * After the rules refused a create made with fresh knowledge: why, from the limits document as
 * read, or `undefined` when the limits do not explain it. `nowMillis` is this device's clock,
 * so the wait it names is approximate.
 */
export function explainRefusal(known: KnownCallLimits, nowMillis: number, limits: { callsPerMinute: number; windowSeconds: number } = CALL_LIMITS): CallLimitError | undefined {
  const slots = slotNames(limits.callsPerMinute);
  if (slots.some((slot) => known.recent[slot] === undefined)) return undefined;
  const oldest = Math.min(...slots.map((slot) => known.recent[slot]));
  const waitSeconds = Math.ceil((oldest + limits.windowSeconds * 1_000 - nowMillis) / 1_000);
  if (waitSeconds <= 0) return undefined;
  return new CallLimitError(
    "too-many-calls-per-minute",
    `You started ${limits.callsPerMinute} calls in the last ${limits.windowSeconds} seconds; try again in about ${waitSeconds} s.`,
  );
}
