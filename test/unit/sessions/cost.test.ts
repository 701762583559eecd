import { strict as assert } from "node:assert";
import { LIMITS_RULE_READS, SWEEP_QUERIES_PER_RUN, codelabCallCost, signalingCallCost, sweepFixedReadsPerDay } from "@webrtc-lite/contract";

const FIVE_AND_FIVE = { callerCandidates: 5, calleeCandidates: 5, callerBatches: 1, calleeBatches: 1 };

describe("cost model", () => {
  it("a 5+5-candidate call costs 13 writes, 9 listener reads, 5 other reads and 4 deletes", () => {
    assert.deepEqual(signalingCallCost(FIVE_AND_FIVE).totals, { writes: 13, listenerReads: 9, otherReads: 5, deletes: 4 });
  });

  it("stays within the budget, the caller's limits included: at most 13 writes and 15 reads", () => {
    const { writes, listenerReads, otherReads } = signalingCallCost(FIVE_AND_FIVE).totals;
    assert.ok(writes <= 13, `${writes} writes`);
    assert.ok(listenerReads + otherReads <= 15, `${listenerReads + otherReads} reads`);
  });

  it("costs the codelab's 2+Nc+Ne writes and 3+Nc+Ne listener reads plus the limits' one write and two reads, cleanup included", () => {
    const ours = signalingCallCost(FIVE_AND_FIVE).totals;
    const codelab = codelabCallCost(5, 5);
    assert.deepEqual(codelab, { writes: 12, listenerReads: 13 });
    assert.equal(LIMITS_RULE_READS, 3);
    // The limits write, and the rules' reads of the limits document and of the released call.
    assert.ok(ours.writes <= codelab.writes + 1, `${ours.writes} writes`);
    assert.ok(ours.listenerReads + ours.otherReads <= codelab.listenerReads + 2, `${ours.listenerReads + ours.otherReads} reads`);
  });

  it("does not grow with the number of candidates, only with the number of batches", () => {
    const three = signalingCallCost({ callerCandidates: 3, calleeCandidates: 3, callerBatches: 1, calleeBatches: 1 }).totals;
    assert.deepEqual(three, signalingCallCost(FIVE_AND_FIVE).totals);
    // 11 candidates and end-of-candidates need two writes of at most 6 entries.
    const many = signalingCallCost({ callerCandidates: 11, calleeCandidates: 8, callerBatches: 2, calleeBatches: 2 }).totals;
    assert.deepEqual(many, { writes: 15, listenerReads: 10, otherReads: 5, deletes: 4 });
    const trickled = signalingCallCost({ callerCandidates: 5, calleeCandidates: 5, callerBatches: 3, calleeBatches: 2 }).totals;
    assert.deepEqual(trickled, { writes: 16, listenerReads: 10, otherReads: 5, deletes: 4 });
  });

  it("charges the callee's listener for caller batches written after it attached", () => {
    const late = signalingCallCost({ ...FIVE_AND_FIVE, callerBatches: 2, callerBatchesAfterAccept: 1 }).totals;
    assert.deepEqual(late, { writes: 14, listenerReads: 10, otherReads: 5, deletes: 4 });
  });

  it("lists every protocol step with its own counts", () => {
    const { steps } = signalingCallCost(FIVE_AND_FIVE);
    assert.equal(steps.length, 13);
    assert.deepEqual(
      steps.map((step) => [step.writes, step.listenerReads, step.otherReads, step.deletes]),
      [
        [3, 1, 3, 0],
        [0, 1, 0, 0],
        [1, 2, 0, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [2, 2, 1, 0],
        [0, 1, 0, 0],
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [2, 0, 0, 0],
        [1, 0, 0, 1],
        [1, 0, 0, 2],
        [0, 0, 1, 1],
      ],
    );
    assert.match(steps[3].step, /caller appends its 5 candidates and end-of-candidates in 1 batch/);
  });

  it("refuses impossible call shapes with a sentence", () => {
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, callerCandidates: 20 }), { name: "RangeError", message: "callerCandidates must be a whole number from 0 to 19." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, calleeCandidates: -1 }), { message: "calleeCandidates must be a whole number from 0 to 19." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, calleeBatches: 0 }), { message: "calleeBatches must be a whole number from 1 to 6 (1 to 6 entries per batch)." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, callerBatches: 7 }), { message: "callerBatches must be a whole number from 1 to 6 (1 to 6 entries per batch)." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, callerCandidates: 8 }), { message: "callerBatches must be a whole number from 2 to 9 (1 to 6 entries per batch)." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, callerBatchesAfterAccept: 2 }), { message: "callerBatchesAfterAccept must be a whole number from 0 to callerBatches." });
  });

  it("prices the sweep's idle runs", () => {
    assert.equal(SWEEP_QUERIES_PER_RUN, 3);
    assert.equal(sweepFixedReadsPerDay(10), 432);
    assert.equal(sweepFixedReadsPerDay(7), 618);
    assert.throws(() => sweepFixedReadsPerDay(0), { message: "intervalMinutes must be a whole number from 1 to 1440." });
  });
});
