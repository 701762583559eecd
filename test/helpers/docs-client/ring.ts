// "The ring deadline" and when a call counts as ended or lapsed, from docs/signaling.md.
import { RING_CLOCK_TOLERANCE_MS, RING_SECONDS_DEFAULT } from "./constants";

/** The session fields these decisions read; timestamps as epoch milliseconds. */
export interface SessionTimes {
  created_at?: number | null;
  ring_seconds?: unknown;
  answer?: unknown;
  end_request?: unknown;
  status?: unknown;
  expire_at?: number | null;
}

function ringMillis(ringSeconds: unknown): number {
  return (typeof ringSeconds === "number" ? ringSeconds : RING_SECONDS_DEFAULT) * 1_000;
}

/**
 * How long a call in the incoming-calls query rings from now (0: it does not ring). Added to the
 * query after its first server snapshot: the whole `ring_seconds`, whatever the clock says. In the
 * first server snapshot (it may be old): what is left until `created_at + ring_seconds`, with the
 * clock tolerance in the call's favour, capped at `ring_seconds`.
 */
export function ringForMs(given: { createdAtMillis: number; ringSeconds: number; inFirstServerSnapshot: boolean; deviceNowMillis: number }): number {
  const whole = ringMillis(given.ringSeconds);
  if (!given.inFirstServerSnapshot) return whole;
  const left = given.createdAtMillis + whole + RING_CLOCK_TOLERANCE_MS - given.deviceNowMillis;
  return Math.min(whole, Math.max(0, left));
}

/**
 * Whether a call no longer counts against its caller's limits, as the rules decide: it is gone,
 * the server recorded its end, it has an end request, or its `expire_at` passed.
 */
export function callEnded(session: SessionTimes | null | undefined, nowMillis: number): boolean {
  if (!session) return true;
  if (session.status === "ended") return true;
  if (session.end_request !== undefined && session.end_request !== null) return true;
  return typeof session.expire_at === "number" && nowMillis >= session.expire_at;
}

/**
 * Whether a call that has not ended was left ringing: unanswered, and the device clock is past
 * its ring deadline by more than the clock tolerance. Nobody can answer it any more; its caller
 * ends it with `timeout` when it releases or replaces its limits entry.
 */
export function callLapsed(session: SessionTimes | null | undefined, deviceNowMillis: number): boolean {
  if (!session || callEnded(session, deviceNowMillis)) return false;
  if (session.answer !== undefined && session.answer !== null) return false;
  if (typeof session.created_at !== "number") return false;
  return deviceNowMillis >= session.created_at + ringMillis(session.ring_seconds) + RING_CLOCK_TOLERANCE_MS;
}
