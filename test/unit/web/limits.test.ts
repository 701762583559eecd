import { strict as assert } from "node:assert";
import { CALL_LIMITS, CallLimitError, RING_DEADLINE, slotNames, type CallLimitsDocument, type CallLimitsPlan, type EndedFields, type KnownCallLimits } from "@webrtc-lite/contract";
import { CallError } from "@webrtc-lite/client/call/state";
import { CallLimitsTracker, type CallLimitsIo, type CallToEnd } from "@webrtc-lite/client/call/limits";

const NOW = 1_700_000_000_000;
const at = (millis: number) => ({ toMillis: () => millis });
const denied = () => Object.assign(new Error("Missing or insufficient permissions."), { code: "permission-denied" });

/** Fake I/O: refuses the commits named in `refuse` (by attempt number), records every commit and read. */
function io(options: { refuse?: number[]; document?: CallLimitsDocument; sessions?: Record<string, EndedFields> } = {}) {
  const commits: Array<{ plan: CallLimitsPlan; ends: readonly CallToEnd[]; fresh?: KnownCallLimits }> = [];
  const reads: string[] = [];
  const fake: CallLimitsIo = {
    async commit(plan, ends, fresh) {
      commits.push({ plan, ends, fresh });
      if (options.refuse?.includes(commits.length)) throw denied();
    },
    async readLimits() {
      reads.push("limits");
      return options.document;
    },
    async readSession(sessionId) {
      reads.push(sessionId);
      return options.sessions?.[sessionId];
    },
  };
  return { fake, commits, reads };
}

const liveSession = (answered = false): EndedFields => ({ status: "offered", answer: answered ? { type: "answer" } : null, end_request: null, created_at: at(NOW - 1_000), ring_seconds: 60, expire_at: at(NOW + 3_600_000) });
const endedSession: EndedFields = { ...liveSession(), end_request: { by: "caller", reason: "cancel" } };
const limitsDocument = (live: Record<string, string>, recent: Record<string, number> = {}): CallLimitsDocument => ({
  live,
  recent: Object.fromEntries(Object.entries(recent).map(([slot, millis]) => [slot, at(millis)])),
  slot: "0",
  session_id: Object.values(live)[0] ?? "none",
  callee_id: Object.keys(live)[0] ?? "nobody",
});

/** A call placed here, as the tracker sees it: answered or not, and how a redial ended it. */
function placed(answered = false) {
  const handle = { answered: () => answered, replacedWith: undefined as string | undefined, replaced: (reason: string) => (handle.replacedWith = reason) };
  return handle;
}

describe("CallLimitsTracker (packages/client/src/call/limits.ts)", () => {
  it("dials on what it knows, with no read, and remembers the call as live here", async () => {
    const tracker = new CallLimitsTracker(() => NOW);
    const first = io();
    await tracker.place({ sessionId: "s1", calleeId: "bob" }, first.fake, placed());
    assert.equal(first.commits.length, 1);
    assert.deepEqual(first.reads, []);
    tracker.ended("s1");
    const again = io();
    await tracker.place({ sessionId: "s2", calleeId: "bob" }, again.fake, placed());
    assert.equal(again.commits[0].plan.replaces, "s1");
    assert.deepEqual(again.commits[0].ends, []);
    assert.notEqual(again.commits[0].plan.slot, first.commits[0].plan.slot);
  });

  it("redials a callee it is still calling in one batch that ends the old call (cancel, or hangup once answered), and ends it here", async () => {
    const tracker = new CallLimitsTracker(() => NOW);
    const ringing = placed();
    await tracker.place({ sessionId: "s1", calleeId: "bob" }, io().fake, ringing);
    const redial = io();
    const answered = placed(true);
    await tracker.place({ sessionId: "s2", calleeId: "bob" }, redial.fake, answered);
    assert.equal(redial.commits.length, 1);
    assert.deepEqual(redial.reads, []);
    assert.deepEqual(redial.commits[0].ends, [{ sessionId: "s1", reason: "cancel" }]);
    assert.equal(redial.commits[0].plan.replaces, "s1");
    assert.equal(ringing.replacedWith, "cancel");
    const again = io();
    await tracker.place({ sessionId: "s3", calleeId: "bob" }, again.fake, placed());
    assert.deepEqual(again.commits[0].ends, [{ sessionId: "s2", reason: "hangup" }]);
    assert.equal(answered.replacedWith, "hangup");
  });

  it("leaves a call live here alone when the redial's batch fails", async () => {
    const tracker = new CallLimitsTracker(() => NOW);
    const old = placed();
    await tracker.place({ sessionId: "s1", calleeId: "bob" }, io().fake, old);
    const offline = io();
    offline.fake.commit = async () => {
      throw Object.assign(new Error("offline"), { code: "unavailable" });
    };
    await assert.rejects(tracker.place({ sessionId: "s2", calleeId: "bob" }, offline.fake, placed()), { code: "unavailable" });
    assert.equal(old.replacedWith, undefined);
  });

  it(`refuses the dial after ${CALL_LIMITS.callsPerMinute} in a minute on the device, sending nothing`, async () => {
    let now = NOW;
    const tracker = new CallLimitsTracker(() => now);
    const sent = io();
    for (let index = 0; index < CALL_LIMITS.callsPerMinute; index += 1) {
      await tracker.place({ sessionId: `s${index}`, calleeId: `callee-${index}` }, sent.fake, placed());
      tracker.ended(`s${index}`);
      now += 1_000;
    }
    assert.deepEqual(new Set(sent.commits.map((commit) => commit.plan.slot)).size, CALL_LIMITS.callsPerMinute);
    await assert.rejects(tracker.place({ sessionId: "s-over", calleeId: "someone" }, sent.fake, placed()), (error: unknown) => {
      assert.ok(error instanceof CallLimitError);
      assert.equal(error.reason, "too-many-calls-per-minute");
      assert.equal(error.retryAtMillis, NOW + CALL_LIMITS.windowSeconds * 1_000);
      assert.equal(error.message, `You started ${CALL_LIMITS.callsPerMinute} calls in the last ${CALL_LIMITS.windowSeconds} seconds; try again in about 50 s.`);
      return true;
    });
    assert.equal(sent.commits.length, CALL_LIMITS.callsPerMinute);
    now = NOW + CALL_LIMITS.windowSeconds * 1_000;
    await tracker.place({ sessionId: "s-later", calleeId: "someone" }, sent.fake, placed());
    assert.equal(sent.commits.at(-1)!.plan.slot, sent.commits[0].plan.slot);
  });

  it("on a refusal reads the document and its sessions, releases the ended entries it needs to, and dials once more", async () => {
    const tracker = new CallLimitsTracker(() => NOW);
    const { fake, commits, reads } = io({
      refuse: [1],
      document: limitsDocument({ a: "s-a", b: "s-b", c: "s-c" }, { 0: NOW - 1_000 }),
      sessions: { "s-a": liveSession(), "s-b": endedSession },
    });
    await tracker.place({ sessionId: "s-new", calleeId: "bob" }, fake, placed());
    assert.deepEqual(reads.sort(), ["limits", "s-a", "s-b", "s-c"]);
    assert.equal(commits.length, 2);
    // s-c is gone (unreadable): ended too; one release is enough.
    assert.deepEqual(commits[1].plan.released, ["b"]);
    assert.equal(commits[1].plan.slot, "1");
    assert.deepEqual(commits[1].ends, []);
  });

  it("ends, with timeout, a released call that was left ringing past its deadline and the tolerance (it still counts until then)", async () => {
    const lapsed: EndedFields = { ...liveSession(), created_at: at(NOW - 60_000 - RING_DEADLINE.clockToleranceMs) };
    const { fake, commits } = io({
      refuse: [1],
      document: limitsDocument({ a: "s-a", b: "s-b", c: "s-c" }),
      sessions: { "s-a": liveSession(), "s-b": lapsed, "s-c": liveSession(true) },
    });
    await new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, fake, placed());
    assert.deepEqual(commits[1].plan.released, ["b"]);
    assert.deepEqual(commits[1].ends, [{ sessionId: "s-b", reason: "timeout" }]);
  });

  it("ends a call to the same callee still live on another device in the retried batch (a redial replaces it)", async () => {
    const tracker = new CallLimitsTracker(() => NOW);
    const { fake, commits } = io({ refuse: [1], document: limitsDocument({ bob: "s-old" }), sessions: { "s-old": liveSession(true) } });
    await tracker.place({ sessionId: "s-new", calleeId: "bob" }, fake, placed());
    assert.deepEqual(commits[1].ends, [{ sessionId: "s-old", reason: "hangup" }]);
    const unanswered = io({ refuse: [1], document: limitsDocument({ carol: "s-ring" }), sessions: { "s-ring": liveSession(false) } });
    await new CallLimitsTracker(() => NOW).place({ sessionId: "s-2", calleeId: "carol" }, unanswered.fake, placed());
    assert.deepEqual(unanswered.commits[1].ends, [{ sessionId: "s-ring", reason: "cancel" }]);
    const lapsed = io({ refuse: [1], document: limitsDocument({ carol: "s-ring" }), sessions: { "s-ring": { ...liveSession(false), created_at: at(NOW - 60_000 - RING_DEADLINE.clockToleranceMs) } } });
    await new CallLimitsTracker(() => NOW).place({ sessionId: "s-3", calleeId: "carol" }, lapsed.fake, placed());
    assert.deepEqual(lapsed.commits[1].ends, [{ sessionId: "s-ring", reason: "timeout" }]);
  });

  it(`says so when ${CALL_LIMITS.maxLiveCalls} calls are live elsewhere, without a second write`, async () => {
    const { fake, commits } = io({ refuse: [1], document: limitsDocument({ a: "s-a", b: "s-b", c: "s-c" }), sessions: { "s-a": liveSession(), "s-b": liveSession(), "s-c": liveSession() } });
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, fake, placed()), { reason: "too-many-live-calls" });
    assert.equal(commits.length, 1);
  });

  it("names the wait when the read shows the minute's creates used up, without a second write, and passes other refusals on", async () => {
    const recent = Object.fromEntries(slotNames().map((slot) => [slot, NOW - 30_000]));
    const rate = io({ refuse: [1], document: limitsDocument({}, recent) });
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, rate.fake, placed()), (error: unknown) => {
      assert.ok(error instanceof CallLimitError);
      assert.equal(error.reason, "too-many-calls-per-minute");
      assert.match(error.message, /try again in about 30 s/);
      return true;
    });
    assert.equal(rate.commits.length, 1);
    const other = io({ refuse: [1, 2] });
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, other.fake, placed()), { code: "permission-denied" });
    assert.deepEqual(other.commits[1].fresh, { live: {}, recent: {} });
    const offline = io();
    offline.fake.commit = async () => {
      throw Object.assign(new Error("offline"), { code: "unavailable" });
    };
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, offline.fake, placed()), { code: "unavailable" });
    assert.deepEqual(offline.reads, []);
  });

  it("does not retry a refusal the store has explained already", async () => {
    const explained = io();
    explained.fake.commit = async () => {
      throw new CallError("permission-denied", "This device's clock is about 30 hours ahead of the server's …");
    };
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, explained.fake, placed()), { name: "CallError" });
    assert.deepEqual(explained.reads, []);
  });
});
