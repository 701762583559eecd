import { defineBoolean, defineSecret, defineString } from "firebase-functions/params";

/** The secret shared with coturn's `static-auth-secret` (Secret Manager; `.secret.local` in the emulator). */
export const turnSharedSecret = defineSecret("TURN_SHARED_SECRET");

/** Comma-separated `turn:`/`turns:` URIs of every TURN server (region) the credentials are for. */
export const turnUris = defineString("TURN_URIS", {
  description:
    "Comma-separated TURN URIs, e.g. turn:turn.example.com:3478?transport=udp,turn:turn.example.com:3478?transport=tcp,turns:turn.example.com:5349?transport=tcp",
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
