import { strict as assert } from "node:assert";
import { DEFAULT_TIMEOUTS, type Timeouts, expireAtMillis, isStale, ringEndsAtMillis, resolveTimeouts, stateTimeoutSeconds, sweepCutoffs } from "@webrtc-lite/contract";

const T: Timeouts = { pendingSeconds: 30, ringSeconds: 45, answerSeconds: 20, maxCallSeconds: 7_200, sessionTtlSeconds: 3_600 };
const NOW = Date.UTC(2026, 10, 24, 8, 0, 0);

describe("timeouts", () => {
  it("gives each live state its own timeout", () => {
    assert.equal(stateTimeoutSeconds("pending", T), 30);
    assert.equal(stateTimeoutSeconds("offered", T), 45);
    assert.equal(stateTimeoutSeconds("answered", T), 20);
    assert.equal(stateTimeoutSeconds("connected", T), 7_200);
  });

  it("expires an ended session one TTL after the end, and a live one after its timeout plus the TTL", () => {
    assert.equal(expireAtMillis("ended", NOW, T), NOW + 3_600_000);
    assert.equal(expireAtMillis("pending", NOW, T), NOW + 3_630_000);
    assert.equal(expireAtMillis("offered", NOW, T), NOW + 3_645_000);
    assert.equal(expireAtMillis("answered", NOW, T), NOW + 3_620_000);
    assert.equal(expireAtMillis("connected", NOW, T), NOW + 10_800_000);
  });

  it("ends the ring at created_at plus the caller's ring_seconds, never later than the ring timeout", () => {
    assert.equal(ringEndsAtMillis(NOW, 20, T), NOW + 20_000);
    assert.equal(ringEndsAtMillis(NOW, 45, T), NOW + 45_000);
    assert.equal(ringEndsAtMillis(NOW, 600, T), NOW + 45_000);
  });

  it("calls a state stale exactly when its timeout has passed", () => {
    assert.equal(isStale("offered", NOW, NOW + 44_999, T), false);
    assert.equal(isStale("offered", NOW, NOW + 45_000, T), true);
    assert.equal(isStale("pending", NOW, NOW + 30_000, T), true);
    assert.equal(isStale("answered", NOW, NOW + 19_999, T), false);
    assert.equal(isStale("connected", NOW, NOW + 7_200_000, T), true);
  });

  it("cuts the sweep's queries at the shortest ring a caller may choose or the shortest timeout, and at the longest call", () => {
    assert.deepEqual(sweepCutoffs(NOW, T), { shortLivedBefore: NOW - 10_000, connectedBefore: NOW - 7_200_000, expiredBefore: NOW });
  });

  describe("resolveTimeouts", () => {
    it("keeps values inside their ranges, bounds included", () => {
      const edges: Timeouts = { pendingSeconds: 10, ringSeconds: 600, answerSeconds: 10, maxCallSeconds: 604_800, sessionTtlSeconds: 60 };
      assert.deepEqual(resolveTimeouts(edges), { timeouts: edges, problems: [] });
      assert.deepEqual(resolveTimeouts({ ...DEFAULT_TIMEOUTS }), { timeouts: { ...DEFAULT_TIMEOUTS }, problems: [] });
    });

    it("replaces each out-of-range or fractional value by its default and says which param to fix", () => {
      const { timeouts, problems } = resolveTimeouts({ pendingSeconds: 9, ringSeconds: 601, answerSeconds: 1.5, maxCallSeconds: 59, sessionTtlSeconds: 2_592_001 });
      assert.deepEqual(timeouts, { ...DEFAULT_TIMEOUTS });
      assert.deepEqual(problems, [
        "SESSION_PENDING_TIMEOUT_SECONDS must be a whole number of seconds from 10 to 3600; got 9, using 60.",
        "SESSION_RING_TIMEOUT_SECONDS must be a whole number of seconds from 10 to 600; got 601, using 60.",
        "SESSION_ANSWER_TIMEOUT_SECONDS must be a whole number of seconds from 10 to 600; got 1.5, using 60.",
        "SESSION_MAX_CALL_SECONDS must be a whole number of seconds from 60 to 604800; got 59, using 86400.",
        "SESSION_TTL_SECONDS must be a whole number of seconds from 60 to 2592000; got 2592001, using 3600.",
      ]);
    });
  });
});
