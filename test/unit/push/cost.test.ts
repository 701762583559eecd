import { strict as assert } from "node:assert";
import { SESSION_EVENTS_PER_CALL, pushCallCost } from "@webrtc-lite/contract";

describe("push cost per call (contract)", () => {
  it("adds 4 reads for a callee without devices; 2 writes, 3 + 2n reads and 1 delete with n devices; one invocation per session write", () => {
    assert.deepEqual(pushCallCost(0).totals, { writes: 0, listenerReads: 0, otherReads: 4, deletes: 0 });
    assert.deepEqual(pushCallCost(3).totals, { writes: 2, listenerReads: 0, otherReads: 9, deletes: 1 });
    assert.deepEqual(pushCallCost(10).totals, { writes: 2, listenerReads: 0, otherReads: 23, deletes: 1 });
    assert.throws(() => pushCallCost(11), /targets must be a whole number from 0 to 10/);
    // create, answer, connectivity report, end request, the trigger's four status writes, the sweep's deletion.
    assert.equal(pushCallCost(1).invocations, SESSION_EVENTS_PER_CALL);
    assert.equal(SESSION_EVENTS_PER_CALL, 9);
  });
});
