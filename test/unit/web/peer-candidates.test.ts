import { strict as assert } from "node:assert";
import type { CandidateEntry } from "@webrtc-lite/contract";
import { listenForCalls, startCall, type IncomingCall } from "@webrtc-lite/client/call/call";
import type { CallError } from "@webrtc-lite/client/call/state";
import { END_OF_CANDIDATES, FakePeerConnection, FakeSignalingStore, candidatesDocument, entry, sdp, sessionDocument, until } from "./fakes";

const FAST = { batchDelayMs: 0 };
const ANSWER = { answer: { type: "answer", sdp: sdp("answer") } };

// Entries the contract accepts but a browser with one m-line (mid "0", index 0) refuses.
const UNKNOWN_MID: CandidateEntry = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host", sdpMid: "nope", sdpMLineIndex: 0 };
const INDEX_PAST_END: CandidateEntry = { candidate: "candidate:2 1 udp 2122260223 127.0.0.1 9 typ host", sdpMid: null, sdpMLineIndex: 7 };
const oneMLine = (candidate: RTCIceCandidateInit): boolean =>
  candidate.sdpMid != null ? candidate.sdpMid !== "0" : candidate.sdpMLineIndex !== 0;

const skipped = (index: number, problem: string): string => `The other side's ICE candidate candidates[${index}] was skipped: ${problem}.`;
const REFUSED = "this browser refused it (OperationError: no m-line for this candidate)";

describe("web client: the other side's candidates, one entry at a time (a hostile peer)", () => {
  let store: FakeSignalingStore;
  let pc: FakePeerConnection;
  let warnings: CallError[];
  const onWarning = (warning: CallError) => warnings.push(warning);
  beforeEach(() => {
    store = new FakeSignalingStore();
    pc = new FakePeerConnection();
    pc.refuses = oneMLine;
    warnings = [];
  });

  it("skips each entry it cannot use once, however often the array comes again, adds the entries after it, end-of-candidates too, and stays in the call", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, { ...FAST, onWarning });
    store.session!(sessionDocument("pending", ANSWER));
    await until("the callee's candidates listener", () => store.candidates.has("callee"));
    const all: unknown[] = [
      UNKNOWN_MID,
      entry(1),
      { ...entry(2), candidate: "candidate:2 1 udp 4294967296 127.0.0.1 9 typ host" },
      { ...entry(3), candidate: "candidate:3 1 udp 2122260223 attacker.example 9 typ host" },
      INDEX_PAST_END,
      entry(5),
      END_OF_CANDIDATES,
    ];
    // Each append delivers the whole array again, and a metadata change delivers it unchanged.
    for (const length of [1, 2, 2, 5, 7, 7]) store.candidates.get("callee")!(candidatesDocument("callee", all.slice(0, length)));
    await until("every entry handled", () => pc.attempted.length === 5 && warnings.length === 4);
    pc.becomes("connected");

    assert.deepEqual(pc.attempted, [UNKNOWN_MID, entry(1), INDEX_PAST_END, entry(5), END_OF_CANDIDATES], "what the contract refuses never reaches the browser");
    assert.deepEqual(pc.added, [entry(1), entry(5), END_OF_CANDIDATES]);
    assert.deepEqual(warnings.map((warning) => warning.code), ["invalid-data", "invalid-data", "invalid-data", "invalid-data"]);
    assert.deepEqual(warnings.map((warning) => warning.message).sort(), [
      skipped(0, REFUSED),
      skipped(2, "it does not match the signaling contract (candidate: candidate priority must be a whole number from 0 to 4294967295, without leading zeros.)"),
      skipped(3, "its address is neither an IP address nor an mDNS .local name, and this side resolves no other name a peer sends"),
      skipped(4, REFUSED),
    ]);
    assert.equal(call.state.phase, "connected");
    assert.deepEqual(store.log.filter((line) => line.startsWith("requestEnd")), []);
  });

  it("keeps the positions of entries that waited for the offer, and reports what the browser then refuses", async () => {
    let calls: IncomingCall[] = [];
    listenForCalls(store, "bob", (list) => (calls = list), () => undefined, { ...FAST, onWarning });
    store.ringing!([{ id: "s1", data: sessionDocument("pending", {}, Date.now()) }], false);
    const answering = calls[0].answer(pc);
    // The caller's document arrives before the offer is set: everything waits, the bad entry too.
    store.candidates.get("caller")!(candidatesDocument("caller", [UNKNOWN_MID, entry(1), { ...entry(2), nope: 1 }, END_OF_CANDIDATES]));
    const call = await answering;
    await until("the refusal", () => warnings.length === 2);

    assert.deepEqual(pc.added, [entry(1), END_OF_CANDIDATES]);
    assert.deepEqual(warnings.map((warning) => warning.message), [
      skipped(2, 'it does not match the signaling contract (Unrecognized key: "nope")'),
      skipped(0, REFUSED),
    ]);
    assert.equal(call.state.phase, "connecting");
  });

  it("says nothing of refusals that come after the call ended (a closed peer connection refuses everything)", async () => {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, { ...FAST, onWarning });
    store.session!(sessionDocument("pending", ANSWER));
    await until("the callee's candidates listener", () => store.candidates.has("callee"));
    store.candidates.get("callee")!(candidatesDocument("callee", [UNKNOWN_MID]));
    // The refusal is still on its way when the user hangs up.
    await call.hangUp();
    assert.deepEqual(pc.attempted, [UNKNOWN_MID]);
    assert.deepEqual([call.state.phase, warnings], ["ended", []]);
  });
});
