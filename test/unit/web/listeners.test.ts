import { strict as assert } from "node:assert";
import { startCall, type Call } from "@webrtc-lite/client/call/call";
import type { CallState } from "@webrtc-lite/client/call/state";
import { FakePeerConnection, FakeSignalingStore, candidatesDocument, entry, sdp, sessionDocument, settle, timestamp, until } from "./fakes";

const FAST = { batchDelayMs: 0 };
const PARTIES = { callerId: "alice", calleeId: "bob" };
const ANSWER = { answer: { type: "answer", sdp: sdp("answer") } };

/** The call's state now (a function, so that TypeScript does not narrow it across events). */
function stateOf(call: Call): CallState {
  return call.state;
}

describe("web client: what the listeners' snapshots mean, carried out", () => {
  let store: FakeSignalingStore;
  let pc: FakePeerConnection;
  beforeEach(() => {
    store = new FakeSignalingStore();
    pc = new FakePeerConnection();
  });

  it("session listener: a cache snapshot without the session is ignored; the server's 'missing' ends the call with unavailable and deletes its own document, with no end request", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    store.sessionSnapshot!({ fromCache: true, exists: false });
    assert.equal(stateOf(call).phase, "ringing");
    store.session!(undefined);
    const state = stateOf(call) as Extract<CallState, { phase: "ended" }>;
    assert.deepEqual([state.reason, state.error?.code], ["error", "unavailable"]);
    assert.equal(state.error?.message, "Session session-1 is gone from Firestore: the call is over.");
    await until("its own document's deletion", () => store.log.includes("deleteOwnCandidates session-1 caller"));
    assert.deepEqual(store.log.filter((line) => line.startsWith("requestEnd")), [], "nobody can take an end request on a session that is gone");
  });

  it("session listener: the caller's own end request, written by another device of the user, ends a ringing call with its reason", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    store.session!(sessionDocument("pending", { end_request: { by: "caller", reason: "cancel", at: timestamp(2_000) } }));
    assert.deepEqual(stateOf(call), { phase: "ended", reason: "cancel" });
    assert.equal(store.session, undefined, "the listener is stopped");
    await until("its own document's deletion", () => store.log.includes("deleteOwnCandidates session-1 caller"));
  });

  it("session listener: the server's record of the end ends the call without deleting anything (its trigger deleted both documents)", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    store.session!(sessionDocument("ended", { ended_at: timestamp(2_000), ended_reason: "timeout" }));
    assert.deepEqual(stateOf(call), { phase: "ended", reason: "timeout" });
    await settle();
    assert.deepEqual(store.log.filter((line) => line.startsWith("deleteOwnCandidates") || line.startsWith("requestEnd")), []);
  });

  it("peer-candidates listener: a cache snapshot without the document does not end the call; its entries, from the cache too, are added", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    store.session!(sessionDocument("pending", ANSWER));
    await until("the callee's candidates listener", () => store.candidatesSnapshot.has("callee"));
    store.candidatesSnapshot.get("callee")!({ fromCache: true, exists: false });
    assert.equal(stateOf(call).phase, "connecting");
    store.candidatesSnapshot.get("callee")!({ fromCache: true, exists: true, data: candidatesDocument("callee", [entry(7)]) });
    await until("the entry", () => pc.added.length === 1);
    assert.deepEqual(pc.added, [entry(7)]);
    await call.hangUp();
  });

  it("caller: the answer to its restart and a request for the next in one snapshot: applies that answer, then offers the next generation", async () => {
    const call = await startCall(store, pc, PARTIES, FAST);
    store.session!(sessionDocument("pending", ANSWER));
    await until("the callee's candidates listener", () => store.candidates.has("callee"));
    store.candidates.get("callee")!(candidatesDocument("callee", [entry(7)]));
    pc.iceBecomes("connected");
    pc.iceBecomes("failed");
    await until("the restart offer", () => store.log.some((line) => line.startsWith("restartIce")));
    const answer1 = sdp("answer").replace("ice-ufrag:answer", "ice-ufrag:answer1");
    store.candidates.get("callee")!({ ...candidatesDocument("callee", [entry(30)]), generation: 1, description: { type: "answer", sdp: answer1 }, restart_request: 2 });
    await until("the second restart offer", () => store.log.includes("restartIce session-1 caller 2 offer +0"));
    assert.equal(pc.remote?.sdp, answer1, "the answer was applied before the next offer");
    assert.deepEqual(pc.added.at(-1), entry(30));
    await call.hangUp();
  });
});
