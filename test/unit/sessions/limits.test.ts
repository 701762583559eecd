import { strict as assert } from "node:assert";
import {
  CALL_LIMITS,
  RING_DEADLINE,
  afterCallLimitsWrite,
  callHasEnded,
  callHasLapsed,
  callLimitsFields,
  knownFromDocument,
  planDial,
  releasedSessionReads,
  slotNames,
  unknownCallLimits,
  type KnownCallLimits,
  type LiveHereState,
} from "@webrtc-lite/contract";

const at = (millis: number) => ({ toMillis: () => millis });
const NOW = 1_700_000_000_000;
const call = { sessionId: "s-new", calleeId: "bob" };

describe("caller limits (packages/contract/src/sessions/limits.ts)", () => {
  describe("planDial", () => {
    const batch = (known: KnownCallLimits, liveHere: Record<string, LiveHereState> = {}, random?: () => number) => {
      const decision = planDial({ known, liveHere, call, deviceNowMillis: NOW }, random);
      if (decision.kind !== "batch") assert.fail(JSON.stringify(decision));
      return decision;
    };

    it("takes a random slot when it knows nothing, and writes only this call's entry", () => {
      const { plan, ends } = batch(unknownCallLimits(), {}, () => 0.55);
      assert.deepEqual(plan, { slot: "5", sessionId: "s-new", calleeId: "bob", released: [] });
      assert.deepEqual(ends, []);
      assert.equal(batch(unknownCallLimits(), {}, () => 0).plan.slot, "0");
      assert.equal(batch(unknownCallLimits(), {}, () => 0.999).plan.slot, String(CALL_LIMITS.callsPerMinute - 1));
      assert.equal(releasedSessionReads(plan), 0);
    });

    it("takes a slot never written before the least recently written one", () => {
      const known: KnownCallLimits = { live: {}, recent: { 0: 5, 1: 3, 2: 9 } };
      assert.equal(batch(known).plan.slot, "3");
      const full: KnownCallLimits = { live: {}, recent: Object.fromEntries(slotNames().map((slot) => [slot, 100 - Number(slot)])) };
      assert.equal(batch(full).plan.slot, String(CALL_LIMITS.callsPerMinute - 1));
    });

    it("replaces the entry of an earlier call to the same callee, which the rules then read", () => {
      const { plan, ends } = batch({ live: { bob: "s-old" }, recent: {} });
      assert.equal(plan.replaces, "s-old");
      assert.deepEqual(plan.released, []);
      assert.deepEqual(ends, []);
      assert.equal(releasedSessionReads(plan), 1);
    });

    it("ends, in the same batch, a call to the same callee still live here: cancel while it rings, hangup once answered", () => {
      assert.deepEqual(batch({ live: { bob: "s-old" }, recent: {} }, { "s-old": "ringing" }).ends, [{ sessionId: "s-old", reason: "cancel" }]);
      const { plan, ends } = batch({ live: { bob: "s-old" }, recent: {} }, { "s-old": "answered" });
      assert.deepEqual(ends, [{ sessionId: "s-old", reason: "hangup" }]);
      assert.equal(plan.replaces, "s-old");
    });

    it("refuses on the device, with the time to retry, when every slot was written within the minute", () => {
      const recent = Object.fromEntries(slotNames().map((slot) => [slot, NOW - 10_000 + Number(slot)]));
      assert.deepEqual(planDial({ known: { live: {}, recent }, liveHere: {}, call, deviceNowMillis: NOW }), {
        kind: "refuse",
        reason: "too-many-calls-per-minute",
        sentence: `You started ${CALL_LIMITS.callsPerMinute} calls in the last ${CALL_LIMITS.windowSeconds} seconds; try again in about 50 s.`,
        retryAtMillis: NOW + 50_000,
      });
      assert.equal(batch({ live: {}, recent: { ...recent, 3: NOW - 60_000 } }).plan.slot, "3");
    });

    it(`releases only as many entries as ${CALL_LIMITS.maxLiveCalls} live calls need, never one live here`, () => {
      const known: KnownCallLimits = { live: { a: "s-a", b: "s-b" }, recent: {} };
      assert.deepEqual(batch(known).plan.released, []);
      const full: KnownCallLimits = { live: { a: "s-a", b: "s-b", c: "s-c" }, recent: {} };
      assert.deepEqual(batch(full).plan.released, ["a"]);
      assert.deepEqual(batch(full, { "s-a": "ringing" }).plan.released, ["b"]);
      assert.equal(releasedSessionReads(batch(full, { "s-a": "answered" }).plan), 1);
      assert.deepEqual(planDial({ known: full, liveHere: { "s-a": "ringing", "s-b": "ringing", "s-c": "answered" }, call, deviceNowMillis: NOW }), {
        kind: "refuse",
        reason: "too-many-live-calls",
        sentence: `You already have ${CALL_LIMITS.maxLiveCalls} calls in progress; end one before starting another.`,
      });
      // More entries than the limit (it was lowered): enough are released to get back under it.
      const over: KnownCallLimits = { live: { a: "s-a", b: "s-b", c: "s-c", d: "s-d" }, recent: {} };
      assert.deepEqual(batch(over).plan.released, ["a", "b"]);
    });
  });

  it("callLimitsFields writes the entry, the released ones' removal and this slot's server time, for a merge", () => {
    const fields = callLimitsFields({ slot: "4", sessionId: "s-new", calleeId: "bob", released: ["a"] }, "SERVER_TIME", "DELETE");
    assert.deepEqual(fields, { live: { bob: "s-new", a: "DELETE" }, recent: { 4: "SERVER_TIME" }, slot: "4", session_id: "s-new", callee_id: "bob" });
  });

  it("afterCallLimitsWrite records the entry and makes the slot the most recent one", () => {
    const known: KnownCallLimits = { live: { a: "s-a", bob: "s-old" }, recent: { 0: NOW + 60_000 } };
    const after = afterCallLimitsWrite(known, { slot: "1", sessionId: "s-new", calleeId: "bob", released: ["a"] }, NOW);
    assert.deepEqual(after.live, { bob: "s-new" });
    // A slot read from the server may carry a later time than this device's clock says.
    assert.ok(after.recent[1] > after.recent[0]);
    assert.deepEqual(known.live, { a: "s-a", bob: "s-old" }, "the input is left as it was");
  });

  it("knownFromDocument reads the server's times", () => {
    const known = knownFromDocument({ live: { bob: "s-1" }, recent: { 2: at(NOW) }, slot: "2", session_id: "s-1", callee_id: "bob" });
    assert.deepEqual(known, { live: { bob: "s-1" }, recent: { 2: NOW } });
    assert.deepEqual(knownFromDocument(undefined), unknownCallLimits());
  });

  describe("callHasEnded (the rules' hasEnded)", () => {
    const live = { status: "offered", answer: null, end_request: null, created_at: at(NOW - 5_000), ring_seconds: 60, expire_at: at(NOW + 3_600_000) };
    it("counts a ringing, answered or connected call as live", () => {
      assert.equal(callHasEnded(live, NOW), false);
      assert.equal(callHasEnded({ ...live, status: "connected", answer: { type: "answer" }, created_at: at(NOW - 600_000) }, NOW), false);
    });
    it("ends a call that is gone, recorded ended, asked to end, or expired", () => {
      assert.equal(callHasEnded(undefined, NOW), true);
      assert.equal(callHasEnded({ ...live, status: "ended" }, NOW), true);
      assert.equal(callHasEnded({ ...live, end_request: { by: "callee", reason: "reject" } }, NOW), true);
      assert.equal(callHasEnded({ ...live, answer: { type: "answer" }, expire_at: at(NOW) }, NOW), true);
    });
    it("keeps a call left ringing past its deadline counted, as lapsed, until someone ends it", () => {
      const lapsed = { ...live, created_at: at(NOW - 60_000 - RING_DEADLINE.clockToleranceMs) };
      assert.equal(callHasEnded(lapsed, NOW), false);
      assert.equal(callHasLapsed(lapsed, NOW), true);
      // By the device clock, with the ring tolerance: a clock a little ahead of the server's lapses nothing early.
      assert.equal(callHasLapsed({ ...live, created_at: at(NOW - 60_000) }, NOW), false);
      assert.equal(callHasLapsed({ ...live, created_at: at(NOW - 60_000 - RING_DEADLINE.clockToleranceMs + 1) }, NOW), false);
      assert.equal(callHasLapsed({ ...lapsed, answer: { type: "answer" } }, NOW), false);
      assert.equal(callHasLapsed({ ...lapsed, end_request: { by: "caller", reason: "timeout" } }, NOW), false);
      assert.equal(callHasLapsed(undefined, NOW), false);
    });
  });
});
