// The limits write of the dial batch ("call_limits/{uid}: the caller's limits" and caller step
// 2 of docs/signaling.md), planned from what this device knows, with no read first.
import { CALLS_PER_MINUTE, CALLS_WINDOW_MS, MAX_LIVE_CALLS } from "./constants";
import { callEnded, callLapsed, type SessionTimes } from "./ring";

/** What the device knows of its limits document: `live` as written, and when it wrote each slot (device ms). */
export interface KnownLimits {
  live: Record<string, string>;
  recent: Record<string, number>;
}

/** A call of this device that has not ended, and how far it got. */
export type LiveHere = Record<string, "ringing" | "answered">;

/** A previous call this batch ends, and with which reason. */
export interface PlannedEnd {
  sessionId: string;
  reason: "cancel" | "hangup" | "timeout";
}

/** The dial batch's limits part: the slot, the `live` entries it sets or deletes, the calls it ends. */
export interface DialPlan {
  slot: string;
  /** callee → the new session id, or `"delete"` for an entry this write removes. */
  live: Record<string, string>;
  ends: PlannedEnd[];
}

/** A dial the device refuses without sending anything. */
export interface LocalRefusal {
  reason: "too-many-live-calls" | "too-many-calls-per-minute";
  retryAtMillis?: number;
  sentence: string;
}

/** After a refused batch: the limits document and the sessions it names, as one read each showed them (null: missing or unreadable). */
export interface LimitsRead {
  limits: { live?: Record<string, string>; recent?: Record<string, number> } | null;
  sessions: Record<string, SessionTimes | null>;
}

const SLOTS = Array.from({ length: CALLS_PER_MINUTE }, (_, index) => String(index));

/** The sentence for 3 live calls. */
export function tooManyLiveCallsSentence(): string {
  return `You already have ${MAX_LIVE_CALLS} calls in progress; end one before starting another.`;
}

/** The sentence for 10 calls within the minute, naming the wait. */
export function tooManyCallsSentence(retryAtMillis: number, deviceNowMillis: number): string {
  const seconds = Math.max(1, Math.ceil((retryAtMillis - deviceNowMillis) / 1_000));
  return `You started ${CALLS_PER_MINUTE} calls in the last ${CALLS_WINDOW_MS / 1_000} seconds; try again in about ${seconds} s.`;
}

/** When every slot was written within the last minute (device clock): the oldest one's time + 60 s; else undefined. */
export function oldestSlotRetryAt(recent: Record<string, number>, deviceNowMillis: number): number | undefined {
  const times = SLOTS.map((slot) => recent[slot]);
  if (times.some((at) => at === undefined)) return undefined;
  const retryAt = Math.min(...times) + CALLS_WINDOW_MS;
  return retryAt > deviceNowMillis ? retryAt : undefined;
}

/**
 * The slot to write: one never written, else the one written longest ago; a random one when
 * nothing is known. A refusal when every slot was written within the last minute.
 */
function chooseSlot(recent: Record<string, number>, deviceNowMillis: number, random: () => number): string | LocalRefusal {
  const retryAtMillis = oldestSlotRetryAt(recent, deviceNowMillis);
  if (retryAtMillis !== undefined) return { reason: "too-many-calls-per-minute", retryAtMillis, sentence: tooManyCallsSentence(retryAtMillis, deviceNowMillis) };
  const written = SLOTS.filter((slot) => recent[slot] !== undefined);
  if (written.length === 0) return SLOTS[Math.floor(random() * SLOTS.length)];
  return SLOTS.find((slot) => recent[slot] === undefined) ?? written.reduce((best, slot) => (recent[slot] < recent[best] ? slot : best));
}

/** How a call still live ends when this dial replaces it: answered → hangup, ringing → cancel, left ringing past its deadline → timeout. */
function endReason(state: "ringing" | "answered" | undefined, session: SessionTimes | null | undefined, deviceNowMillis: number): PlannedEnd["reason"] {
  if (session && callLapsed(session, deviceNowMillis)) return "timeout";
  if (state === "answered" || (session && session.answer !== undefined && session.answer !== null)) return "hangup";
  return "cancel";
}

/**
 * Plans the dial batch's limits write for `call`, or refuses it locally. Without `read` it uses
 * only what the device knows: an entry of a call not live here is taken as ended (the rules
 * check). With `read` (after a refusal) it decides from what was read.
 */
export function planDial(
  given: { known: KnownLimits | null; liveHere: LiveHere; call: { sessionId: string; calleeId: string }; deviceNowMillis: number; read?: LimitsRead },
  random: () => number = Math.random,
): { batch: DialPlan } | { refuse: LocalRefusal } {
  const { liveHere, call, deviceNowMillis, read } = given;
  const known: KnownLimits = read
    ? { live: { ...(read.limits?.live ?? {}) }, recent: { ...(read.limits?.recent ?? {}) } }
    : { live: { ...(given.known?.live ?? {}) }, recent: { ...(given.known?.recent ?? {}) } };
  const sessionOf = (sessionId: string): SessionTimes | null | undefined => read?.sessions[sessionId];
  // Whether an entry's call is still live: live on this device, or (after a read) not ended.
  const stillLive = (sessionId: string): boolean =>
    liveHere[sessionId] !== undefined || (read !== undefined && sessionId in read.sessions && !callEnded(sessionOf(sessionId), deviceNowMillis));
  // A full minute is refused first: nothing else could make the batch pass.
  const slot = chooseSlot(known.recent, deviceNowMillis, random);
  if (typeof slot !== "string") return { refuse: slot };
  const ends: PlannedEnd[] = [];
  const live: DialPlan["live"] = { [call.calleeId]: call.sessionId };

  // Redial: the call this replaces ends in this very batch.
  const current = known.live[call.calleeId];
  if (current !== undefined && current !== call.sessionId && stillLive(current)) {
    ends.push({ sessionId: current, reason: endReason(liveHere[current], sessionOf(current), deviceNowMillis) });
  }

  // At most MAX_LIVE_CALLS entries remain: release entries of calls not live here (after a read:
  // ended ones first, then lapsed ones, which this batch ends with timeout).
  const others = Object.entries(known.live).filter(([callee]) => callee !== call.calleeId);
  const excess = others.length + 1 - MAX_LIVE_CALLS;
  const gone = others.filter(([, sessionId]) => !stillLive(sessionId));
  const lapsed = others.filter(([, sessionId]) => liveHere[sessionId] === undefined && stillLive(sessionId) && callLapsed(sessionOf(sessionId), deviceNowMillis));
  const releasable = [...gone, ...lapsed];
  if (excess > releasable.length) return { refuse: { reason: "too-many-live-calls", sentence: tooManyLiveCallsSentence() } };
  for (const [callee, sessionId] of releasable.slice(0, Math.max(0, excess))) {
    live[callee] = "delete";
    if (stillLive(sessionId)) ends.push({ sessionId, reason: "timeout" });
  }

  return { batch: { slot, live, ends } };
}

/** What the device knows once a dial batch with `plan` committed at `deviceNowMillis`. */
export function afterDial(known: KnownLimits | null, plan: DialPlan, deviceNowMillis: number): KnownLimits {
  const live = { ...(known?.live ?? {}) };
  for (const [callee, value] of Object.entries(plan.live)) {
    if (value === "delete") delete live[callee];
    else live[callee] = value;
  }
  return { live, recent: { ...(known?.recent ?? {}), [plan.slot]: deviceNowMillis } };
}
