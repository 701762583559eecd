import { strict as assert } from "node:assert";
import { mock } from "node:test";
import { startCall } from "@webrtc-lite/client/call/call";
import { CallLimitError } from "@webrtc-lite/client/call/limits";
import { CallError, type CallState } from "@webrtc-lite/client/call/state";
import {
  END_OF_CANDIDATES,
  FakePeerConnection,
  FakeSignalingStore,
  candidatesDocument,
  denied,
  entry,
  phases,
  sdp,
  sessionDocument,
  timestamp,
  until,
} from "./fakes";

const FAST = { batchDelayMs: 0 };
const PARTIES = { callerId: "alice", calleeId: "bob" };
const ANSWER = { answer: { type: "answer", sdp: sdp("answer") } };

describe("web client: placing a call", () => {
  let store: FakeSignalingStore;
  let pc: FakePeerConnection;
  beforeEach(() => {
    store = new FakeSignalingStore();
    pc = new FakePeerConnection();
  });

  it("creates the session and its own candidates document in one batch with what was gathered, and rings once it commits", async () => {
    pc.gatherOnSetLocal = [entry(1), entry(2)];
    const call = await startCall(store, pc, PARTIES, FAST);
    assert.deepEqual(store.log, ["createCall session-1 +caller-candidates:2", "listen session session-1"]);
    assert.deepEqual(store.created, { caller_id: "alice", callee_id: "bob", offer: { type: "offer", sdp: sdp("offer") }, ring_seconds: 60 });
    assert.deepEqual(store.writes.caller, [[entry(1), entry(2)]]);
    assert.deepEqual(pc.local, { type: "offer", sdp: sdp("offer") });
    // No server status is awaited: the batch committing is what makes it ring.
    assert.deepEqual([call.sessionId, call.role, call.peerId, call.state.phase], ["session-1", "caller", "bob", "ringing"]);
  });

  it("waits for the create to commit before it resolves or listens (the rules refuse a listener before)", async () => {
    const release = store.hold("createCall");
    let resolved = false;
    const starting = startCall(store, pc, PARTIES, FAST).then((call) => ((resolved = true), call));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(resolved, false);
    assert.deepEqual(store.log, []);
    release();
    assert.equal((await starting).state.phase, "ringing");
    assert.deepEqual(store.log, ["createCall session-1 +caller-candidates:0", "listen session session-1"]);
  });

  it("appends what is gathered after the create in writes of at most 6, in order, ending with the end marker", async () => {
    pc.gatherOnSetLocal = Array.from({ length: 9 }, (_, n) => entry(n + 1));
    await startCall(store, pc, PARTIES, FAST);
    for (let n = 10; n <= 12; n += 1) pc.gather({ ...entry(n), usernameFragment: "abcd" });
    pc.gather(null);
    await until("the appends", () => store.writes.caller.length === 3);
    assert.deepEqual(store.writes.caller.map((batch) => batch.length), [6, 6, 1]);
    assert.deepEqual(store.documents.get("caller"), [
      ...Array.from({ length: 9 }, (_, n) => entry(n + 1)),
      ...[10, 11, 12].map((n) => ({ ...entry(n), usernameFragment: "abcd" })),
      END_OF_CANDIDATES,
    ]);
  });

  it("leaves out a gathered candidate the rules would refuse, and says so once, instead of losing the whole write", async () => {
    const warnings: CallError[] = [];
    await startCall(store, pc, PARTIES, { ...FAST, onWarning: (warning) => warnings.push(warning) });
    pc.gather({ candidate: "candidate:bad", sdpMid: "0", sdpMLineIndex: 0 });
    pc.gather({ candidate: "candidate:worse", sdpMid: "0", sdpMLineIndex: 0 });
    pc.gather({ ...entry(1), usernameFragment: "not a fragment!" });
    pc.gather(null);
    await until("the append", () => store.writes.caller.length === 2);
    assert.deepEqual(store.writes.caller[1], [entry(1), END_OF_CANDIDATES]);
    assert.deepEqual(warnings.map((warning) => warning.code), ["invalid-data"]);
  });

  it("applies the answer from its session listener, stops that listener and follows the callee's candidates", async () => {
    const warnings: CallError[] = [];
    const call = await startCall(store, pc, PARTIES, { ...FAST, onWarning: (warning) => warnings.push(warning) });
    const seen = phases(call);
    store.session!(sessionDocument("pending"));
    assert.equal(call.state.phase, "ringing");
    store.session!(sessionDocument("pending", ANSWER));
    await until("connecting", () => call.state.phase === "connecting");
    assert.deepEqual(pc.remote, ANSWER.answer);
    assert.equal(store.session, undefined, "the session listener must stop once the answer is in");
    assert.deepEqual(store.log.slice(-2), ["stop session session-1", "listen candidates session-1 callee"]);

    // Each entry the contract refuses is skipped (one warning each); the others still reach ICE.
    const bad = { candidate: "candidate:1 1 udp", sdpMid: "0", sdpMLineIndex: 0 };
    store.candidates.get("callee")!(candidatesDocument("callee", [entry(7), bad]));
    store.candidates.get("callee")!(candidatesDocument("callee", [entry(7), bad, { ...entry(8), usernameFragment: "x+y/Z" }, { nope: 1 }]));
    await until("both usable candidates", () => pc.added.length === 2);
    assert.deepEqual(pc.added, [entry(7), { ...entry(8), usernameFragment: "x+y/Z" }]);
    assert.deepEqual(warnings.map((warning) => warning.code), ["invalid-data", "invalid-data"]);
    assert.match(warnings[0].message, /^The other side's ICE candidate candidates\[1\] was skipped: it does not match the signaling contract \(candidate: /);
    assert.match(warnings[1].message, /^The other side's ICE candidate candidates\[3\] was skipped: /);
    assert.deepEqual(seen, ["connecting"]);
  });

  it("reports connectivity once, and ignores a refusal without reading or retrying", async () => {
    let attempts = 0;
    const report = store.reportConnected.bind(store);
    store.reportConnected = (...args) => ((attempts += 1), report(...args));
    const call = await startCall(store, pc, PARTIES, FAST);
    store.session!(sessionDocument("pending", ANSWER));
    await until("connecting", () => call.state.phase === "connecting");
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      store.failures.set("reportConnected", denied);
      pc.becomes("connected");
      pc.becomes("connected");
      await new Promise((resolve) => setImmediate(resolve));
      // The old client retried a refused report for seconds; nothing may come later now.
      mock.timers.tick(60_000);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      mock.timers.reset();
    }
    assert.equal(attempts, 1);
    assert.equal(call.state.phase, "connected");
    assert.deepEqual(store.log.filter((line) => line.startsWith("requestEnd")), []);
  });

  it("ends at once with hangup when the callee's candidates document disappears, without a read, and deletes its own", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    store.session!(sessionDocument("pending", ANSWER));
    await until("the callee's candidates listener", () => store.candidates.has("callee"));
    store.candidates.get("callee")!(candidatesDocument("callee", [entry(7)]));
    pc.becomes("connected");
    const before = store.log.length;
    store.candidates.get("callee")!(undefined);
    assert.deepEqual(call.state, { phase: "ended", reason: "hangup" });
    assert.equal(pc.closed, true);
    await until("its own document's deletion", () => store.log.includes("deleteOwnCandidates session-1 caller"));
    assert.deepEqual(store.log.slice(before).filter((line) => !line.startsWith("reportConnected")), ["stop candidates session-1 callee", "deleteOwnCandidates session-1 caller"]);
  });

  for (const [name, session, reason] of [
    ["the callee's end request", sessionDocument("pending", { end_request: { by: "callee", reason: "busy", at: timestamp(2_000) } }), "busy"],
    ["the server's end", sessionDocument("ended", { ended_at: timestamp(2_000), ended_reason: "reject" }), "reject"],
    ["an end after an answer in the same snapshot", sessionDocument("answered", { ...ANSWER, end_request: { by: "callee", reason: "hangup", at: timestamp(2_000) } }), "hangup"],
  ] as const) {
    it(`ends while ringing on ${name}, with its reason`, async () => {
      const call = await startCall(store, pc, PARTIES, FAST);
      store.session!(session);
      assert.deepEqual(call.state, { phase: "ended", reason });
      assert.equal(pc.remote, undefined);
      assert.equal(pc.closed, true);
      assert.equal(store.session, undefined);
    });
  }

  it("hangs up with the deletion of its own candidates document and the end request: cancel while ringing, hangup after", async () => {
    const ringing = await startCall(store, pc, PARTIES, FAST);
    await ringing.hangUp();
    assert.ok(store.log.includes("requestEnd session-1 caller cancel +delete caller-candidates"));
    assert.deepEqual(ringing.state, { phase: "ended", reason: "cancel" });
    assert.equal(store.documents.has("caller"), false);

    const second = new FakePeerConnection();
    const answered = await startCall(store, second, PARTIES, FAST);
    store.session!(sessionDocument("answered", ANSWER));
    await until("connecting", () => answered.state.phase === "connecting");
    store.failures.set("requestEnd", denied);
    await answered.hangUp();
    assert.deepEqual(answered.state, { phase: "ended", reason: "hangup" });
  });

  it("gives up with timeout after the ring_seconds it wrote", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const call = await startCall(store, pc, PARTIES, { ...FAST, ringSeconds: 15 });
      assert.equal(store.created?.ring_seconds, 15);
      mock.timers.tick(14_999);
      assert.equal(call.state.phase, "ringing");
      mock.timers.tick(1);
      assert.deepEqual(call.state, { phase: "ended", reason: "timeout" });
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(store.log.includes("requestEnd session-1 caller timeout +delete caller-candidates"));
    } finally {
      mock.timers.reset();
    }
  });

  it("refuses to call yourself, or a ring time out of bounds, before writing anything", async () => {
    await assert.rejects(
      startCall(store, pc, { callerId: "alice", calleeId: "alice" }, FAST),
      (error: unknown) =>
        error instanceof CallError &&
        error.code === "invalid-argument" &&
        error.message === "Cannot start this call: callee_id: callee_id must be a different user than caller_id",
    );
    await assert.rejects(startCall(store, new FakePeerConnection(), PARTIES, { ringSeconds: 5 }), /ring_seconds must be at least 10/);
    assert.deepEqual(store.log, []);
  });

  it("says so when Firestore refuses the create", async () => {
    store.failures.set("createCall", denied);
    await assert.rejects(
      startCall(store, pc, PARTIES, FAST),
      (error: unknown) =>
        error instanceof CallError &&
        error.code === "permission-denied" &&
        error.message === "Firestore refused to create the call session: the user is not signed in, is not a participant, or the call has already moved on.",
    );
  });

  it("passes a refusal by the caller's limits on as resource-exhausted, with its sentence", async () => {
    const limit = new CallLimitError("too-many-live-calls", "You already have 3 calls in progress; end one before starting another.");
    store.failures.set("createCall", limit);
    await assert.rejects(startCall(store, pc, PARTIES, FAST), (error: unknown) => error instanceof CallError && error.code === "resource-exhausted" && error.message === limit.message);
  });

  it("tells the store once the call has ended here, so that its limits entry may be released", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    assert.deepEqual(store.endedHere, []);
    store.session!(sessionDocument("pending", { end_request: { by: "callee", reason: "reject", at: timestamp(2_000) } }));
    assert.equal(call.state.phase, "ended");
    assert.deepEqual(store.endedHere, ["session-1"]);
  });

  it("ends here, writing nothing more, when a redial of the same callee ended it in its batch", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    assert.equal(store.placed!.answered(), false);
    store.session!(sessionDocument("offered", ANSWER));
    await until("the answer applied", () => call.state.phase === "connecting");
    assert.equal(store.placed!.answered(), true);
    store.placed!.replaced("hangup");
    assert.deepEqual(call.state, { phase: "ended", reason: "hangup" });
    assert.deepEqual(store.endedHere, ["session-1"]);
    assert.equal(pc.closed, true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(store.log.filter((line) => line.startsWith("requestEnd") || line.startsWith("deleteOwnCandidates")), []);
  });

  it("ends with invalid-data, and cancels, when the session breaks the contract", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    store.session!(sessionDocument("pending", { answer: { type: "answer", sdp: "hello" } }));
    const state = call.state as Extract<CallState, { phase: "ended" }>;
    assert.deepEqual([state.reason, state.error?.code], ["error", "invalid-data"]);
    assert.equal(state.error?.message, 'Session session-1 in Firestore does not match the signaling contract: answer.sdp: sdp must start with the line "v=0".');
    await until("the end request", () => store.log.includes("requestEnd session-1 caller cancel +delete caller-candidates"));
  });

  it("ends with ice-failed and asks to end with failed when ICE fails and restarts are off", async () => {
    const call = await startCall(store, pc, PARTIES, { ...FAST, iceRestart: false });
    store.session!(sessionDocument("answered", ANSWER));
    await until("connecting", () => call.state.phase === "connecting");
    pc.becomes("failed");
    const state = call.state as Extract<CallState, { phase: "ended" }>;
    assert.deepEqual([state.reason, state.error?.code], ["error", "ice-failed"]);
    await until("the end request", () => store.log.includes("requestEnd session-1 caller failed +delete caller-candidates"));
  });
});
