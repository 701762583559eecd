// The numbers docs/signaling.md states, written down once, as an Android or iOS app's
// `object Contract` / `enum Contract` would hold them. Nothing here is read from the contract
// package: this client is written from the prose alone.

/** Collections and documents ("Data model"). */
export const SESSIONS = "webrtc_sessions";
export const CANDIDATES = "ice_candidates";
export const LIMITS_COLLECTION = "call_limits";

/** "At most 6 entries per write". */
export const MAX_ENTRIES_PER_WRITE = 6;
/** "20 at most per generation". */
export const MAX_ENTRIES_PER_GENERATION = 20;
/** `ring_seconds`: "integer 10–600 … (default 60)". */
export const RING_SECONDS_MIN = 10;
export const RING_SECONDS_MAX = 600;
export const RING_SECONDS_DEFAULT = 60;
/** The ring deadline's tolerance for the device clock being behind or ahead of the server's. */
export const RING_CLOCK_TOLERANCE_MS = 5_000;
/** `expire_at` at create: "device clock + 25 h". */
export const EXPIRE_AFTER_MS = 25 * 3_600_000;
/** "at most 10 generations a call". */
export const MAX_GENERATION = 10;
/** "`disconnected` for 2 s". */
export const DISCONNECTED_GRACE_MS = 2_000;
/** "no path after 10 s: the caller restarts once more". */
export const RESTART_ATTEMPT_MS = 10_000;
/** "No path within the recovery window, 30 s from the break". */
export const RECOVERY_WINDOW_MS = 30_000;
/** `call_limits`: "at most 3 entries". */
export const MAX_LIVE_CALLS = 3;
/** `call_limits`: slots "0"…"9", each reusable "at least 60 s" after it was written. */
export const CALLS_PER_MINUTE = 10;
export const CALLS_WINDOW_MS = 60_000;
/** The incoming-calls query's `limit`. */
export const INCOMING_CALLS_LIMIT = 10;
/** TURN credentials are fetched again when a fifth of their lifetime is left, at most five minutes before the end. */
export const CREDENTIAL_REFRESH_FRACTION = 0.2;
export const CREDENTIAL_REFRESH_MAX_MS = 300_000;
/** The callable that mints TURN credentials, and its region. */
export const TURN_CREDENTIALS_CALLABLE = "getTurnCredentials";
export const FUNCTIONS_REGION = "us-central1";

/** Which side a participant is on: also the id of its candidates document. */
export type Role = "caller" | "callee";
