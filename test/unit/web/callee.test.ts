import { strict as assert } from "node:assert";
import { mock } from "node:test";
import { listenForCalls, type IncomingCall } from "@webrtc-lite/client/call/call";
import { CallError } from "@webrtc-lite/client/call/state";
import { RING_DEADLINE } from "@webrtc-lite/contract";
import { END_OF_CANDIDATES, FakePeerConnection, FakeSignalingStore, candidatesDocument, denied, entry, sdp, sessionDocument, settle, timestamp, until } from "./fakes";

const NOW = 1_000_000;
const FAST = { batchDelayMs: 0 };

describe("web client: incoming calls", () => {
  let store: FakeSignalingStore;
  let lists: string[][];
  let errors: CallError[];
  let stop: () => void;
  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: NOW });
    store = new FakeSignalingStore();
    lists = [];
    errors = [];
    stop = listenForCalls(store, "bob", (calls) => lists.push(calls.map((call) => call.sessionId)), (error) => errors.push(error), FAST);
  });
  afterEach(() => mock.timers.reset());

  it("rings from the caller's create (pending is enough), skipping answered, ended and broken sessions", () => {
    store.ringing!(
      [
        { id: "fresh", data: sessionDocument("pending", {}, NOW - 1_000) },
        { id: "answered", data: sessionDocument("pending", { answer: { type: "answer", sdp: sdp("answer") } }, NOW - 1_000) },
        { id: "cancelled", data: sessionDocument("offered", { end_request: { by: "caller", reason: "cancel", at: timestamp(NOW) } }, NOW - 1_000) },
        { id: "broken", data: sessionDocument("pending", { offer: { type: "offer", sdp: "" } }, NOW - 1_000) },
      ],
      true,
    );
    store.ringing!([{ id: "broken", data: sessionDocument("pending", { offer: { type: "offer", sdp: "" } }, NOW - 1_000) }], false);
    assert.deepEqual(lists, [["fresh"], []]);
    assert.deepEqual(errors.map((error) => [error.code, error.message]), [
      [
        "invalid-data",
        "Session broken in Firestore does not match the signaling contract: offer.sdp: sdp is empty; send the localDescription.sdp of your RTCPeerConnection.",
      ],
    ]);
  });

  it("judges a call found at start by its ring deadline plus the tolerance, and never hides one that arrives while listening", () => {
    const ring = 60_000;
    const tolerance = RING_DEADLINE.clockToleranceMs;
    store.ringing!(
      [
        { id: "within-tolerance", data: sessionDocument("offered", {}, NOW - ring - tolerance + 2_000) },
        { id: "stale", data: sessionDocument("offered", {}, NOW - ring - tolerance) },
      ],
      true,
    );
    // A device clock ten minutes ahead: the call was created just now, yet its created_at looks old.
    store.ringing!(
      [
        { id: "skewed-but-new", data: sessionDocument("pending", {}, NOW - 600_000) },
        { id: "within-tolerance", data: sessionDocument("offered", {}, NOW - ring - tolerance + 2_000) },
        { id: "stale", data: sessionDocument("offered", {}, NOW - ring - tolerance) },
      ],
      false,
    );
    assert.deepEqual(lists, [["within-tolerance"], ["skewed-but-new", "within-tolerance"]]);
    // The tolerance runs out for the old one; nothing changed in Firestore.
    mock.timers.tick(2_000);
    assert.deepEqual(lists.at(-1), ["skewed-but-new"]);
  });

  it("ignores snapshots from the cache: they neither ring a call nor stop one", () => {
    const data = sessionDocument("pending", {}, NOW - 600_000);
    store.ringing!([{ id: "old", data }], false, true);
    assert.deepEqual(lists, []);
    store.ringing!([{ id: "new", data: sessionDocument("pending", {}, NOW) }], true);
    store.ringing!([], false, true);
    assert.deepEqual(lists, [["new"]]);
    // A call seen first in a server snapshot after cache-only ones may be old: its deadline decides.
    store.ringing!([{ id: "new", data: sessionDocument("pending", {}, NOW) }, { id: "old", data }], true);
    assert.deepEqual(lists, [["new"]]);
  });

  it("stops ringing ring_seconds after it first saw a call, when its end request arrives, or when it leaves the query", () => {
    store.ringing!([{ id: "a", data: sessionDocument("pending", { ring_seconds: 10 }, NOW) }], false);
    mock.timers.tick(9_999);
    assert.deepEqual(lists, [["a"]]);
    mock.timers.tick(1);
    assert.deepEqual(lists, [["a"], []]);

    const b = sessionDocument("pending", {}, NOW);
    store.ringing!([{ id: "b", data: b }, { id: "c", data: sessionDocument("pending", {}, NOW) }], false);
    store.ringing!([{ id: "b", data: { ...b, end_request: { by: "caller", reason: "timeout", at: timestamp(NOW) } } }, { id: "c", data: sessionDocument("pending", {}, NOW) }], false);
    store.ringing!([], false);
    assert.deepEqual(lists.slice(2), [["b", "c"], ["c"], []]);

    stop();
    assert.equal(store.ringing, undefined);
  });

  it("reports the list only when it changes", () => {
    const data = sessionDocument("pending", {}, NOW);
    store.ringing!([{ id: "a", data }], true);
    store.ringing!([{ id: "a", data }], false);
    store.ringing!([{ id: "a", data: { ...data, status: "offered" } }], false);
    assert.deepEqual(lists, [["a"]]);
  });
});

describe("web client: answering a call", () => {
  let store: FakeSignalingStore;
  let incoming: IncomingCall;
  let pc: FakePeerConnection;
  beforeEach(() => {
    store = new FakeSignalingStore();
    pc = new FakePeerConnection();
    let calls: IncomingCall[] = [];
    listenForCalls(store, "bob", (list) => (calls = list), () => undefined, FAST);
    store.ringing!([{ id: "s1", data: sessionDocument("pending", {}, Date.now()) }], false);
    incoming = calls[0];
    assert.equal(incoming.callerId, "alice");
  });

  it("listens to the caller's candidates first, buffers them until the offer is set, then answers in one batch with its own document", async () => {
    pc.gatherOnSetLocal = [entry(5)];
    const answering = incoming.answer(pc);
    // The caller's entries are there from the create on: the first snapshot comes before the offer is set.
    assert.deepEqual(store.log.slice(-1), ["listen candidates s1 caller"]);
    store.candidates.get("caller")!(candidatesDocument("caller", [entry(1), entry(2)]));
    const call = await answering;
    assert.deepEqual(pc.remote, { type: "offer", sdp: sdp("offer") });
    assert.deepEqual(pc.added, [entry(1), entry(2)]);
    assert.deepEqual(store.log.slice(-1), ["answerCall s1 alice->bob +callee-candidates:1"]);
    assert.equal(store.answer, sdp("answer"));
    assert.deepEqual([call.state.phase, call.role, call.peerId], ["connecting", "callee", "alice"]);

    pc.gather(entry(6));
    pc.gather(null);
    await until("the callee's append", () => store.writes.callee.length === 2);
    assert.deepEqual(store.documents.get("callee"), [entry(5), entry(6), END_OF_CANDIDATES]);

    pc.becomes("connected");
    assert.equal(call.state.phase, "connected");
    await call.hangUp();
    assert.deepEqual(
      store.log.filter((line) => /^(reportConnected|requestEnd)/.test(line)),
      ["requestEnd s1 callee hangup +delete callee-candidates"],
      "the callee never reports connectivity, and hangs up with its document's deletion and the end request",
    );
  });

  it("ends with hangup, at once and without a read, when the caller's document disappears, and deletes its own", async () => {
    const call = await incoming.answer(pc);
    const before = store.log.length;
    store.candidates.get("caller")!(undefined);
    assert.deepEqual(call.state, { phase: "ended", reason: "hangup" });
    assert.equal(pc.closed, true);
    await until("its own document's deletion", () => store.log.includes("deleteOwnCandidates s1 callee"));
    assert.deepEqual(store.log.slice(before), ["stop candidates s1 caller", "deleteOwnCandidates s1 callee"]);
  });

  it("does not answer a call whose caller gave up while it was answering", async () => {
    const answering = incoming.answer(pc);
    store.candidates.get("caller")!(undefined);
    await assert.rejects(
      answering,
      (error: unknown) => error instanceof CallError && error.message === "The call ended before it was answered: the caller hung up or gave up.",
    );
    assert.equal(store.log.some((line) => line.startsWith("answerCall")), false);
  });

  it("fails the answer when the rules refuse it, stops listening, and writes nothing (the call may have been answered on another device)", async () => {
    store.failures.set("answerCall", denied);
    await assert.rejects(incoming.answer(pc), (error: unknown) => error instanceof CallError && error.code === "permission-denied");
    assert.equal(pc.closed, true);
    assert.equal(store.candidates.size, 0);
    await settle();
    assert.deepEqual(store.log.filter((line) => line.startsWith("requestEnd")), []);
  });

  it("fails the answer on another failure, and ends the call deleting the document the batch may have created", async () => {
    store.failures.set("answerCall", Object.assign(new Error("the connection dropped"), { code: "unavailable" }));
    await assert.rejects(incoming.answer(pc), (error: unknown) => error instanceof CallError && error.code === "unavailable");
    assert.equal(pc.closed, true);
    // The batch may have landed with its acknowledgement lost: the caller, past the answer,
    // listens only to this side's document, so the end deletes it (missing or not).
    await until("the end request", () => store.log.includes("requestEnd s1 callee hangup +delete callee-candidates"));
  });

  it("declines with reject or busy, in a single write, and takes a refusal as already ended", async () => {
    await incoming.reject();
    await incoming.reject("busy");
    assert.deepEqual(store.log.filter((line) => line.startsWith("requestEnd")), ["requestEnd s1 callee reject", "requestEnd s1 callee busy"]);
    store.failures.set("requestEnd", denied);
    await incoming.reject();
    store.failures.set("requestEnd", new Error("offline"));
    await assert.rejects(incoming.reject(), (error: unknown) => error instanceof CallError && error.message === "Could not reject the call: offline");
  });
});
