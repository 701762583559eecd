// The push function's configuration: Firebase Cloud Messaging needs none (the function's own
// service account sends for its project); APNs needs the team's signing key (a secret) and
// which apps it may push to.
import { defineSecret, defineString } from "firebase-functions/params";

/** Written in place of the APNs key by a project without an iOS app: iOS targets are then skipped. */
export const APNS_NOT_CONFIGURED = "none";

/** The APNs authentication key: the whole .p8 file (Secret Manager; `.secret.local` in the emulator). */
export const apnsAuthKey = defineSecret("APNS_AUTH_KEY");

/** The 10-character id of that key (Apple Developer, Keys). */
export const apnsKeyId = defineString("APNS_KEY_ID", {
  description: "Key ID of the APNs authentication key in APNS_AUTH_KEY (10 characters; empty without an iOS app)",
  default: "",
});

/** The 10-character Apple Developer team id that owns the key. */
export const apnsTeamId = defineString("APNS_TEAM_ID", {
  description: "Apple Developer Team ID that owns the APNs key (10 characters; empty without an iOS app)",
  default: "",
});

/** Bundle ids the function may push to (a target names its own; its VoIP topic is `<bundle id>.voip`). */
export const apnsBundleIds = defineString("APNS_BUNDLE_IDS", {
  description: "Comma-separated bundle ids of the iOS apps that receive VoIP pushes, e.g. com.example.calls (empty without an iOS app)",
  default: "",
});

/** What APNs is configured as: usable credentials and bundle ids, or why iOS targets are skipped. */
export type ApnsSettings =
  | { configured: true; privateKeyPem: string; keyId: string; teamId: string; bundleIds: readonly string[] }
  | { configured: false; problem: string };

const APPLE_ID = /^[A-Z0-9]{10}$/;

/** Checks the APNs settings; pure, so every sentence is unit-tested. The key's text never appears in a problem. */
export function resolveApnsSettings(raw: { key: string; keyId: string; teamId: string; bundleIds: string }): ApnsSettings {
  const key = raw.key.trim();
  if (key === "" || key === APNS_NOT_CONFIGURED) return { configured: false, problem: `APNS_AUTH_KEY is "${APNS_NOT_CONFIGURED}": iOS pushes are off` };
  if (!key.includes("PRIVATE KEY")) return { configured: false, problem: "APNS_AUTH_KEY must hold the whole .p8 file, its BEGIN PRIVATE KEY and END PRIVATE KEY lines included" };
  if (!APPLE_ID.test(raw.keyId)) return { configured: false, problem: "APNS_KEY_ID must be the 10-character Key ID of the .p8 key (A-Z, 0-9)" };
  if (!APPLE_ID.test(raw.teamId)) return { configured: false, problem: "APNS_TEAM_ID must be the 10-character Team ID (A-Z, 0-9)" };
  const bundleIds = raw.bundleIds
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  if (bundleIds.length === 0) return { configured: false, problem: "APNS_BUNDLE_IDS must name at least one bundle id" };
  return { configured: true, privateKeyPem: key, keyId: raw.keyId, teamId: raw.teamId, bundleIds };
}

/** The APNs settings from the params and the secret (inside a handler only). */
export function configuredApns(): ApnsSettings {
  return resolveApnsSettings({ key: apnsAuthKey.value(), keyId: apnsKeyId.value(), teamId: apnsTeamId.value(), bundleIds: apnsBundleIds.value() });
}
