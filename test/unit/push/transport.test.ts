// The two senders against loopback fakes of FCM HTTP v1 (with Google's OAuth token endpoint)
// and APNs, reached through the real host names (test/helpers/push-redirect.ts): what exactly
// each platform receives, and what each platform's refusal becomes.
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { ApnsClient } from "#functions/push/apns";
import { firebaseMessagingSender } from "#functions/push/fcm";
import { apnsOutcome, apnsRequest, fcmMessage, fcmOutcome } from "#functions/push/messages";
import { ringPayload, type PushTarget } from "@webrtc-lite/contract";
import { adminAppModule } from "@webrtc-lite/dev-stack/admin";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { FAKE_HOSTS, TEST_APNS, makePushPki, startFakeApns, startFakeGoogle, type FakeServer, type PushPki } from "../../helpers/push-fakes";
import { redirectTls } from "../../helpers/push-redirect";

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);
const DEADLINE = NOW + 45_500;
const stamp = { toMillis: () => NOW };
const android: PushTarget = { platform: "android", token: "fcm-android-token:APA91b", app_id: "com.example.calls", installation_id: "install-android-0001", updated_at: stamp, expire_at: stamp };
const web: PushTarget = { platform: "web", token: "fcm-web-token:APA91c", app_id: "1:1234:web:abcd", installation_id: "install-web-000000001", updated_at: stamp, expire_at: stamp };
const ios = { platform: "ios-voip", token: "ab".repeat(32), app_id: "com.example.calls", apns_environment: "production", installation_id: "install-ios-00000001", updated_at: stamp, expire_at: stamp } as const;

describe("push senders against fake FCM and APNs (loopback, real protocols)", function () {
  this.timeout(30_000);
  let pki: PushPki;
  let google: FakeServer & { issuedTokens: Set<string> };
  let apns: FakeServer;
  let restore: () => void;

  before(async () => {
    pki = await makePushPki(PROJECT_ID);
    google = await startFakeGoogle(pki);
    apns = await startFakeApns(pki);
    restore = redirectTls(
      { [FAKE_HOSTS.oauth]: google.port, [FAKE_HOSTS.fcm]: google.port, [FAKE_HOSTS.apns]: apns.port, [FAKE_HOSTS.apnsSandbox]: apns.port },
      pki.caPem,
    );
  });
  after(async () => {
    restore?.();
    await google?.close();
    await apns?.close();
    await pki?.remove();
  });

  describe("FCM HTTP v1 through firebase-admin messaging", () => {
    let app: ReturnType<typeof adminAppModule.initializeApp>;
    before(() => {
      app = adminAppModule.initializeApp({ credential: adminAppModule.cert(pki.serviceAccountCredential), projectId: PROJECT_ID }, `fcm-${randomUUID()}`);
    });
    after(() => adminAppModule.deleteApp(app));

    it("posts one data-only, high-priority message per target with the OAuth bearer token, TTL the time left to ring", async () => {
      const payload = ringPayload("session-1", "alice", DEADLINE);
      const before = google.received.length;
      const codes = await firebaseMessagingSender(app)([fcmMessage(android, payload, DEADLINE, NOW), fcmMessage(web, payload, DEADLINE, NOW)]);
      assert.deepEqual(codes, [undefined, undefined]);
      const requests = google.received.slice(before).sort((a, b) => JSON.stringify(a.body).localeCompare(JSON.stringify(b.body)));
      assert.equal(requests.length, 2);
      for (const request of requests) {
        assert.equal(request.method, "POST");
        assert.equal(request.authority, FAKE_HOSTS.fcm);
        assert.equal(request.path, `/v1/projects/${PROJECT_ID}/messages:send`);
        assert.match(String(request.headers["content-type"]), /^application\/json/);
        const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization))?.[1];
        assert.ok(bearer && google.issuedTokens.has(bearer), "the bearer token is one the OAuth endpoint issued for the service account's signed assertion");
      }
      const data = { kind: "ring", session_id: "session-1", caller_id: "alice", ring_deadline: String(DEADLINE) };
      assert.deepEqual(requests.map((request) => request.body), [
        { message: { token: android.token, data, android: { priority: "high", ttl: "45s" } } },
        { message: { token: web.token, data, webpush: { headers: { Urgency: "high", TTL: "45" } } } },
      ]);
    });

    it("reports UNREGISTERED and INVALID_ARGUMENT as dead tokens, and a good token beside them as sent", async () => {
      const gone = `gone-${randomUUID()}`;
      const invalid = `invalid-${randomUUID()}`;
      google.setFate(gone, "unregistered");
      google.setFate(invalid, "invalid");
      const payload = ringPayload("session-2", "alice", DEADLINE);
      const codes = await firebaseMessagingSender(app)(
        [{ ...android, token: gone }, { ...web, token: invalid }, android].map((target) => fcmMessage(target, payload, DEADLINE, NOW)),
      );
      assert.deepEqual(codes, ["messaging/registration-token-not-registered", "messaging/invalid-argument", undefined]);
      assert.deepEqual(codes.map(fcmOutcome), [
        { result: "dead", reason: "registration-token-not-registered" },
        { result: "dead", reason: "invalid-argument" },
        { result: "sent" },
      ]);
    });
  });

  describe("APNs VoIP over HTTP/2 with a provider token", () => {
    let client: ApnsClient;
    before(() => {
      client = new ApnsClient({ privateKeyPem: pki.apnsKeyPem, ...TEST_APNS });
    });
    after(() => client.close());

    it("posts the VoIP push with exactly APNs' headers, the deadline as apns-expiration, a verified ES256 token and the payload", async () => {
      const before = apns.received.length;
      const payload = ringPayload("session-3", "alice", DEADLINE);
      const response = await client.send(apnsRequest(ios, payload, DEADLINE, NOW));
      assert.deepEqual(response, { status: 200, reason: undefined });
      const [request] = apns.received.slice(before);
      assert.equal(request.authority, FAKE_HOSTS.apns);
      assert.equal(request.method, "POST");
      assert.equal(request.path, `/3/device/${ios.token}`);
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name.startsWith("apns-") || name === "content-type"));
      assert.deepEqual(headers, {
        "apns-push-type": "voip",
        "apns-priority": "10",
        "apns-expiration": String(Math.floor(DEADLINE / 1_000)),
        "apns-topic": "com.example.calls.voip",
        "content-type": "application/json",
      });
      assert.match(String(request.headers.authorization), /^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      assert.deepEqual(request.body, { kind: "ring", session_id: "session-3", caller_id: "alice", ring_deadline: String(DEADLINE) });
    });

    it("reuses one connection and one provider token for later pushes, and sends development tokens to the sandbox", async () => {
      const before = apns.received.length;
      const payload = ringPayload("session-4", "alice", DEADLINE);
      await client.send(apnsRequest(ios, payload, DEADLINE, NOW));
      await client.send(apnsRequest({ ...ios, apns_environment: "development" }, payload, DEADLINE, NOW));
      const [first, second] = apns.received.slice(before);
      assert.equal(first.headers.authorization, second.headers.authorization);
      assert.deepEqual([first.authority, second.authority], [FAKE_HOSTS.apns, FAKE_HOSTS.apnsSandbox]);
    });

    it("maps 410 Unregistered and 400 BadDeviceToken to dead tokens, a wrong key to a failure that keeps the target", async () => {
      const gone = "0d".repeat(32);
      const bad = "0e".repeat(32);
      apns.setFate(gone, "unregistered");
      apns.setFate(bad, "invalid");
      const payload = ringPayload("session-5", "alice", DEADLINE);
      const answers = [await client.send(apnsRequest({ ...ios, token: gone }, payload, DEADLINE, NOW)), await client.send(apnsRequest({ ...ios, token: bad }, payload, DEADLINE, NOW))];
      assert.deepEqual(answers, [{ status: 410, reason: "Unregistered" }, { status: 400, reason: "BadDeviceToken" }]);
      assert.deepEqual(answers.map((answer) => apnsOutcome(answer.status, answer.reason)), [
        { result: "dead", reason: "Unregistered" },
        { result: "dead", reason: "BadDeviceToken" },
      ]);
      const stranger = new ApnsClient({ privateKeyPem: pki.apnsKeyPem, keyId: "OTHERKEY00", teamId: TEST_APNS.teamId });
      try {
        const refused = await stranger.send(apnsRequest(ios, payload, DEADLINE, NOW));
        assert.deepEqual(refused, { status: 403, reason: "InvalidProviderToken" });
        assert.deepEqual(apnsOutcome(refused.status, refused.reason), { result: "failed", reason: "InvalidProviderToken", retryable: false });
      } finally {
        stranger.close();
      }
    });
  });
});
