// The push function's pure decisions: which writes ask for a push, whether a call still rings,
// which targets are usable, the exact messages, what each platform's answer means, the APNs
// settings; and the contract's patterns as firestore.rules carries them.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isRingingShape, pushEventOf, ringingCall, usableTargets } from "#functions/push/decide";
import { apnsOutcome, apnsRequest, fcmMessage, fcmOutcome, secondsLeft } from "#functions/push/messages";
import { resolveApnsSettings } from "#functions/push/settings";
import { parsePushPayload } from "@webrtc-lite/client";
import {
  APNS_TOKEN_PATTERN,
  DEFAULT_TIMEOUTS,
  FCM_TOKEN_PATTERN,
  INSTALLATION_ID_PATTERN,
  MAX_FCM_TOKEN_LENGTH,
  MAX_PUSH_TARGETS,
  PUSH_APP_ID_PATTERN,
  PUSH_TARGET_EXPIRY,
  PUSH_TARGET_ID_PATTERN,
  callOverPayload,
  choosePushTargetSlot,
  ringPayload,
  type PushTarget,
} from "@webrtc-lite/contract";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";

const NOW = 1_767_614_400_000;
const at = (millis: number) => ({ toMillis: () => millis });
const ringing = { caller_id: "alice", callee_id: "bob", status: "offered", answer: null, end_request: null, created_at: at(NOW - 10_000), ring_seconds: 60 };
const target = (overrides: Record<string, unknown> = {}) => ({
  platform: "android",
  token: "token:APA91b",
  app_id: "com.example.calls",
  installation_id: "install-0000000001",
  updated_at: at(NOW - 1_000),
  expire_at: at(NOW + 1_000),
  ...overrides,
});

describe("push decisions (pure)", () => {
  it("asks for a ring on the create, call over when the call leaves the incoming-calls query, nothing otherwise", () => {
    assert.deepEqual(pushEventOf(undefined, ringing), { kind: "ring" });
    assert.deepEqual(pushEventOf(ringing, { ...ringing, status: "offered" }), { kind: "none" });
    assert.deepEqual(pushEventOf({ ...ringing, status: "pending" }, ringing), { kind: "none" });
    assert.deepEqual(pushEventOf(ringing, { ...ringing, answer: { type: "answer", sdp: "v=0" } }), { kind: "call_over", reason: "answered" });
    assert.deepEqual(pushEventOf(ringing, { ...ringing, end_request: { by: "caller", reason: "cancel" } }), { kind: "call_over", reason: "cancel" });
    assert.deepEqual(pushEventOf(ringing, { ...ringing, status: "ended", ended_reason: "timeout" }), { kind: "call_over", reason: "timeout" });
    const answered = { ...ringing, status: "answered", answer: { type: "answer", sdp: "v=0" } };
    assert.deepEqual(pushEventOf(answered, { ...answered, status: "ended", ended_reason: "hangup" }), { kind: "none" });
    assert.deepEqual(pushEventOf(ringing, undefined), { kind: "none" });
    assert.deepEqual(pushEventOf(undefined, undefined), { kind: "none" });
    assert.equal(isRingingShape({ ...ringing, status: "pending" }), true);
  });

  it("rings only a valid session that is not answered, not asked to end, and within its deadline (the operator's ring timeout caps it)", () => {
    assert.deepEqual(ringingCall(ringing, NOW, DEFAULT_TIMEOUTS), { callerId: "alice", calleeId: "bob", deadlineMillis: NOW + 50_000 });
    assert.deepEqual(ringingCall({ ...ringing, ring_seconds: 600 }, NOW, { ...DEFAULT_TIMEOUTS, ringSeconds: 30 }), { callerId: "alice", calleeId: "bob", deadlineMillis: NOW + 20_000 });
    assert.deepEqual(ringingCall(ringing, NOW + 50_000, DEFAULT_TIMEOUTS), { skip: "the ring deadline has passed" });
    assert.deepEqual(ringingCall({ ...ringing, end_request: { reason: "cancel" } }, NOW, DEFAULT_TIMEOUTS), { skip: "the call no longer rings (answered or ended)" });
    assert.deepEqual(ringingCall({ ...ringing, status: "ended" }, NOW, DEFAULT_TIMEOUTS), { skip: "the call no longer rings (answered or ended)" });
    assert.deepEqual(ringingCall({ ...ringing, callee_id: "b/ob" }, NOW, DEFAULT_TIMEOUTS), { skip: "the session document is invalid" });
    assert.deepEqual(ringingCall(undefined, NOW, DEFAULT_TIMEOUTS), { skip: "the session is gone" });
  });

  it("uses targets in a slot, valid and not past expire_at", () => {
    const documents = [
      { id: "0", data: target() },
      { id: "1", data: target({ expire_at: at(NOW) }) },
      { id: "2", data: target({ platform: "ios-voip" }) },
      { id: "x", data: target() },
      { id: "3", data: target({ platform: "ios-voip", token: "ab".repeat(32), apns_environment: "development" }) },
    ];
    assert.deepEqual(usableTargets(documents, NOW).map((usable) => usable.id), ["0", "3"]);
  });

  it("builds the exact FCM messages and APNs request, and stops at the deadline", () => {
    const payload = ringPayload("s1", "alice", NOW + 30_999);
    const data = { kind: "ring", session_id: "s1", caller_id: "alice", ring_deadline: String(NOW + 30_999) };
    assert.deepEqual(fcmMessage(target() as PushTarget, payload, NOW + 30_999, NOW), { token: "token:APA91b", data, android: { priority: "high", ttl: 30_000 } });
    assert.deepEqual(fcmMessage(target({ platform: "web" }) as PushTarget, payload, NOW + 30_999, NOW), { token: "token:APA91b", data, webpush: { headers: { Urgency: "high", TTL: "30" } } });
    const ios = target({ platform: "ios-voip", token: "ab".repeat(32), apns_environment: "development" }) as Extract<PushTarget, { platform: "ios-voip" }>;
    const over = callOverPayload("s1", "alice", NOW + 30_999, "answered");
    assert.deepEqual(apnsRequest(ios, over, NOW + 30_999, NOW), {
      origin: "https://api.sandbox.push.apple.com",
      path: `/3/device/${"ab".repeat(32)}`,
      headers: { "apns-push-type": "voip", "apns-priority": "10", "apns-expiration": String(Math.floor((NOW + 30_999) / 1_000)), "apns-topic": "com.example.calls.voip", "content-type": "application/json" },
      body: JSON.stringify({ ...data, kind: "call_over", reason: "answered" }),
    });
    assert.equal(apnsRequest(ios, over, NOW - 1, NOW).headers["apns-expiration"], "0");
    assert.equal(secondsLeft(NOW - 5_000, NOW), 0);
  });

  it("turns each platform's answer into sent, dead (delete the target) or failed", () => {
    assert.deepEqual(fcmOutcome(undefined), { result: "sent" });
    assert.deepEqual(fcmOutcome("messaging/registration-token-not-registered"), { result: "dead", reason: "registration-token-not-registered" });
    assert.deepEqual(fcmOutcome("messaging/invalid-argument"), { result: "dead", reason: "invalid-argument" });
    assert.deepEqual(fcmOutcome("messaging/server-unavailable"), { result: "failed", reason: "server-unavailable", retryable: true });
    assert.deepEqual(fcmOutcome("messaging/third-party-auth-error"), { result: "failed", reason: "third-party-auth-error", retryable: false });
    assert.deepEqual(apnsOutcome(200, undefined), { result: "sent" });
    assert.deepEqual(apnsOutcome(410, "Unregistered"), { result: "dead", reason: "Unregistered" });
    assert.deepEqual(apnsOutcome(400, "BadDeviceToken"), { result: "dead", reason: "BadDeviceToken" });
    assert.deepEqual(apnsOutcome(400, "BadTopic"), { result: "failed", reason: "BadTopic", retryable: false });
    assert.deepEqual(apnsOutcome(429, "TooManyRequests"), { result: "failed", reason: "TooManyRequests", retryable: true });
    assert.deepEqual(apnsOutcome(503, undefined), { result: "failed", reason: "HTTP 503", retryable: true });
    assert.deepEqual(apnsOutcome(0, "ECONNREFUSED"), { result: "failed", reason: "ECONNREFUSED", retryable: false });
  });

  it("says what is wrong with the APNs settings without echoing the key", () => {
    const key = "-----BEGIN PRIVATE KEY-----\nsecretmaterial\n-----END PRIVATE KEY-----";
    const good = { key, keyId: "KEY1234567", teamId: "TEAM123456", bundleIds: " com.example.calls , com.example.other " };
    assert.deepEqual(resolveApnsSettings(good), { configured: true, privateKeyPem: key, keyId: "KEY1234567", teamId: "TEAM123456", bundleIds: ["com.example.calls", "com.example.other"] });
    const problems = [
      resolveApnsSettings({ ...good, key: "none" }),
      resolveApnsSettings({ ...good, key: "secretmaterial" }),
      resolveApnsSettings({ ...good, keyId: "short" }),
      resolveApnsSettings({ ...good, teamId: "" }),
      resolveApnsSettings({ ...good, bundleIds: " , " }),
    ].map((settings) => (settings.configured ? "configured" : settings.problem));
    assert.deepEqual(problems, [
      'APNS_AUTH_KEY is "none": iOS pushes are off',
      "APNS_AUTH_KEY must hold the whole .p8 file, its BEGIN PRIVATE KEY and END PRIVATE KEY lines included",
      "APNS_KEY_ID must be the 10-character Key ID of the .p8 key (A-Z, 0-9)",
      "APNS_TEAM_ID must be the 10-character Team ID (A-Z, 0-9)",
      "APNS_BUNDLE_IDS must name at least one bundle id",
    ]);
    assert.ok(problems.every((problem) => !problem.includes("secretmaterial")));
  });

  it("chooses a device's slot: its own, else the lowest free one, else the one refreshed longest ago", () => {
    assert.equal(choosePushTargetSlot([], "me"), "0");
    assert.equal(choosePushTargetSlot([{ id: "0", installation_id: "a" }, { id: "4", installation_id: "me" }], "me"), "4");
    assert.equal(choosePushTargetSlot([{ id: "0", installation_id: "a" }, { id: "2", installation_id: "b" }], "me"), "1");
    const full = Array.from({ length: 10 }, (_, slot) => ({ id: String(slot), installation_id: `d${slot}`, updated_at: at(slot === 7 ? 1 : 100 + slot) }));
    assert.equal(choosePushTargetSlot(full, "me"), "7");
  });

  it("parses what a push delivered, ignoring keys the platform adds, and refuses what is not ours", () => {
    const ring = ringPayload("s1", "alice", NOW);
    assert.deepEqual(parsePushPayload({ ...ring, "google.message_id": "0:1", from: "1234" }), ring);
    assert.deepEqual(parsePushPayload(callOverPayload("s1", "alice", NOW, "cancel")), callOverPayload("s1", "alice", NOW, "cancel"));
    assert.equal(parsePushPayload({ ...ring, kind: "chat" }), undefined);
    assert.equal(parsePushPayload({ ...ring, session_id: "a/b" }), undefined);
    assert.equal(parsePushPayload("ring"), undefined);
  });

  it("firestore.rules carries the contract's patterns and bounds for push targets", () => {
    const rules = readFileSync(join(REPO_ROOT, "firestore.rules"), "utf8");
    for (const pattern of [PUSH_TARGET_ID_PATTERN, FCM_TOKEN_PATTERN, APNS_TOKEN_PATTERN, PUSH_APP_ID_PATTERN, INSTALLATION_ID_PATTERN]) {
      assert.ok(rules.includes(`matches('${pattern}')`), `firestore.rules matches('${pattern}')`);
    }
    assert.ok(rules.includes(`data.token.size() <= ${MAX_FCM_TOKEN_LENGTH}`));
    assert.ok(rules.includes(`request.time + duration.value(${PUSH_TARGET_EXPIRY.minSeconds}, 's')`));
    assert.ok(rules.includes(`request.time + duration.value(${PUSH_TARGET_EXPIRY.maxSeconds}, 's')`));
    assert.ok(rules.includes(`request.auth.uid == uid && request.query.limit <= ${MAX_PUSH_TARGETS}`));
  });
});
