import { strict as assert } from "node:assert";
import { CandidateInbox, CandidateOutbox } from "../../../web/src/call/outbox";
import { CallError, nextCallState, type CallEvent, type CallState } from "../../../web/src/call/state";
import { candidateLine } from "./fakes";

describe("web client: call states", () => {
  const error = new CallError("ice-failed", "ICE could not connect.");
  const table: Array<[CallState["phase"], CallEvent, CallState]> = [
    ["ringing", { type: "answered" }, { phase: "connecting" }],
    ["connecting", { type: "ice-connected" }, { phase: "connected" }],
    ["ringing", { type: "ended", reason: "reject" }, { phase: "ended", reason: "reject" }],
    ["connected", { type: "ended", reason: "hangup" }, { phase: "ended", reason: "hangup" }],
    ["connecting", { type: "failed", error }, { phase: "ended", reason: "error", error }],
    // Late or early events change nothing.
    ["connecting", { type: "answered" }, { phase: "connecting" }],
    ["connected", { type: "answered" }, { phase: "connected" }],
    ["ringing", { type: "ice-connected" }, { phase: "ringing" }],
  ];
  for (const [phase, event, expected] of table) {
    it(`${phase} + ${event.type} → ${expected.phase}${expected.phase === "ended" ? ` (${expected.reason})` : ""}`, () => {
      assert.deepEqual(nextCallState({ phase } as CallState, event), expected);
    });
  }

  it("stays ended whatever comes after", () => {
    const ended: CallState = { phase: "ended", reason: "cancel" };
    for (const event of [{ type: "answered" }, { type: "ice-connected" }, { type: "ended", reason: "hangup" }, { type: "failed", error }] as CallEvent[]) {
      assert.equal(nextCallState(ended, event), ended);
    }
  });
});

describe("web client: candidate batches", () => {
  const entry = (n: number) => ({ candidate: candidateLine(n), sdpMid: "0", sdpMLineIndex: 0 });

  it("hands out what was gathered since the last batch, then the end marker", () => {
    const outbox = new CandidateOutbox();
    assert.equal(outbox.take(), undefined);
    outbox.add(entry(1));
    outbox.add(entry(2));
    assert.deepEqual(outbox.take(), [entry(1), entry(2)]);
    outbox.add(entry(3));
    outbox.end("0", 0);
    assert.equal(outbox.complete, true);
    assert.deepEqual(outbox.take(), [entry(3), { candidate: "", sdpMid: "0", sdpMLineIndex: 0 }]);
    assert.equal(outbox.add(entry(4)), false);
  });

  it("stays within the contract's 20 entries per side and 6 per write, and keeps a slot for the end marker", () => {
    const outbox = new CandidateOutbox();
    const accepted = Array.from({ length: 25 }, (_, n) => outbox.add(entry(n))).filter(Boolean).length;
    outbox.end("0", 0);
    const batches = [outbox.take(), outbox.take(), outbox.take(), outbox.take()];
    assert.equal(accepted, 19);
    assert.deepEqual(batches.map((batch) => batch?.length), [6, 6, 6, 2]);
    assert.equal(outbox.take(), undefined);
    assert.deepEqual(batches.flatMap((batch) => batch ?? []), [
      ...Array.from({ length: 19 }, (_, n) => entry(n)),
      { candidate: "", sdpMid: "0", sdpMLineIndex: 0 },
    ]);
    assert.equal(outbox.droppedCount, 6);
  });

  it("adds only the entries the other side appended since the last snapshot", () => {
    const inbox = new CandidateInbox();
    assert.deepEqual(inbox.fresh([entry(1), entry(2)]), [entry(1), entry(2)]);
    assert.deepEqual(inbox.fresh([entry(1), entry(2), entry(3)]), [entry(3)]);
    assert.deepEqual(inbox.fresh([entry(1), entry(2), entry(3)]), []);
  });
});
