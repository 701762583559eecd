// Push for incoming calls end to end: devices register through the web client's helper and
// the rules, a caller rings, and the notifyCallee function in the Functions emulator sends to
// loopback fakes of FCM HTTP v1 and APNs (test/helpers/push-fakes.ts) reached through the real
// host names. Each test uses callers and callees of its own on one shared stack.
import { strict as assert } from "node:assert";
import { randomBytes, randomUUID } from "node:crypto";
import { withFunctionTriggersDisabled } from "@firebase/rules-unit-testing";
import { collection, deleteDoc, doc, getDoc, getDocs, limit, query, serverTimestamp, setDoc, type DocumentData } from "firebase/firestore";
import { PUSH_DELIVERIES_COLLECTION, handleSessionPush } from "#functions/push/deliver";
import { registerPushTarget } from "@webrtc-lite/client";
import { MAX_PUSH_TARGETS, PUSH_TARGET_EXPIRY, pushTargetFields, pushTargetPath, pushTargetsPath, sessionPath, type PushTargetInput } from "@webrtc-lite/contract";
import { adminFirestoreModule } from "@webrtc-lite/dev-stack/admin";
import { SUITE_TIMEOUTS, useSignalingStack, waitForLogEntries } from "@webrtc-lite/dev-stack/signaling-stack";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { captureOutputAsync } from "../helpers/capture";
import { FAKE_HOSTS, type ReceivedRequest } from "../helpers/push-fakes";
import { TEST_BUNDLE_ID, usePushFakes } from "../helpers/push-stack";
import { quietSdkLogInSuite } from "../helpers/sdk-log";
import { IncomingCalls, OutgoingCall, signIn, type Party } from "../helpers/signaling-client";

const { Timestamp } = adminFirestoreModule;

/** A fresh installation id and token per device, as a real device has. */
function device(platform: PushTargetInput["platform"]): PushTargetInput {
  const installation_id = `install-${randomUUID()}`;
  if (platform === "ios-voip") return { platform, token: randomBytes(32).toString("hex"), app_id: TEST_BUNDLE_ID, apns_environment: "production", installation_id };
  return { platform, token: `${platform}-${randomUUID()}:APA91b${randomBytes(24).toString("base64url")}`, app_id: platform === "web" ? "1:1234:web:abcd" : "com.example.calls", installation_id };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

describe("push for incoming calls (Functions, Firestore and Auth emulators; fake FCM and APNs)", function () {
  this.timeout(120_000);
  const fakes = usePushFakes();
  const suite = useSignalingStack(["auth", "functions", "firestore"], () => fakes.stackSettings());
  const parties: Party[] = [];
  afterEach(async () => {
    await Promise.all(parties.splice(0).map((party) => party.close()));
  });

  async function party(): Promise<Party> {
    const signedIn = await signIn(suite.stack.ports);
    parties.push(signedIn);
    return signedIn;
  }

  /** A callee with one registered device per platform given (through the client helper and the rules). */
  async function calleeWith(...platforms: Array<PushTargetInput["platform"]>): Promise<{ callee: Party; devices: PushTargetInput[]; slots: string[] }> {
    const callee = await party();
    const devices = platforms.map(device);
    const slots: string[] = [];
    for (const registration of devices) slots.push(await registerPushTarget(callee.db, callee.uid, registration));
    return { callee, devices, slots };
  }

  const forSession = (sessionId: string, kind: string) => (request: ReceivedRequest) => {
    const data = (request.body.message as { data?: { session_id?: string; kind?: string } } | undefined)?.data ?? request.body;
    return data.session_id === sessionId && data.kind === kind;
  };
  const fcmFor = (sessionId: string, kind: string) => fakes.google.received.filter(forSession(sessionId, kind));
  const apnsFor = (sessionId: string, kind: string) => fakes.apns.received.filter(forSession(sessionId, kind));
  const createdAtMillis = async (sessionId: string) => ((await suite.admin.db.doc(sessionPath(sessionId)).get()).get("created_at") as InstanceType<typeof Timestamp>).toMillis();

  it("measures create → push request received by FCM, cold and warm, against the session trigger's create → offered in the same run", async () => {
    const { callee } = await calleeWith("android");
    const samples: Array<{ push: number; trigger: number; cold: boolean }> = [];
    for (let index = 0; index < 8; index += 1) {
      const caller = await party();
      const call = await OutgoingCall.place(caller, callee.uid);
      const [request] = await fakes.google.waitFor(1, forSession(call.sessionId, "ring"));
      const created = await createdAtMillis(call.sessionId);
      const offered = await waitFor("offered", async () => {
        const session = await suite.admin.db.doc(sessionPath(call.sessionId)).get();
        return session.get("status") === "pending" ? undefined : session;
      });
      const [log] = await waitForLogEntries(suite.stack, "push sent", call.sessionId, 1);
      samples.push({ push: request.receivedAt - created, trigger: (offered.get("updated_at") as InstanceType<typeof Timestamp>).toMillis() - created, cold: log.coldStart === true });
      await call.end("cancel");
      call.stop();
    }
    const cold = samples.filter((sample) => sample.cold);
    const warm = samples.filter((sample) => !sample.cold);
    assert.ok(cold.length >= 1 && warm.length >= 1, `cold and warm samples (${cold.length} cold, ${warm.length} warm)`);
    const line = (label: string, group: typeof samples) => {
      const push = median(group.map((sample) => sample.push));
      const trigger = median(group.map((sample) => sample.trigger));
      return `${label} (${group.length}): create → FCM request ${push} ms median; session trigger create → offered ${trigger} ms; ratio ${(push / trigger).toFixed(2)}`;
    };
    console.log(`      push latency in the emulator: ${line("cold", cold)}; ${line("warm", warm)}`);
  });

  it("rings an Android, an iOS and a web device once each, with the ring deadline as expiry, and redelivery sends nothing new", async () => {
    const { callee, devices } = await calleeWith("android", "ios-voip", "web");
    const caller = await party();
    const call = await OutgoingCall.place(caller, callee.uid);
    const [fcmAndroid, fcmWeb] = (await fakes.google.waitFor(2, forSession(call.sessionId, "ring"))).sort((a, b) => ("android" in (a.body.message as object) ? -1 : 1) - ("android" in (b.body.message as object) ? -1 : 1));
    const [voip] = await fakes.apns.waitFor(1, forSession(call.sessionId, "ring"));
    const deadline = (await createdAtMillis(call.sessionId)) + SUITE_TIMEOUTS.ringSeconds * 1_000;
    const payload = { kind: "ring", session_id: call.sessionId, caller_id: caller.uid, ring_deadline: String(deadline) };

    const androidMessage = fcmAndroid.body.message as { android: { ttl: string } };
    const ttl = Number(/^(\d+)s$/.exec(androidMessage.android.ttl)?.[1]);
    assert.ok(Math.abs(ttl - (deadline - fcmAndroid.receivedAt) / 1_000) <= 2, `ttl ${ttl} s is the time left to the deadline`);
    assert.deepEqual(fcmAndroid.body, { message: { token: devices[0].token, data: payload, android: { priority: "high", ttl: `${ttl}s` } } });
    const webTtl = (fcmWeb.body.message as { webpush: { headers: { TTL: string } } }).webpush.headers.TTL;
    assert.ok(Math.abs(Number(webTtl) - (deadline - fcmWeb.receivedAt) / 1_000) <= 2);
    assert.deepEqual(fcmWeb.body, { message: { token: devices[2].token, data: payload, webpush: { headers: { Urgency: "high", TTL: webTtl } } } });
    for (const request of [fcmAndroid, fcmWeb]) {
      assert.deepEqual([request.method, request.authority, request.path], ["POST", FAKE_HOSTS.fcm, "/v1/projects/demo-webrtc-lite/messages:send"]);
      assert.ok(fakes.google.issuedTokens.has(String(request.headers.authorization).replace(/^Bearer /, "")));
    }
    assert.deepEqual([voip.method, voip.authority, voip.path], ["POST", FAKE_HOSTS.apns, `/3/device/${devices[1].token}`]);
    assert.deepEqual(
      Object.fromEntries(Object.entries(voip.headers).filter(([name]) => name.startsWith("apns-"))),
      { "apns-push-type": "voip", "apns-priority": "10", "apns-expiration": String(Math.floor(deadline / 1_000)), "apns-topic": `${TEST_BUNDLE_ID}.voip` },
    );
    assert.deepEqual(voip.body, payload);

    // The same create event delivered again (at-least-once): the delivery record says it rang.
    const session = await suite.admin.db.doc(sessionPath(call.sessionId)).get();
    const { result, error, output } = await captureOutputAsync(() =>
      handleSessionPush(suite.admin.db, fakes.transport, { sessionId: call.sessionId, before: undefined, after: session.data() }, SUITE_TIMEOUTS),
    );
    if (error) throw error;
    assert.deepEqual(result, { kind: "ring", why: "already rung (a redelivered event)", outcomes: [] });
    assert.equal(fcmFor(call.sessionId, "ring").length + apnsFor(call.sessionId, "ring").length, 3);
    // No log line, the function's or this process's, carries a device token or the APNs key.
    await waitForLogEntries(suite.stack, "push sent", call.sessionId, 3);
    const keyBody = fakes.pki.apnsKeyPem.split("\n")[1];
    for (const secret of [...devices.map((registration) => registration.token), keyBody]) {
      assert.ok(!output.includes(secret) && !suite.stack.output().includes(secret), "a token or the key was logged");
    }
    call.stop();
  });

  it("answering on one device sends call over to the devices that were rung", async () => {
    const { callee } = await calleeWith("android", "ios-voip", "web");
    const caller = await party();
    const incoming = new IncomingCalls(callee);
    await incoming.attached.wait();
    const call = await OutgoingCall.place(caller, callee.uid);
    await fakes.google.waitFor(2, forSession(call.sessionId, "ring"));
    await fakes.apns.waitFor(1, forSession(call.sessionId, "ring"));
    const ringing = await incoming.waitForRinging(call.sessionId);
    await ringing.accept();
    const over = [...(await fakes.google.waitFor(2, forSession(call.sessionId, "call_over"))), ...(await fakes.apns.waitFor(1, forSession(call.sessionId, "call_over")))];
    const reasons = over.map((request) => ((request.body.message as { data?: { reason?: string } } | undefined)?.data ?? (request.body as { reason?: string })).reason);
    assert.deepEqual(reasons, ["answered", "answered", "answered"]);
    const delivery = await suite.admin.db.collection(PUSH_DELIVERIES_COLLECTION).doc(call.sessionId).get();
    assert.deepEqual([Object.keys(delivery.get("rung") as object).length, delivery.get("over_reason")], [3, "answered"]);
    incoming.stop();
    ringing.stop();
    call.stop();
  });

  it("deletes a target whose token FCM calls UNREGISTERED or APNs calls Unregistered, and keeps the others", async () => {
    const { callee, devices, slots } = await calleeWith("android", "ios-voip", "web");
    fakes.google.setFate(devices[0].token, "unregistered");
    fakes.apns.setFate(devices[1].token, "unregistered");
    const caller = await party();
    const call = await OutgoingCall.place(caller, callee.uid);
    await waitForLogEntries(suite.stack, "push target dead", call.sessionId, 2);
    await waitFor("the dead targets to be deleted", async () => {
      const [android, ios] = await Promise.all(slots.slice(0, 2).map((slot) => suite.admin.db.doc(pushTargetPath(callee.uid, slot)).get()));
      return !android.exists && !ios.exists ? true : undefined;
    });
    assert.equal((await suite.admin.db.doc(pushTargetPath(callee.uid, slots[2])).get()).exists, true);
    call.stop();
  });

  it("sends no ring push for a call that ended before the function ran", async () => {
    const { callee } = await calleeWith("android", "ios-voip");
    const caller = await party();
    const hub = { host: "127.0.0.1", port: suite.stack.ports.hub };
    let sessionId = "";
    await withFunctionTriggersDisabled(hub, async () => {
      const call = await OutgoingCall.place(caller, callee.uid);
      sessionId = call.sessionId;
      await call.end("cancel");
      call.stop();
    });
    // The create event, delivered late: the function reads the session as it is now.
    const { result, error } = await captureOutputAsync(() =>
      handleSessionPush(suite.admin.db, fakes.transport, { sessionId, before: undefined, after: { created_at: Timestamp.now() } }, SUITE_TIMEOUTS),
    );
    if (error) throw error;
    assert.deepEqual(result, { kind: "ring", why: "the call no longer rings (answered or ended)", outcomes: [] });
    assert.equal(fcmFor(sessionId, "ring").length + apnsFor(sessionId, "ring").length, 0);
    assert.equal((await suite.admin.db.collection(PUSH_DELIVERIES_COLLECTION).doc(sessionId).get()).exists, false);
  });

  describe("firestore.rules: push targets (the same emulator)", () => {
    const DAY = 86_400_000;
    const fields = (registration: PushTargetInput, overrides: DocumentData = {}): DocumentData => ({ ...pushTargetFields(registration, serverTimestamp(), Date.now()), ...overrides });
    const write = (owner: Party, slot: string, data: DocumentData, as: Party = owner) => setDoc(doc(as.db, pushTargetPath(owner.uid, slot)), data);
    const refused = (operation: Promise<unknown>) => assert.rejects(operation, (error: { code?: string }) => error.code === "permission-denied");
    quietSdkLogInSuite();

    it("lets a user write, read, list (at most 10) and delete its own targets in slots 0 to 9, and nobody else", async () => {
      const owner = await party();
      const stranger = await party();
      for (const slot of ["0", "9"]) await write(owner, slot, fields(device("android")));
      assert.equal((await getDoc(doc(owner.db, pushTargetPath(owner.uid, "0")))).exists(), true);
      assert.equal((await getDocs(query(collection(owner.db, pushTargetsPath(owner.uid)), limit(MAX_PUSH_TARGETS)))).size, 2);
      await refused(getDocs(query(collection(owner.db, pushTargetsPath(owner.uid)), limit(MAX_PUSH_TARGETS + 1))));
      await refused(getDocs(collection(owner.db, pushTargetsPath(owner.uid))));
      for (const slot of ["10", "a", "00"]) await refused(write(owner, slot, fields(device("android"))));
      // Another user can neither read, list, overwrite nor delete them, nor learn which slots exist.
      await refused(getDoc(doc(stranger.db, pushTargetPath(owner.uid, "0"))));
      await refused(getDoc(doc(stranger.db, pushTargetPath(owner.uid, "5"))));
      await refused(getDocs(query(collection(stranger.db, pushTargetsPath(owner.uid)), limit(1))));
      await refused(write(owner, "0", fields(device("android")), stranger));
      await refused(deleteDoc(doc(stranger.db, pushTargetPath(owner.uid, "0"))));
      await deleteDoc(doc(owner.db, pushTargetPath(owner.uid, "9")));
      await refused(getDoc(doc(stranger.db, `${PUSH_DELIVERIES_COLLECTION}/any-session`)));
    });

    it("refuses targets outside the contract: platform, token shape and size, app id, environment, times, fields", async () => {
      const owner = await party();
      const android = device("android");
      const ios = device("ios-voip");
      await write(owner, "1", fields(ios));
      await write(owner, "2", fields(android, { token: "t".repeat(4_096) }));
      const bad: Array<[string, DocumentData]> = [
        ["an unknown platform", fields(android, { platform: "windows" })],
        ["an FCM token of 4097 characters", fields(android, { token: "t".repeat(4_097) })],
        ["an FCM token with a space", fields(android, { token: "abc def" })],
        ["an iOS token that is not lowercase hex", fields(ios, { token: "AB".repeat(32) })],
        ["an iOS token without its APNs environment", (({ apns_environment: _, ...rest }) => rest)(fields(ios))],
        ["an unknown APNs environment", fields(ios, { apns_environment: "staging" })],
        ["an APNs environment on an Android target", fields(android, { apns_environment: "production" })],
        ["an app id with a slash", fields(android, { app_id: "com/example" })],
        ["a short installation id", fields(android, { installation_id: "short" })],
        ["updated_at from the device clock", fields(android, { updated_at: new Date() })],
        ["expire_at under 30 days", fields(android, { expire_at: new Date(Date.now() + 29 * DAY) })],
        ["expire_at over 90 days", fields(android, { expire_at: new Date(Date.now() + 91 * DAY) })],
        ["an extra field", fields(android, { label: "my phone" })],
        ["no token", (({ token: _, ...rest }) => rest)(fields(android))],
      ];
      for (const [what, data] of bad) await refused(write(owner, "3", data)).catch((error: Error) => assert.fail(`${what}: ${error.message}`));
      assert.equal(PUSH_TARGET_EXPIRY.clientSeconds * 1_000, 60 * DAY);
    });
  });
});
