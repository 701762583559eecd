// What a callee's device rings: which documents of an incoming-calls snapshot are ringing calls,
// and for how long by its own clock. Pure: the web client runs this code, and
// conformance/incoming-calls.json holds the same decisions as vectors for Android and iOS.
import { INCOMING_CALLS_QUERY, RING_DEADLINE, RING_SECONDS } from "./constants.js";
import type { TimestampLike } from "./model.js";

/** What a device knows of one call when it first sees it in an incoming-calls snapshot. */
export interface RingingTimeInput {
  /** The session's `created_at` (server time, epoch ms). */
  createdAtMillis: number;
  /** The session's `ring_seconds`. */
  ringSeconds: number;
  /**
   * Whether the call was in the incoming-calls query's first server snapshot (app start, or
   * the first server snapshot after cache-only ones): it may have rung for a while already.
   * A call added after that is at most one round trip old.
   */
  inFirstServerSnapshot: boolean;
  /** This device's clock when it saw the snapshot (epoch ms). */
  deviceNowMillis: number;
}

/**
 * How long a call rings on this device from the moment it is first seen, in ms (0: it does not
 * ring). A call added after the first server snapshot rings for `ring_seconds`, whatever the
 * device clock says. A call in the first server snapshot rings until its ring deadline plus
 * `RING_DEADLINE.clockToleranceMs` by the device clock, and never longer than `ring_seconds`:
 * `clamp(created_at + ring_seconds·1000 + tolerance − deviceNow, 0, ring_seconds·1000)`.
 */
export function ringingTime(given: RingingTimeInput): number {
  const full = given.ringSeconds * 1_000;
  if (!given.inFirstServerSnapshot) return full;
  const left = given.createdAtMillis + full + RING_DEADLINE.clockToleranceMs - given.deviceNowMillis;
  return Math.min(full, Math.max(0, left));
}

/** The fields of a session in an incoming-calls snapshot that decide whether it rings. */
export interface IncomingCallFields {
  status?: unknown;
  answer?: unknown;
  end_request?: unknown;
  /** Read with estimated server timestamps; `null` only in a snapshot without estimates. */
  created_at?: TimestampLike | null;
  ring_seconds?: unknown;
}

/** One document of an incoming-calls snapshot, with the snapshot's metadata. */
export interface IncomingCallInput {
  /** `metadata.fromCache` (Android `isFromCache`, iOS `isFromCache`) of the snapshot. */
  fromCache: boolean;
  /** Whether the snapshot is the listener's first from the server (see `RingingTimeInput.inFirstServerSnapshot`). */
  firstServerSnapshot: boolean;
  document: IncomingCallFields;
  deviceNowMillis: number;
}

/** What a document of an incoming-calls snapshot means for the callee's device. */
export type IncomingCallAction =
  /** The snapshot came from the local cache: it decides nothing; what rings keeps ringing. */
  | { action: "ignore-snapshot" }
  /** The call does not ring (any more): answered, asked to end, ended, or past its deadline. */
  | { action: "not-ringing" }
  /** The call rings for `ringForMs` from now, if it is not ringing already (its first sighting decides). */
  | { action: "ring"; ringForMs: number };

const RINGABLE_STATUSES: readonly unknown[] = INCOMING_CALLS_QUERY.statuses;

/**
 * What one document of an incoming-calls snapshot means: a snapshot from the cache is ignored
 * (an offline cache may hold calls that ended long ago); a document whose `answer` or
 * `end_request` is set, or whose status is past `offered`, is not ringing (a snapshot with this
 * device's own pending write shows it before the query drops it); anything else rings for
 * `ringingTime`. A call already ringing on this device keeps the time its first sighting gave it.
 */
export function incomingCallAction(given: IncomingCallInput): IncomingCallAction {
  if (given.fromCache) return { action: "ignore-snapshot" };
  const { document } = given;
  const set = (value: unknown) => value !== undefined && value !== null;
  if (!RINGABLE_STATUSES.includes(document.status) || set(document.answer) || set(document.end_request)) return { action: "not-ringing" };
  const ringSeconds = typeof document.ring_seconds === "number" ? document.ring_seconds : RING_SECONDS.default;
  const ringForMs = ringingTime({
    // A create whose server time the snapshot does not estimate was just written.
    createdAtMillis: document.created_at ? document.created_at.toMillis() : given.deviceNowMillis,
    ringSeconds,
    inFirstServerSnapshot: given.firstServerSnapshot,
    deviceNowMillis: given.deviceNowMillis,
  });
  return ringForMs > 0 ? { action: "ring", ringForMs } : { action: "not-ringing" };
}
