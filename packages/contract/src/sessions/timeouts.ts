// Timeouts and `expire_at` arithmetic. Everything in milliseconds since the epoch, so the
// trigger, the sweep and the tests agree to the millisecond.
import { DEFAULT_TIMEOUTS, RING_SECONDS, type LiveStatus, type SessionStatus, type Timeouts } from "./constants.js";

const SECOND = 1_000;

/** How long a session may stay in a live state before the sweep ends it, in seconds. */
export function stateTimeoutSeconds(status: LiveStatus, timeouts: Timeouts): number {
  switch (status) {
    case "pending":
      return timeouts.pendingSeconds;
    case "offered":
      return timeouts.ringSeconds;
    case "answered":
      return timeouts.answerSeconds;
    case "connected":
      return timeouts.maxCallSeconds;
  }
}

/**
 * When a session entering `status` at `nowMillis` may be deleted. Ended: after the session
 * TTL. Live: after its state's timeout plus the TTL, so the TTL policy cleans up even when
 * the sweep never ran, yet never before the sweep would have ended the call.
 */
export function expireAtMillis(status: SessionStatus, nowMillis: number, timeouts: Timeouts): number {
  const ttl = timeouts.sessionTtlSeconds * SECOND;
  if (status === "ended") return nowMillis + ttl;
  return nowMillis + stateTimeoutSeconds(status, timeouts) * SECOND + ttl;
}

/**
 * When an `offered` call stops ringing for the server: its own deadline (`created_at` plus the
 * caller's `ring_seconds`), never later than the operator's ring timeout.
 */
export function ringEndsAtMillis(createdAtMillis: number, ringSeconds: number, timeouts: Timeouts): number {
  return createdAtMillis + Math.min(ringSeconds, timeouts.ringSeconds) * SECOND;
}

/** Whether a live session that entered `status` at `sinceMillis` has outstayed its timeout. */
export function isStale(status: LiveStatus, sinceMillis: number, nowMillis: number, timeouts: Timeouts): boolean {
  return nowMillis - sinceMillis >= stateTimeoutSeconds(status, timeouts) * SECOND;
}

/**
 * The cut-offs of the sweep's queries (inclusive, like isStale): short-lived states (pending,
 * offered, answered) that entered their state at or before `shortLivedBefore` may be stale;
 * connected calls at or before `connectedBefore` are; `expiredBefore` bounds `expire_at`.
 */
export function sweepCutoffs(nowMillis: number, timeouts: Timeouts) {
  // A caller may ring for as little as RING_SECONDS.min, shorter than any server timeout.
  const shortest = Math.min(timeouts.pendingSeconds, timeouts.ringSeconds, timeouts.answerSeconds, RING_SECONDS.min);
  return {
    shortLivedBefore: nowMillis - shortest * SECOND,
    connectedBefore: nowMillis - timeouts.maxCallSeconds * SECOND,
    expiredBefore: nowMillis,
  };
}

/** Accepted range of each timeout param, in seconds. */
export const TIMEOUT_BOUNDS: Readonly<Record<keyof Timeouts, { min: number; max: number; param: string }>> = Object.freeze({
  pendingSeconds: { min: 10, max: 3_600, param: "SESSION_PENDING_TIMEOUT_SECONDS" },
  ringSeconds: { min: 10, max: 600, param: "SESSION_RING_TIMEOUT_SECONDS" },
  answerSeconds: { min: 10, max: 600, param: "SESSION_ANSWER_TIMEOUT_SECONDS" },
  maxCallSeconds: { min: 60, max: 604_800, param: "SESSION_MAX_CALL_SECONDS" },
  sessionTtlSeconds: { min: 60, max: 2_592_000, param: "SESSION_TTL_SECONDS" },
});

/**
 * Checks the configured timeouts. A value out of range is replaced by its default and named
 * in `problems`, so a typo in one param degrades one timeout instead of stopping every call.
 */
export function resolveTimeouts(raw: Timeouts): { timeouts: Timeouts; problems: string[] } {
  const timeouts = { ...raw };
  const problems: string[] = [];
  for (const key of Object.keys(TIMEOUT_BOUNDS) as Array<keyof Timeouts>) {
    const { min, max, param } = TIMEOUT_BOUNDS[key];
    const value = raw[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      timeouts[key] = DEFAULT_TIMEOUTS[key];
      problems.push(`${param} must be a whole number of seconds from ${min} to ${max}; got ${value}, using ${DEFAULT_TIMEOUTS[key]}.`);
    }
  }
  return { timeouts, problems };
}

export { DEFAULT_TIMEOUTS, type Timeouts } from "./constants.js";
