// The exact requests each platform receives, and what each platform's answer means for the
// target. Pure: built from the payload, the target and the clock, so unit tests pin every
// header and field.
import type { ApnsEnvironment, PushPayload, PushTarget } from "@webrtc-lite/contract";

/** The APNs hosts (HTTP/2 on port 443), by the environment the device token belongs to. */
export const APNS_ORIGINS: Readonly<Record<ApnsEnvironment, string>> = Object.freeze({
  production: "https://api.push.apple.com",
  development: "https://api.sandbox.push.apple.com",
});

/** The suffix of an app's VoIP topic: PushKit pushes go to `<bundle id>.voip`. */
export const APNS_VOIP_TOPIC_SUFFIX = ".voip";

/** APNs priority 10: deliver now (VoIP pushes must use it). */
export const APNS_PRIORITY_IMMEDIATE = "10";

/**
 * An FCM HTTP v1 message (the `message` of `projects/{p}/messages:send`) as firebase-admin's
 * `Message` type spells it: data only, so the app's own code runs (no notification the system
 * would show instead), at high priority, kept by FCM no longer than the call rings.
 */
export interface FcmMessage {
  token: string;
  data: Record<string, string>;
  android?: { priority: "high"; ttl: number };
  webpush?: { headers: { Urgency: "high"; TTL: string } };
}

/** Whole seconds left until the deadline (0 once it has passed: "deliver now or never"). */
export function secondsLeft(deadlineMillis: number, nowMillis: number): number {
  return Math.max(0, Math.floor((deadlineMillis - nowMillis) / 1_000));
}

/** The FCM message for an `android` or `web` target. */
export function fcmMessage(target: PushTarget, payload: PushPayload, deadlineMillis: number, nowMillis: number): FcmMessage {
  const seconds = secondsLeft(deadlineMillis, nowMillis);
  const data = { ...payload };
  if (target.platform === "web") {
    // Web Push headers (RFC 8030): Urgency high wakes a sleeping device; TTL in seconds.
    return { token: target.token, data, webpush: { headers: { Urgency: "high", TTL: String(seconds) } } };
  }
  // firebase-admin takes the Android TTL in milliseconds and sends it as "<seconds>s".
  return { token: target.token, data, android: { priority: "high", ttl: seconds * 1_000 } };
}

/** One APNs request: the origin, the path and headers of the HTTP/2 POST (without `authorization`), and its JSON body. */
export interface ApnsRequest {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The APNs VoIP push for an `ios-voip` target: `apns-expiration` is the ring deadline (APNs
 * stores the push for an offline device until then; 0, once it has passed, means "try once").
 */
export function apnsRequest(target: Extract<PushTarget, { platform: "ios-voip" }>, payload: PushPayload, deadlineMillis: number, nowMillis: number): ApnsRequest {
  const expiration = deadlineMillis > nowMillis ? Math.floor(deadlineMillis / 1_000) : 0;
  return {
    origin: APNS_ORIGINS[target.apns_environment],
    path: `/3/device/${target.token}`,
    headers: {
      "apns-push-type": "voip",
      "apns-priority": APNS_PRIORITY_IMMEDIATE,
      "apns-expiration": String(expiration),
      "apns-topic": `${target.app_id}${APNS_VOIP_TOPIC_SUFFIX}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(payload),
  };
}

/** What a push attempt means for its target: delivered to the platform, the token is dead (delete it), or a failure to log. */
export type PushOutcome = { result: "sent" } | { result: "dead"; reason: string } | { result: "failed"; reason: string; retryable: boolean };

/**
 * firebase-admin's error codes for a failed send. `registration-token-not-registered` is FCM's
 * UNREGISTERED (the app was uninstalled or the token rotated); `invalid-argument` is
 * INVALID_ARGUMENT, which for messages built by fcmMessage means a malformed token. Both
 * delete the target. Server-side failures are retried by firebase-admin itself (503 and
 * connection errors, with backoff) before they get here.
 */
export function fcmOutcome(errorCode: string | undefined): PushOutcome {
  if (errorCode === undefined) return { result: "sent" };
  const reason = errorCode.replace(/^messaging\//, "");
  if (reason === "registration-token-not-registered" || reason === "invalid-argument") return { result: "dead", reason };
  const retryable = ["server-unavailable", "internal-error", "quota-exceeded", "message-rate-exceeded", "unknown-error"].includes(reason);
  return { result: "failed", reason, retryable };
}

/**
 * APNs' answer: 200 delivered; 410 Unregistered (the app is gone) and 400 BadDeviceToken (not
 * a token of this environment) delete the target; 429 and 5xx may be retried; anything else
 * (403 InvalidProviderToken: the key, key id or team id is wrong; 400 BadTopic: a bundle id
 * this key cannot push to) is a configuration problem to log.
 */
export function apnsOutcome(status: number, reason: string | undefined): PushOutcome {
  if (status === 200) return { result: "sent" };
  const named = reason ?? `HTTP ${status}`;
  if (status === 410 || (status === 400 && reason === "BadDeviceToken")) return { result: "dead", reason: named };
  return { result: "failed", reason: named, retryable: status === 429 || status >= 500 };
}
