import { DEFAULT_TIMEOUTS, TIMEOUT_BOUNDS, type Timeouts } from "@webrtc-lite/contract/timeouts";
import { defineBoolean, defineInt, defineSecret, defineString } from "firebase-functions/params";

/** The secret shared with coturn's `static-auth-secret` (Secret Manager; `.secret.local` in the emulator). */
export const turnSharedSecret = defineSecret("TURN_SHARED_SECRET");

/** Comma-separated `turn:`/`turns:` URIs; `;` between the URI groups of several coturn hosts, one host per credential. */
export const turnUris = defineString("TURN_URIS", {
  description:
    "Comma-separated TURN URIs, e.g. turn:turn.example.com:3478?transport=udp,turn:turn.example.com:3478?transport=tcp,turns:turn.example.com:443?transport=tcp; " +
    "for several coturn hosts put ; between hosts (each credential then names one host)",
  input: { text: { example: "turn:turn.example.com:3478?transport=udp" } },
});

/** STUN URIs handed out beside the TURN ones; empty derives them from the `turn:` hosts, `none` leaves STUN out. */
export const stunUris = defineString("STUN_URIS", {
  description: "Comma-separated STUN URIs; empty = derived from the turn: URIs; none = no STUN entry",
  default: "",
});

/** Whether `getTurnCredentials` refuses calls without a valid App Check token. */
export const enforceAppCheck = defineBoolean("ENFORCE_APP_CHECK", {
  description: "Refuse getTurnCredentials calls that carry no valid App Check token",
  default: false,
});

/** Seconds a session may stay `pending` (waiting for the trigger) before the sweep ends it. */
export const sessionPendingTimeout = timeoutParam("pendingSeconds", "Seconds a call may stay pending (the trigger has not run) before the sweep ends it with reason timeout");

/** Seconds a call rings (`offered`) before the sweep ends it with reason `timeout`. */
export const sessionRingTimeout = timeoutParam("ringSeconds", "Seconds a call may ring (offered) before the sweep ends it with reason timeout");

/** Seconds an answered call may take to connect before the sweep ends it. */
export const sessionAnswerTimeout = timeoutParam("answerSeconds", "Seconds an answered call may take to report ICE connected before the sweep ends it with reason timeout");

/** Longest call (`connected`) in seconds before the sweep ends it. */
export const sessionMaxCall = timeoutParam("maxCallSeconds", "Longest connected call in seconds before the sweep ends it with reason timeout");

/** Seconds an ended session stays readable before it is deleted with its ICE candidates. */
export const sessionTtl = timeoutParam("sessionTtlSeconds", "Seconds an ended session is kept before the sweep (or the TTL policy) deletes it");

/** A timeout param whose name, default and bounds come from the contract's TIMEOUT_BOUNDS and DEFAULT_TIMEOUTS. */
function timeoutParam(key: keyof Timeouts, description: string) {
  const { param, min, max } = TIMEOUT_BOUNDS[key];
  return defineInt(param, { description: `${description} (${min}-${max})`, default: DEFAULT_TIMEOUTS[key] });
}
