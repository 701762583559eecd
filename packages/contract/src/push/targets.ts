// Where a user's devices say how to wake them for a call: `users/{uid}/push_targets/{slot}`,
// one document per device, written by the device's own signed-in user and read only by it and
// by the server (firestore.rules, "Push targets"). The count per user is bounded by the ids
// themselves: a target's id is one of MAX_PUSH_TARGETS slots ("0"…"9"), so the rules need no
// counter and a TTL deletion or a dead token frees a slot with nothing else to update. Pure:
// the web client, the functions and the tests run this code; Android and iOS follow docs/push.md.
import { z } from "zod";
import { timestampSchema, type TimestampLike } from "../sessions/model.js";
import { wholeMatch } from "../sessions/validation.js";

/** Top-level collection whose documents (`users/{uid}`) hold each user's push targets; the app may keep its own fields there. */
export const USERS_COLLECTION = "users";
/** Subcollection of `users/{uid}` with one document per device that wants ring pushes. */
export const PUSH_TARGETS_COLLECTION = "push_targets";

/** How many devices one user may register; also the number of slot ids ("0" to "9"). */
export const MAX_PUSH_TARGETS = 10;
/** The slot ids a target may take (firestore.rules carries this pattern). */
export const PUSH_TARGET_ID_PATTERN = "[0-9]";
/** Every slot id, in order. */
export const PUSH_TARGET_IDS: readonly string[] = Object.freeze(Array.from({ length: MAX_PUSH_TARGETS }, (_, slot) => String(slot)));

/**
 * How a device is woken: `android` and `web` through Firebase Cloud Messaging (a registration
 * token), `ios-voip` through Apple's push service as a PushKit VoIP push (a PushKit device token).
 */
export const PUSH_PLATFORMS = ["android", "ios-voip", "web"] as const;
/** One of PUSH_PLATFORMS. */
export type PushPlatform = (typeof PUSH_PLATFORMS)[number];

/**
 * Which APNs service an iOS token belongs to: builds signed for development (Xcode) get sandbox
 * tokens, TestFlight and App Store builds production ones; a token sent to the other service is
 * refused as a bad device token, so each target says which it is.
 */
export const APNS_ENVIRONMENTS = ["production", "development"] as const;
/** One of APNS_ENVIRONMENTS. */
export type ApnsEnvironment = (typeof APNS_ENVIRONMENTS)[number];

/** Longest FCM registration token accepted (today's are about 160 characters). */
export const MAX_FCM_TOKEN_LENGTH = 4_096;
/**
 * An FCM registration token: letters, digits and `_ : . -` (firestore.rules carries this
 * pattern, and checks MAX_FCM_TOKEN_LENGTH apart: RE2 counts repetitions up to 1000 only).
 */
export const FCM_TOKEN_PATTERN = "[A-Za-z0-9_:.-]+";
/** A PushKit device token as lowercase hex (32 bytes today; Apple does not promise a length, hence the range). */
export const APNS_TOKEN_PATTERN = "[0-9a-f]{16,200}";
/** An app id: the Android package name, the iOS bundle id (its VoIP topic is `<bundle id>.voip`) or the web app's Firebase app id. */
export const PUSH_APP_ID_PATTERN = "[A-Za-z0-9._:-]{1,200}";
/** A random id each installation makes once and keeps, so a device finds its own slot again. */
export const INSTALLATION_ID_PATTERN = "[A-Za-z0-9_-]{16,64}";

/**
 * `expire_at` of a target (its TTL field): the device's clock plus `clientSeconds` at every
 * registration. The rules accept `minSeconds` to `maxSeconds` after the server's time; the
 * function ignores a target past its `expire_at`, and the TTL policy deletes it within a day
 * or so. A device refreshes its target at least every `refreshSeconds` (on start) so an app
 * that is still installed never lapses.
 */
export const PUSH_TARGET_EXPIRY = Object.freeze({
  clientSeconds: 60 * 86_400,
  minSeconds: 30 * 86_400,
  maxSeconds: 90 * 86_400,
  refreshSeconds: 86_400,
} as const);

/** Field names of `users/{uid}/push_targets/{slot}`. */
export const PUSH_TARGET_FIELDS = Object.freeze({
  platform: "platform",
  token: "token",
  appId: "app_id",
  apnsEnvironment: "apns_environment",
  installationId: "installation_id",
  updatedAt: "updated_at",
  expireAt: "expire_at",
} as const);

/** Path of one push target. */
export function pushTargetPath(uid: string, targetId: string): string {
  return `${USERS_COLLECTION}/${uid}/${PUSH_TARGETS_COLLECTION}/${targetId}`;
}

/** Path of a user's push targets collection. */
export function pushTargetsPath(uid: string): string {
  return `${USERS_COLLECTION}/${uid}/${PUSH_TARGETS_COLLECTION}`;
}

const installationIdSchema = z.string().regex(wholeMatch(INSTALLATION_ID_PATTERN), {
  error: "installation_id must be 16 to 64 of A-Z, a-z, 0-9, _ and - (make it once per installation and keep it)",
});
const appIdSchema = z.string().regex(wholeMatch(PUSH_APP_ID_PATTERN), {
  error: "app_id must be 1 to 200 of A-Z, a-z, 0-9 and . _ : - (the package name, bundle id or Firebase app id)",
});
const fcmTokenSchema = z
  .string()
  .max(MAX_FCM_TOKEN_LENGTH, { error: `token must be at most ${MAX_FCM_TOKEN_LENGTH} characters` })
  .regex(wholeMatch(FCM_TOKEN_PATTERN), { error: "token must be an FCM registration token (A-Z, a-z, 0-9 and _ : . -)" });
const apnsTokenSchema = z.string().regex(wholeMatch(APNS_TOKEN_PATTERN), {
  error: "token must be the PushKit device token as lowercase hex (16 to 200 digits)",
});

/** What a device registers: its platform, its token, its app and its installation id. */
export const pushTargetInputSchema = z.discriminatedUnion("platform", [
  z.strictObject({ platform: z.literal("android"), token: fcmTokenSchema, app_id: appIdSchema, installation_id: installationIdSchema }),
  z.strictObject({ platform: z.literal("web"), token: fcmTokenSchema, app_id: appIdSchema, installation_id: installationIdSchema }),
  z.strictObject({
    platform: z.literal("ios-voip"),
    token: apnsTokenSchema,
    app_id: appIdSchema,
    apns_environment: z.enum(APNS_ENVIRONMENTS, { error: `apns_environment must be "production" or "development"` }),
    installation_id: installationIdSchema,
  }),
]);
/** A device's registration, before the times are added. */
export type PushTargetInput = z.infer<typeof pushTargetInputSchema>;

/** A push target document as stored (what the server reads). */
export const pushTargetSchema = z.intersection(
  pushTargetInputSchema,
  z.object({ updated_at: timestampSchema, expire_at: timestampSchema }),
);
/** A stored push target. */
export type PushTarget = z.infer<typeof pushTargetSchema>;

/** The document a device writes for `input`; `serverTime` is the SDK's `serverTimestamp()`, `nowMillis` the device clock. */
export function pushTargetFields<T>(input: PushTargetInput, serverTime: T, nowMillis: number) {
  return { ...input, updated_at: serverTime, expire_at: new Date(nowMillis + PUSH_TARGET_EXPIRY.clientSeconds * 1_000) };
}

/** Whether a stored target may still be used at `nowMillis` (the TTL policy deletes it some time after). */
export function isPushTargetLive(target: { expire_at: TimestampLike }, nowMillis: number): boolean {
  return target.expire_at.toMillis() > nowMillis;
}

/**
 * The slot a device should write its target to, from the user's targets as they are: its own
 * (same installation), else the lowest free slot, else the one refreshed longest ago (the
 * device that has gone quiet longest gives way). `undefined` never happens: there are always slots.
 */
export function choosePushTargetSlot(
  existing: ReadonlyArray<{ id: string; installation_id?: unknown; updated_at?: TimestampLike | null }>,
  installationId: string,
): string {
  const own = existing.find((target) => target.installation_id === installationId);
  if (own) return own.id;
  const taken = new Set(existing.map((target) => target.id));
  const free = PUSH_TARGET_IDS.find((id) => !taken.has(id));
  if (free !== undefined) return free;
  const age = (target: (typeof existing)[number]) => target.updated_at?.toMillis() ?? 0;
  return [...existing].filter((target) => PUSH_TARGET_IDS.includes(target.id)).sort((a, b) => age(a) - age(b))[0].id;
}
