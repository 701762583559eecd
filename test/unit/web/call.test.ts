import { strict as assert } from "node:assert";
import { listenForCalls, startCall, type Call, type IncomingCall } from "../../../web/src/call/call";
import { CallError, type CallState } from "../../../web/src/call/state";
import { waitFor } from "../../helpers/wait";
import {
  FakePeerConnection,
  FakeSignalingStore,
  candidateLine,
  candidatesDocument,
  sdp,
  sessionDocument,
  timestamp,
} from "./fakes";

const FAST = { batchDelayMs: 0, ringTimeoutMs: 60_000 };
const denied = Object.assign(new Error("Missing or insufficient permissions."), { code: "permission-denied" });
const entry = (n: number) => ({ candidate: candidateLine(n), sdpMid: "0", sdpMLineIndex: 0 });

function phases(call: Call): string[] {
  const seen: string[] = [];
  call.onStateChange((state: CallState) => seen.push(state.phase === "ended" ? `ended:${state.reason}` : state.phase));
  return seen;
}

async function until(what: string, check: () => boolean): Promise<void> {
  await waitFor(what, () => (check() ? true : undefined), 2_000, 5);
}

describe("web client: placing a call", () => {
  let store: FakeSignalingStore;
  let pc: FakePeerConnection;
  beforeEach(() => {
    store = new FakeSignalingStore();
    pc = new FakePeerConnection();
  });

  it("goes starting → ringing → connecting → connected → ended, with one candidate batch per side", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    const seen = phases(call);
    assert.deepEqual(store.created, { caller_id: "alice", callee_id: "bob", offer: { type: "offer", sdp: sdp("offer") } });
    assert.deepEqual(pc.local, { type: "offer", sdp: sdp("offer") });
    assert.equal(call.state.phase, "starting");
    assert.equal(call.sessionId, "session-1");

    // Candidates gathered before the session rings wait: the candidates document does not exist yet.
    pc.gather(entry(1));
    pc.gather(entry(2));
    store.outgoing!(undefined);
    assert.deepEqual(store.appended.caller, []);
    store.outgoing!(sessionDocument("offered"));
    pc.gather(null);
    await until("the caller's batch", () => store.appended.caller.length === 1);
    assert.deepEqual(store.appended.caller[0], [entry(1), entry(2), { candidate: "", sdpMid: null, sdpMLineIndex: null }]);

    store.outgoing!(sessionDocument("offered", { answer: { type: "answer", sdp: sdp("answer") } }));
    await until("the answer to be applied", () => call.state.phase === "connecting");
    assert.deepEqual(pc.remote, { type: "answer", sdp: sdp("answer") });
    assert.equal(store.outgoing, undefined, "Q1 must stop once the answer is in");
    assert.ok(store.candidates.has("callee"));

    store.candidates.get("callee")!(candidatesDocument("callee", [entry(7)]));
    store.candidates.get("callee")!(candidatesDocument("callee", [entry(7), entry(8)]));
    await until("both callee candidates", () => pc.added.length === 2);
    assert.deepEqual(pc.added, [entry(7), entry(8)]);

    pc.becomes("connected");
    pc.becomes("connected");
    await until("the connectivity report", () => store.log.includes("reportConnected session-1 caller"));
    assert.equal(store.log.filter((line) => line.startsWith("reportConnected")).length, 1);

    store.session = sessionDocument("ended", { answer: { type: "answer", sdp: sdp("answer") }, ended_at: timestamp(5_000), ended_reason: "hangup" });
    store.candidates.get("callee")!(undefined);
    await until("the end", () => call.state.phase === "ended");
    assert.deepEqual(seen, ["ringing", "connecting", "connected", "ended:hangup"]);
    assert.equal(pc.closed, true);
    assert.equal(store.candidates.size, 0, "listeners must stop when the call ends");
  });

  it("keeps the candidates gathered while the session is being created and sends them once it rings", async () => {
    // A real browser gathers from setLocalDescription on: before startCall has a session id.
    pc.gatherOnSetLocal = [entry(1), entry(2), null];
    await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    assert.deepEqual(store.appended.caller, []);
    store.outgoing!(sessionDocument("offered"));
    await until("the caller's batch", () => store.appended.caller.length === 1);
    assert.deepEqual(store.appended.caller[0], [entry(1), entry(2), { candidate: "", sdpMid: null, sdpMLineIndex: null }]);
  });

  it("splits a long burst of candidates into writes of at most 8, in order", async () => {
    await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    store.outgoing!(sessionDocument("offered"));
    for (let n = 1; n <= 10; n += 1) pc.gather(entry(n));
    pc.gather(null);
    await until("both writes", () => store.appended.caller.length === 2);
    assert.deepEqual(store.appended.caller.map((batch) => batch.length), [8, 3]);
    assert.deepEqual(store.appended.caller.flat(), [
      ...Array.from({ length: 10 }, (_, n) => entry(n + 1)),
      { candidate: "", sdpMid: null, sdpMLineIndex: null },
    ]);
  });

  it("cancels while ringing, and hangs up once answered", async () => {
    const ringing = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    store.outgoing!(sessionDocument("offered"));
    await ringing.hangUp();
    assert.ok(store.log.includes("requestEnd session-1 caller cancel"));
    assert.deepEqual(ringing.state, { phase: "ended", reason: "cancel" });
    assert.equal(pc.closed, true);

    const second = new FakePeerConnection();
    const answered = await startCall(store, second, { callerId: "alice", calleeId: "bob" }, FAST);
    store.outgoing!(sessionDocument("answered", { answer: { type: "answer", sdp: sdp("answer") } }));
    await until("connecting", () => answered.state.phase === "connecting");
    store.failures.set("requestEnd", denied);
    await answered.hangUp();
    assert.deepEqual(answered.state, { phase: "ended", reason: "hangup" });
  });

  it("refuses to call yourself before writing anything", async () => {
    await assert.rejects(
      startCall(store, pc, { callerId: "alice", calleeId: "alice" }, FAST),
      (error: unknown) =>
        error instanceof CallError &&
        error.code === "invalid-argument" &&
        error.message === "Cannot start this call: callee_id: callee_id must be a different user than caller_id",
    );
    assert.deepEqual(store.log, []);
  });

  it("says so when Firestore refuses the session", async () => {
    store.failures.set("createSession", denied);
    await assert.rejects(
      startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST),
      (error: unknown) =>
        error instanceof CallError &&
        error.code === "permission-denied" &&
        error.message ===
          "Firestore refused to create the call session: the user is not signed in, is not a participant, or the call has already moved on.",
    );
  });

  it("ends with the callee's reason when the server ends the ringing call", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    store.outgoing!(sessionDocument("ended", { ended_at: timestamp(2_000), ended_reason: "reject" }));
    assert.deepEqual(call.state, { phase: "ended", reason: "reject" });
    assert.equal(pc.closed, true);
  });

  it("ends with invalid-data, and asks the server to end too, when the session breaks the contract", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    store.outgoing!(sessionDocument("offered", { answer: { type: "answer", sdp: "hello" } }));
    assert.equal(call.state.phase, "ended");
    const state = call.state;
    assert.equal(state.reason, "error");
    assert.equal(state.error?.code, "invalid-data");
    assert.equal(
      state.error?.message,
      'Session session-1 in Firestore does not match the signaling contract: answer.sdp: sdp must start with the line "v=0".',
    );
    await until("the end request", () => store.log.includes("requestEnd session-1 caller cancel"));
  });

  it("gives up with timeout when nobody answers within the ring timeout", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, { batchDelayMs: 0, ringTimeoutMs: 10 });
    store.outgoing!(sessionDocument("offered"));
    await until("the timeout", () => call.state.phase === "ended");
    assert.deepEqual(call.state, { phase: "ended", reason: "timeout" });
    assert.ok(store.log.includes("requestEnd session-1 caller timeout"));
  });

  it("keeps the call when the other side reported the connection first", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    store.outgoing!(sessionDocument("answered", { answer: { type: "answer", sdp: sdp("answer") } }));
    await until("connecting", () => call.state.phase === "connecting");
    store.failures.set("reportConnected", denied);
    store.session = sessionDocument("connected", { answer: { type: "answer", sdp: sdp("answer") } });
    pc.becomes("connected");
    await until("the session to be read", () => store.log.includes("readSession"));
    assert.equal(call.state.phase, "connected");
    assert.ok(!store.log.includes("reportConnected session-1 caller"));
  });

  it("reports the connection again once the trigger has moved the session to answered", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    const answer = { answer: { type: "answer", sdp: sdp("answer") } };
    store.outgoing!(sessionDocument("offered", answer));
    await until("connecting", () => call.state.phase === "connecting");
    store.failures.set("reportConnected", denied);
    store.session = sessionDocument("offered", answer);
    pc.becomes("connected");
    await until("the session to be read", () => store.log.includes("readSession"));
    store.session = sessionDocument("answered", answer);
    await until("the second report", () => store.log.includes("reportConnected session-1 caller"));
    assert.deepEqual(
      store.log.filter((line) => line === "readSession" || line.startsWith("reportConnected")),
      ["readSession", "reportConnected session-1 caller"],
    );
    assert.equal(call.state.phase, "connected");
  });

  it("ends with ice-failed and reports `failed` when ICE fails", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, FAST);
    store.outgoing!(sessionDocument("answered", { answer: { type: "answer", sdp: sdp("answer") } }));
    await until("connecting", () => call.state.phase === "connecting");
    pc.becomes("failed");
    const state = call.state as Extract<CallState, { phase: "ended" }>;
    assert.deepEqual([state.reason, state.error?.code], ["error", "ice-failed"]);
    await until("the end request", () => store.log.includes("requestEnd session-1 caller failed"));
  });
});

describe("web client: receiving a call", () => {
  let store: FakeSignalingStore;
  let calls: IncomingCall[];
  let errors: CallError[];
  let clock: number;
  const options = { ...FAST, now: () => clock };

  beforeEach(() => {
    store = new FakeSignalingStore();
    calls = [];
    errors = [];
    clock = 10_000;
    listenForCalls(store, "bob", (list) => (calls = list), (error) => errors.push(error), options);
  });

  it("lists fresh valid calls, skips stale ones and reports broken ones", () => {
    store.ringing!([
      { id: "fresh", data: sessionDocument("offered", {}, 9_000) },
      { id: "stale", data: sessionDocument("offered", {}, 10_000 - 60_001) },
      { id: "broken", data: sessionDocument("offered", { offer: { type: "offer", sdp: "" } }) },
    ]);
    assert.deepEqual(calls.map((call) => [call.sessionId, call.callerId]), [["fresh", "alice"]]);
    assert.deepEqual(errors.map((error) => [error.code, error.message]), [
      [
        "invalid-data",
        "Session broken in Firestore does not match the signaling contract: offer.sdp: sdp is empty; send the localDescription.sdp of your RTCPeerConnection.",
      ],
    ]);
  });

  it("answers: listens to the caller's candidates first, adds them once the offer is set, then sends its own", async () => {
    store.ringing!([{ id: "s1", data: sessionDocument("offered", {}, 9_000) }]);
    const pc = new FakePeerConnection();
    const answering = calls[0].answer(pc);
    // The caller's batch may already be there when the listener attaches.
    store.candidates.get("caller")!(candidatesDocument("caller", [entry(1), entry(2)]));
    const call = await answering;
    assert.equal(store.log[1], "listen candidates s1 caller");
    assert.deepEqual(pc.remote, { type: "offer", sdp: sdp("offer") });
    assert.equal(store.answer, sdp("answer"));
    assert.deepEqual(pc.added, [entry(1), entry(2)]);
    assert.equal(call.state.phase, "connecting");
    assert.equal(call.role, "callee");

    pc.gather(entry(5));
    pc.gather(null);
    await until("the callee's batch", () => store.appended.callee.length === 1);
    assert.deepEqual(store.appended.callee[0], [entry(5), { candidate: "", sdpMid: null, sdpMLineIndex: null }]);

    pc.becomes("connected");
    assert.equal(call.state.phase, "connected");
    await call.hangUp();
    assert.ok(store.log.includes("requestEnd s1 callee hangup"));
  });

  it("fails the answer when the caller already gave up", async () => {
    store.ringing!([{ id: "s1", data: sessionDocument("offered", {}, 9_000) }]);
    store.failures.set("writeAnswer", denied);
    const pc = new FakePeerConnection();
    await assert.rejects(calls[0].answer(pc), (error: unknown) => error instanceof CallError && error.code === "permission-denied");
    assert.equal(pc.closed, true);
    assert.equal(store.candidates.size, 0);
  });

  it("rejects, and treats a refusal as already ended", async () => {
    store.ringing!([{ id: "s1", data: sessionDocument("offered", {}, 9_000) }]);
    await calls[0].reject();
    assert.ok(store.log.includes("requestEnd s1 callee reject"));
    store.failures.set("requestEnd", denied);
    await calls[0].reject();
    store.failures.set("requestEnd", new Error("offline"));
    await assert.rejects(calls[0].reject(), (error: unknown) => error instanceof CallError && error.message === "Could not reject the call: offline");
  });

  it("ends when the caller's candidates document is deleted, with the session's reason", async () => {
    store.ringing!([{ id: "s1", data: sessionDocument("offered", {}, 9_000) }]);
    const pc = new FakePeerConnection();
    const call = await calls[0].answer(pc);
    store.candidates.get("caller")!(candidatesDocument("caller", []));
    store.session = sessionDocument("ended", { ended_at: timestamp(12_000), ended_reason: "cancel" });
    store.candidates.get("caller")!(undefined);
    await until("the end", () => call.state.phase === "ended");
    assert.deepEqual(call.state, { phase: "ended", reason: "cancel" });
  });
});
