import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { withFunctionTriggersDisabled } from "@firebase/rules-unit-testing";
import { handleSessionWritten } from "#functions/sessions/trigger";
import { candidatesPath, sessionPath, type Role } from "@webrtc-lite/contract";
import { adminFirestoreModule, type AdminDocumentSnapshot } from "@webrtc-lite/dev-stack/admin";
import { captureOutputAsync } from "../helpers/capture";
import { sampleCandidates, sampleSdp } from "../helpers/sdp";
import { IncomingCalls, OutgoingCall, signIn, type Party } from "../helpers/signaling-client";
import { SUITE_TIMEOUTS, useSignalingStack, waitForLogEntries } from "@webrtc-lite/dev-stack/signaling-stack";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

const { Timestamp, FieldValue } = adminFirestoreModule;
const SECOND = 1_000;

describe("session triggers (Functions, Firestore and Auth emulators)", function () {
  this.timeout(180_000);
  const suite = useSignalingStack(["auth", "functions", "firestore"]);
  let caller: Party;
  let callee: Party;
  let incoming: IncomingCalls;

  beforeEach(async () => {
    caller = await signIn(suite.stack.ports);
    callee = await signIn(suite.stack.ports);
    incoming = new IncomingCalls(callee);
    await incoming.attached.wait();
  });
  afterEach(async () => {
    incoming.stop();
    await caller.close();
    await callee.close();
  });

  const sessionDoc = (sessionId: string) => suite.admin.db.doc(sessionPath(sessionId));
  const candidateDoc = (sessionId: string, sender: Role) => suite.admin.db.doc(candidatesPath(sessionId, sender));
  const millis = (snapshot: AdminDocumentSnapshot, field: string) => (snapshot.get(field) as InstanceType<typeof Timestamp>).toMillis();

  /** Waits, on the server's side, until the session satisfies `predicate`. */
  // Polled, not listened to: the emulator's Listen stream can break when a listener attaches
  // while a write lands (packages/dev-stack/src/listen-stream.ts), and the Admin SDK then goes silent 60 s.
  function waitForSession(sessionId: string, what: string, predicate: (data: Record<string, unknown>) => boolean): Promise<AdminDocumentSnapshot> {
    return waitFor(`session ${sessionId} ${what}`, async () => {
      const snapshot = await sessionDoc(sessionId).get();
      return snapshot.exists && predicate(snapshot.data()!) ? snapshot : undefined;
    }, 20_000, 50);
  }
  const waitForStatus = (sessionId: string, status: string) => waitForSession(sessionId, `to be ${status}`, (data) => data.status === status);

  function waitForDeleted(path: string): Promise<AdminDocumentSnapshot> {
    return waitFor(`${path} to be deleted`, async () => {
      const snapshot = await suite.admin.db.doc(path).get();
      return snapshot.exists ? undefined : snapshot;
    }, 20_000, 50);
  }

  it("records a full call between two signed-in users through every state, after the fact", async () => {
    const call = await OutgoingCall.place(caller, callee.uid);
    const id = call.sessionId;

    // The caller's candidates document came with the create: the caller's own, not the server's.
    const own = await candidateDoc(id, "caller").get();
    assert.deepEqual([own.get("sender"), own.get("caller_id"), own.get("callee_id"), own.get("candidates")], ["caller", caller.uid, callee.uid, []]);
    assert.ok(millis(own, "expire_at") - millis(own, "created_at") >= 24 * 3_600 * SECOND);
    assert.equal((await candidateDoc(id, "callee").get()).exists, false);

    const ringing = await incoming.waitForRinging(id);
    assert.equal(ringing.session.caller_id, caller.uid);
    assert.equal(ringing.session.offer?.sdp, sampleSdp("offer"));
    assert.equal(ringing.session.ring_seconds, 60);

    const offered = await waitForStatus(id, "offered");
    const offeredAt = millis(offered, "updated_at");
    assert.equal(millis(offered, "expire_at"), offeredAt + (SUITE_TIMEOUTS.ringSeconds + SUITE_TIMEOUTS.sessionTtlSeconds) * SECOND);
    assert.equal(offered.get("created_at").toMillis() <= offeredAt, true);

    await call.sendCandidates(sampleCandidates("caller"));
    await ringing.accept();
    assert.deepEqual(await call.waitForAnswer(), { type: "answer", sdp: sampleSdp("answer") });
    await incoming.waitForGone(id);
    const answered = await waitForStatus(id, "answered");
    const answeredAt = millis(answered, "updated_at");
    assert.ok(answeredAt >= offeredAt);
    assert.equal(millis(answered, "expire_at"), answeredAt + (SUITE_TIMEOUTS.answerSeconds + SUITE_TIMEOUTS.sessionTtlSeconds) * SECOND);

    await ringing.sendCandidates(sampleCandidates("callee"));
    assert.deepEqual(await ringing.candidates(6), sampleCandidates("caller"));
    assert.deepEqual(await call.candidates(6), sampleCandidates("callee"));

    await call.reportConnected();
    const connected = await waitForStatus(id, "connected");
    const connectedAt = millis(connected, "updated_at");
    assert.equal(connected.get("connectivity.by"), "caller");
    assert.equal(millis(connected, "expire_at"), connectedAt + (SUITE_TIMEOUTS.maxCallSeconds + SUITE_TIMEOUTS.sessionTtlSeconds) * SECOND);

    // The caller learns of the hang-up from the callee's own deletion, before any trigger.
    await ringing.end("hangup");
    await call.waitForEnd();
    const ended = await waitForStatus(id, "ended");
    const endedAt = millis(ended, "ended_at");
    assert.equal(ended.get("ended_reason"), "hangup");
    assert.equal(millis(ended, "updated_at"), endedAt);
    assert.equal(millis(ended, "expire_at"), endedAt + SUITE_TIMEOUTS.sessionTtlSeconds * SECOND);
    assert.equal(ended.get("error"), undefined);
    assert.deepEqual(ended.get("end_request.by"), "callee");
    await ringing.waitForEnd();
    assert.equal((await candidateDoc(id, "caller").get()).exists, false);
    assert.equal((await candidateDoc(id, "callee").get()).exists, false);

    const transitions = await waitForLogEntries(suite.stack, "session transition", id, 4);
    assert.deepEqual(
      transitions.map((entry) => [entry.from, entry.to, entry.writes, entry.deletes]),
      [
        ["pending", "offered", 1, 0],
        ["offered", "answered", 1, 0],
        ["answered", "connected", 1, 0],
        ["connected", "ended", 1, 2],
      ],
    );
    call.stop();
    ringing.stop();
  });

  it("rings, connects and hangs up with every trigger off; a late delivery records it all in one write", async () => {
    const hub = { host: "127.0.0.1", port: suite.stack.ports.hub };
    let id = "";
    let last: AdminDocumentSnapshot | undefined;
    await withFunctionTriggersDisabled(hub, async () => {
      const call = await OutgoingCall.place(caller, callee.uid, sampleCandidates("caller").slice(0, 2));
      id = call.sessionId;
      const ringing = await incoming.waitForRinging(id);
      await call.sendCandidates(sampleCandidates("caller").slice(2));
      await ringing.accept(sampleCandidates("callee").slice(0, 3));
      await call.waitForAnswer();
      await ringing.sendCandidates(sampleCandidates("callee").slice(3));
      assert.deepEqual(await ringing.candidates(6), sampleCandidates("caller"));
      assert.deepEqual(await call.candidates(6), sampleCandidates("callee"));
      await call.reportConnected();
      await call.end("hangup");
      await ringing.waitForEnd();
      last = await sessionDoc(id).get();
      call.stop();
      ringing.stop();
    });
    // No function ran: the record still says pending, and the create's own expire_at bounds it.
    assert.equal(last!.get("status"), "pending");
    assert.ok(millis(last!, "expire_at") > millis(last!, "created_at") + 24 * 3_600 * SECOND);

    const { result, error } = await captureOutputAsync(() => handleSessionWritten(suite.admin.db, last, SUITE_TIMEOUTS, Date.now()));
    if (error) throw error;
    assert.deepEqual(result!.decision.kind === "transition" && [result!.decision.from, result!.decision.to, result!.outcome], ["pending", "ended", "written"]);
    const ended = await sessionDoc(id).get();
    assert.deepEqual([ended.get("status"), ended.get("ended_reason")], ["ended", "hangup"]);
    assert.equal(millis(ended, "expire_at"), millis(ended, "ended_at") + SUITE_TIMEOUTS.sessionTtlSeconds * SECOND);
    assert.equal((await candidateDoc(id, "callee").get()).exists, false);
  });

  it("ends a ringing call the callee rejects, and tells the caller why", async () => {
    const call = await OutgoingCall.place(caller, callee.uid);
    const ringing = await incoming.waitForRinging(call.sessionId);
    await ringing.end("reject");
    // The caller learns it from the callee's end request, not from the trigger.
    const ended = await call.endedWhileRinging.wait();
    assert.deepEqual(ended.end_request && [ended.end_request.by, ended.end_request.reason], ["callee", "reject"]);
    await incoming.waitForGone(call.sessionId);
    const recorded = await waitForStatus(call.sessionId, "ended");
    assert.equal(recorded.get("ended_reason"), "reject");
    await waitForDeleted(candidatesPath(call.sessionId, "caller"));
    await waitForDeleted(candidatesPath(call.sessionId, "callee"));
    call.stop();
  });

  it("ends a call the caller cancels while it rings, and stops the callee's ringing", async () => {
    const call = await OutgoingCall.place(caller, callee.uid);
    await incoming.waitForRinging(call.sessionId);
    await call.end("cancel");
    await incoming.waitForGone(call.sessionId);
    const ended = await waitForStatus(call.sessionId, "ended");
    assert.equal(ended.get("ended_reason"), "cancel");
    assert.equal(ended.get("end_request.by"), "caller");
    call.stop();
  });

  it("refuses a transition written past the rules: resets the field and records why in error", async () => {
    const call = await OutgoingCall.place(caller, callee.uid);
    await waitForStatus(call.sessionId, "offered");
    // The Admin SDK bypasses the rules, like a buggy backend or a console edit would.
    await sessionDoc(call.sessionId).update({ connectivity: { by: "caller", at: FieldValue.serverTimestamp() } });
    const refused = await waitForSession(call.sessionId, "to record the refusal", (data) => data.error !== undefined && data.connectivity === null);
    assert.deepEqual(refused.get("error"), {
      code: "connectivity-out-of-order",
      message: "the connectivity is accepted only while the call is answered; it is offered.",
    });
    assert.equal(refused.get("status"), "offered");
    const [entry] = await waitForLogEntries(suite.stack, "session write refused", call.sessionId, 1);
    assert.deepEqual([entry?.code, entry?.reason, entry?.removed], [
      "connectivity-out-of-order",
      "the connectivity is accepted only while the call is answered; it is offered.",
      ["connectivity"],
    ]);
    call.stop();
  });

  it("ends a session created past the rules with invalid data, with reason error", async () => {
    const id = randomUUID();
    const now = Timestamp.now();
    await sessionDoc(id).set({ caller_id: "alice", callee_id: "alice", status: "pending", offer: { type: "offer", sdp: sampleSdp("offer") }, created_at: now, updated_at: now });
    const ended = await waitForStatus(id, "ended");
    assert.equal(ended.get("ended_reason"), "error");
    assert.deepEqual(ended.get("error"), { code: "invalid-session", message: "the session document is invalid: callee_id: caller and callee are the same user" });
    assert.equal(millis(ended, "expire_at"), millis(ended, "ended_at") + SUITE_TIMEOUTS.sessionTtlSeconds * SECOND);
  });

  it("converges on redelivery: one delivery writes, duplicates and stale ones change nothing", async () => {
    const call = await OutgoingCall.place(caller, callee.uid);
    const id = call.sessionId;
    await waitForStatus(id, "offered");

    // Write the answer with the emulator's triggers off, keeping the event's snapshot for ourselves.
    let event: AdminDocumentSnapshot | undefined;
    await withFunctionTriggersDisabled({ host: "127.0.0.1", port: suite.stack.ports.hub }, async () => {
      await sessionDoc(id).update({ answer: { type: "answer", sdp: sampleSdp("answer") } });
      event = await sessionDoc(id).get();
    });
    assert.equal(event!.get("status"), "offered");

    const mark = Date.now() + 7 * SECOND;
    // Deliveries run in this process; their log lines stay out of the test report. (One capture
    // around both: stdout redirections must not interleave.)
    const quietly = async <T>(action: () => Promise<T>): Promise<T> => {
      const { result, error } = await captureOutputAsync(action);
      if (error) throw error;
      return result!;
    };
    const deliver = (snapshot: AdminDocumentSnapshot | undefined, now: number) => handleSessionWritten(suite.admin.db, snapshot, SUITE_TIMEOUTS, now);
    const deliveries = await quietly(() => Promise.all([deliver(event, mark), deliver(event, mark)]));
    assert.deepEqual(deliveries.map((delivery) => delivery.outcome).sort(), ["superseded", "written"]);
    const answered = await sessionDoc(id).get();
    assert.equal(answered.get("status"), "answered");
    assert.equal(millis(answered, "updated_at"), mark);

    // A late redelivery of the same event loses its precondition; the trigger's own write decides nothing.
    const late = await quietly(() => deliver(event, mark + SECOND));
    assert.equal(late.outcome, "superseded");
    const own = await quietly(() => deliver(answered, mark + SECOND));
    assert.deepEqual(own, { decision: { kind: "none", why: "answered: waiting for a connectivity report" } });
    const after = await sessionDoc(id).get();
    assert.equal(millis(after, "updated_at"), mark);
    assert.equal(after.updateTime!.isEqual(answered.updateTime!), true);
    call.stop();
  });
});
