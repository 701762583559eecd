import { strict as assert } from "node:assert";
import { CALL_LIMITS, CallLimitError, slotNames, type CallLimitsDocument, type CallLimitsPlan, type EndedFields } from "@webrtc-lite/contract";
import { CallLimitsTracker, type CallLimitsIo, type CallToEnd } from "@webrtc-lite/client/call/limits";

const NOW = 1_700_000_000_000;
const at = (millis: number) => ({ toMillis: () => millis });
const denied = () => Object.assign(new Error("Missing or insufficient permissions."), { code: "permission-denied" });

/** Fake I/O: refuses the commits named in `refuse` (by attempt number), records every commit and read. */
function io(options: { refuse?: number[]; document?: CallLimitsDocument; sessions?: Record<string, EndedFields> } = {}) {
  const commits: Array<{ plan: CallLimitsPlan; ends: readonly CallToEnd[] }> = [];
  const reads: string[] = [];
  const fake: CallLimitsIo = {
    async commit(plan, ends) {
      commits.push({ plan, ends });
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

describe("CallLimitsTracker (packages/client/src/call/limits.ts)", () => {
  it("dials on what it knows, with no read, and remembers the call as live here", async () => {
    const tracker = new CallLimitsTracker(() => NOW);
    const first = io();
    await tracker.place({ sessionId: "s1", calleeId: "bob" }, first.fake);
    assert.equal(first.commits.length, 1);
    assert.deepEqual(first.reads, []);
    await assert.rejects(tracker.place({ sessionId: "s2", calleeId: "bob" }, io().fake), { reason: "already-calling" });
    tracker.ended("s1");
    const again = io();
    await tracker.place({ sessionId: "s2", calleeId: "bob" }, again.fake);
    assert.equal(again.commits[0].plan.replaces, "s1");
    assert.notEqual(again.commits[0].plan.slot, first.commits[0].plan.slot);
  });

  it("on a refusal reads the document and its sessions, releases the ended entries it needs to, and dials once more", async () => {
    const tracker = new CallLimitsTracker(() => NOW);
    const { fake, commits, reads } = io({
      refuse: [1],
      document: limitsDocument({ a: "s-a", b: "s-b", c: "s-c" }, { 0: NOW - 1_000 }),
      sessions: { "s-a": liveSession(), "s-b": endedSession },
    });
    await tracker.place({ sessionId: "s-new", calleeId: "bob" }, fake);
    assert.deepEqual(reads.sort(), ["limits", "s-a", "s-b", "s-c"]);
    assert.equal(commits.length, 2);
    // s-c is gone (unreadable): ended too; one release is enough.
    assert.deepEqual(commits[1].plan.released, ["b"]);
    assert.equal(commits[1].plan.slot, "1");
    assert.deepEqual(commits[1].ends, []);
  });

  it("ends, with timeout, a released call that was left ringing past its deadline (it still counts until then)", async () => {
    const lapsed: EndedFields = { ...liveSession(), created_at: at(NOW - 61_000) };
    const { fake, commits } = io({
      refuse: [1],
      document: limitsDocument({ a: "s-a", b: "s-b", c: "s-c" }),
      sessions: { "s-a": liveSession(), "s-b": lapsed, "s-c": liveSession(true) },
    });
    await new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, fake);
    assert.deepEqual(commits[1].plan.released, ["b"]);
    assert.deepEqual(commits[1].ends, [{ sessionId: "s-b", reason: "timeout" }]);
  });

  it("ends a call to the same callee still live elsewhere in the new call's batch (a redial replaces it)", async () => {
    const tracker = new CallLimitsTracker(() => NOW);
    const { fake, commits } = io({ refuse: [1], document: limitsDocument({ bob: "s-old" }), sessions: { "s-old": liveSession(true) } });
    await tracker.place({ sessionId: "s-new", calleeId: "bob" }, fake);
    assert.deepEqual(commits[1].ends, [{ sessionId: "s-old", reason: "hangup" }]);
    const unanswered = io({ refuse: [1], document: limitsDocument({ carol: "s-ring" }), sessions: { "s-ring": liveSession(false) } });
    await new CallLimitsTracker(() => NOW).place({ sessionId: "s-2", calleeId: "carol" }, unanswered.fake);
    assert.deepEqual(unanswered.commits[1].ends, [{ sessionId: "s-ring", reason: "cancel" }]);
    const lapsed = io({ refuse: [1], document: limitsDocument({ carol: "s-ring" }), sessions: { "s-ring": { ...liveSession(false), created_at: at(NOW - 60_000) } } });
    await new CallLimitsTracker(() => NOW).place({ sessionId: "s-3", calleeId: "carol" }, lapsed.fake);
    assert.deepEqual(lapsed.commits[1].ends, [{ sessionId: "s-ring", reason: "timeout" }]);
  });

  it(`says so when ${CALL_LIMITS.maxLiveCalls} calls are live elsewhere, without a second write`, async () => {
    const { fake, commits } = io({ refuse: [1], document: limitsDocument({ a: "s-a", b: "s-b", c: "s-c" }), sessions: { "s-a": liveSession(), "s-b": liveSession(), "s-c": liveSession() } });
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, fake), { reason: "too-many-live-calls" });
    assert.equal(commits.length, 1);
  });

  it("names the wait when the minute's creates are used up, and passes other refusals on", async () => {
    const recent = Object.fromEntries(slotNames().map((slot) => [slot, NOW - 30_000]));
    const rate = io({ refuse: [1, 2], document: limitsDocument({}, recent) });
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, rate.fake), (error: unknown) => {
      assert.ok(error instanceof CallLimitError);
      assert.equal(error.reason, "too-many-calls-per-minute");
      assert.match(error.message, /try again in about 30 s/);
      return true;
    });
    const other = io({ refuse: [1, 2] });
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, other.fake), { code: "permission-denied" });
    const offline = io();
    offline.fake.commit = async () => {
      throw Object.assign(new Error("offline"), { code: "unavailable" });
    };
    await assert.rejects(new CallLimitsTracker(() => NOW).place({ sessionId: "s-new", calleeId: "bob" }, offline.fake), { code: "unavailable" });
    assert.deepEqual(offline.reads, []);
  });
});
