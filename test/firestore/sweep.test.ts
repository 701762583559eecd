import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { candidatesPath, sessionPath, type Role } from "@webrtc-lite/contract";
import { SWEEP_BUDGET_MILLIS, sweepSessions, type SweepOptions } from "#functions/sessions/sweep";
import { adminFirestoreModule } from "@webrtc-lite/dev-stack/admin";
import { captureOutputAsync } from "../helpers/capture";
import { sampleCandidates, sampleSdp } from "../helpers/sdp";
import { SUITE_TIMEOUTS, useSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";

const { Timestamp } = adminFirestoreModule;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;

// The sweep runs in this process against the Firestore emulator (scheduled functions need the
// Pub/Sub emulator to fire, and the triggers would move the seeded sessions on), with a "now"
// chosen so that seeded sessions are exactly as old as each case needs.
describe("session sweep (Firestore emulator)", function () {
  this.timeout(120_000);
  const suite = useSignalingStack(["firestore"]);
  const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

  beforeEach(async () => {
    await suite.admin.db.recursiveDelete(suite.admin.db.collection("webrtc_sessions"));
  });

  /** Seeds a session in `status` that entered it `ageMillis` before NOW, with its candidate documents. */
  async function seed(status: string, ageMillis: number, extra: Record<string, unknown> = {}): Promise<string> {
    const id = randomUUID();
    const since = Timestamp.fromMillis(NOW - ageMillis);
    await suite.admin.db.doc(sessionPath(id)).set({
      caller_id: "alice",
      callee_id: "bob",
      status,
      offer: { type: "offer", sdp: sampleSdp("offer") },
      answer: null,
      end_request: null,
      ring_seconds: 60,
      created_at: since,
      updated_at: since,
      expire_at: Timestamp.fromMillis(NOW + 10 * MINUTE),
      ...extra,
    });
    // Candidate documents as their senders create them (the callee's only once it answered).
    for (const sender of extra.answer ? (["caller", "callee"] as const) : (["caller"] as const)) {
      await suite.admin.db.doc(candidatesPath(id, sender)).set({ sender, caller_id: "alice", callee_id: "bob", candidates: sampleCandidates(sender), created_at: since, expire_at: since });
    }
    return id;
  }

  const session = (id: string) => suite.admin.db.doc(sessionPath(id)).get();

  /** Log lines of one run, by message. */
  const lines = (output: string, message: string) =>
    output
      .split("\n")
      .filter((line) => line.includes(`"message":${JSON.stringify(message)}`))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  /** Runs one sweep in this process, keeping its log lines out of the test report; checks its summary line. */
  async function sweepWithOutput(options?: SweepOptions) {
    const { result, error, output } = await captureOutputAsync(() => sweepSessions(suite.admin.db, NOW, SUITE_TIMEOUTS, options));
    if (error) throw error;
    const summary = lines(output, "session sweep finished");
    assert.equal(summary.length, 1);
    const elapsed = summary[0].elapsedMillis;
    assert.ok(Number.isInteger(elapsed) && (elapsed as number) >= 0, `elapsedMillis ${String(elapsed)}`);
    assert.deepEqual(summary, [{ ...result, elapsedMillis: elapsed, budgetMillis: SWEEP_BUDGET_MILLIS, severity: "INFO", message: "session sweep finished" }]);
    return { report: result!, output };
  }
  const sweep = async (options?: SweepOptions) => (await sweepWithOutput(options)).report;
  const nothing = { recorded: 0, ended: 0, superseded: 0, deleted: 0, deletedLive: 0, remaining: 0 };
  const candidateExists = async (id: string, sender: Role) => (await suite.admin.db.doc(candidatesPath(id, sender)).get()).exists;
  const answer = { type: "answer", sdp: sampleSdp("answer") };
  const connectivity = { by: "caller", at: Timestamp.fromMillis(NOW - 2 * MINUTE) };

  it("ends every live session that outstayed its state's timeout, with reason timeout, and deletes its candidates", async () => {
    const stale = {
      pending: await seed("pending", SUITE_TIMEOUTS.pendingSeconds * SECOND),
      offered: await seed("offered", SUITE_TIMEOUTS.ringSeconds * SECOND),
      answered: await seed("answered", SUITE_TIMEOUTS.answerSeconds * SECOND + 1, { answer }),
      connected: await seed("connected", SUITE_TIMEOUTS.maxCallSeconds * SECOND, { answer, connectivity }),
      // The caller chose a shorter ring than the server's.
      short: await seed("offered", 20 * SECOND, { ring_seconds: 20 }),
    };
    const fresh = {
      offered: await seed("offered", SUITE_TIMEOUTS.ringSeconds * SECOND - 1),
      connected: await seed("connected", SUITE_TIMEOUTS.maxCallSeconds * SECOND - 1, { answer, connectivity }),
    };

    assert.deepEqual(await sweep(), { ...nothing, ended: 5 });

    for (const [status, id] of Object.entries(stale)) {
      const ended = await session(id);
      assert.equal(ended.get("status"), "ended", status);
      assert.equal(ended.get("ended_reason"), "timeout", status);
      assert.equal(ended.get("ended_at").toMillis(), NOW, status);
      assert.equal(ended.get("updated_at").toMillis(), NOW, status);
      assert.equal(ended.get("expire_at").toMillis(), NOW + SUITE_TIMEOUTS.sessionTtlSeconds * SECOND, status);
      assert.equal(await candidateExists(id, "caller"), false, status);
      assert.equal(await candidateExists(id, "callee"), false, status);
    }
    for (const [status, id] of Object.entries(fresh)) {
      assert.equal((await session(id)).get("status"), status);
      assert.equal(await candidateExists(id, "caller"), true, status);
    }

    // Converges: a second run with the same clock finds nothing left to do.
    assert.deepEqual(await sweep(), nothing);
  });

  it("records what a late or failed trigger missed instead of ending a call that went on", async () => {
    const missedAnswer = await seed("pending", 10 * MINUTE, { answer });
    const missedEnd = await seed("offered", 10 * MINUTE, { answer, connectivity, end_request: { by: "caller", reason: "hangup", at: Timestamp.fromMillis(NOW - MINUTE) } });
    assert.deepEqual(await sweep(), { ...nothing, recorded: 1, ended: 1 });
    const answered = await session(missedAnswer);
    assert.deepEqual([answered.get("status"), answered.get("updated_at").toMillis()], ["answered", NOW]);
    assert.equal(await candidateExists(missedAnswer, "caller"), true);
    const ended = await session(missedEnd);
    assert.deepEqual([ended.get("status"), ended.get("ended_reason")], ["ended", "hangup"]);
    assert.equal(await candidateExists(missedEnd, "callee"), false);
  });

  it("deletes ended sessions whose expire_at has passed, and live ones nobody recorded with everything under them", async () => {
    const expired = await seed("ended", 2 * 60 * MINUTE, { ended_at: Timestamp.fromMillis(NOW - 61 * MINUTE), ended_reason: "hangup", expire_at: Timestamp.fromMillis(NOW - MINUTE) });
    // The trigger deleted an ended session's candidates when it ended it, so the sweep deletes the
    // session alone, without listing (and paying for) its empty subcollection.
    for (const sender of ["caller", "callee"] as const) await suite.admin.db.doc(candidatesPath(expired, sender)).delete();
    const expiresNow = await seed("ended", 2 * 60 * MINUTE, { ended_at: Timestamp.fromMillis(NOW - 60 * MINUTE), ended_reason: "reject", expire_at: Timestamp.fromMillis(NOW) });
    for (const sender of ["caller", "callee"] as const) await suite.admin.db.doc(candidatesPath(expiresNow, sender)).delete();
    const kept = await seed("ended", 30 * MINUTE, { ended_at: Timestamp.fromMillis(NOW - 30 * MINUTE), ended_reason: "hangup", expire_at: Timestamp.fromMillis(NOW + 30 * MINUTE) });
    // Created by a client, never touched by a function, past the expire_at the create carried:
    // both stale and expired, so two of the sweep's queries find it.
    const abandoned = await seed("pending", 26 * 60 * MINUTE, { expire_at: Timestamp.fromMillis(NOW - MINUTE) });

    const { report, output } = await sweepWithOutput();
    assert.deepEqual(report, { ...nothing, deleted: 3, deletedLive: 1 });
    // Handled once: deleted with its candidates document, never written first; its end is in its one log line.
    assert.deepEqual(lines(output, "session transition"), [
      { sessionId: abandoned, by: "sweep", event: "timeout", from: "pending", to: "ended", writes: 0, deletes: 2, deleted: true, severity: "INFO", message: "session transition" },
    ]);
    assert.deepEqual(lines(output, "session write superseded"), []);

    for (const id of [expired, expiresNow, abandoned]) {
      assert.equal((await session(id)).exists, false);
      const leftovers = await suite.admin.db.collection(`${sessionPath(id)}/ice_candidates`).get();
      assert.equal(leftovers.size, 0);
    }
    assert.equal((await session(kept)).get("status"), "ended");
    assert.equal(await candidateExists(kept, "caller"), true);
  });

  it("works through a backlog a page at a time, in one run, reading past what it leaves alone", async () => {
    // Oldest first: the sweep's pages follow updated_at.
    for (let index = 0; index < 3; index += 1) await seed("offered", (10 - index) * MINUTE);
    // Between the ring timeout and the shortest ring a caller may choose: found, not stale yet.
    const ringing = await seed("offered", 30 * SECOND);
    await seed("offered", 20 * SECOND, { ring_seconds: 20 });
    assert.deepEqual(await sweep({ pageSize: 2 }), { ...nothing, ended: 4 });
    assert.equal((await session(ringing)).get("status"), "offered");
    const statuses = (await suite.admin.db.collection("webrtc_sessions").get()).docs.map((document) => document.get("status")).sort();
    assert.deepEqual(statuses, ["ended", "ended", "ended", "ended", "offered"]);
    assert.deepEqual(await sweep({ pageSize: 2 }), nothing);
  });
});
