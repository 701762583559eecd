import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { candidatesPath, sessionPath, type Role } from "@webrtc-lite/contract";
import { SWEEP_BUDGET_MILLIS, sweepSessions, type SweepOptions, type SweepReport } from "#functions/sessions/sweep";
import { adminFirestoreModule, writeInBatches, type AdminFirestore, type SeedDocument, type AdminQuery, type AdminQuerySnapshot } from "@webrtc-lite/dev-stack/admin";
import { captureOutputAsync } from "../helpers/capture";
import { sampleCandidates, sampleSdp } from "../helpers/sdp";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { SUITE_TIMEOUTS, useSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";

const { Timestamp } = adminFirestoreModule;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A session to seed: its state, how long ago it entered it, and the candidate documents under it. */
interface SeedSpec {
  status: "pending" | "offered" | "answered" | "connected" | "ended";
  ageMillis: number;
  /** Fields beyond the created session's (answer, connectivity, ended_*, expire_at). */
  extra?: Record<string, unknown>;
  candidates: readonly Role[];
}

// A backlog as a Functions outage leaves it: thousands of sessions the trigger never moved on,
// swept by one run in this process against the Firestore emulator, with a chosen "now" (the
// scheduled function needs the Pub/Sub emulator, and the triggers would move the sessions on).
describe("session sweep at a backlog (Firestore emulator)", function () {
  this.timeout(180_000);
  const suite = useSignalingStack(["firestore"]);
  const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
  const answer = { type: "answer", sdp: sampleSdp("answer") };
  const offer = { type: "offer", sdp: sampleSdp("offer") };
  const candidates = { caller: sampleCandidates("caller"), callee: sampleCandidates("callee") };

  // The emulator's own reset: deleting thousands of documents through the SDK would take longer than the test.
  beforeEach(async () => {
    const response = await fetch(`http://127.0.0.1:${suite.stack.ports.firestore}/emulator/v1/projects/${PROJECT_ID}/databases/(default)/documents`, { method: "DELETE" });
    assert.equal(response.status, 200, await response.text());
  });

  /** Seeds sessions, each with its candidate documents, through `writeInBatches`; their ids, in the order of `specs`. */
  async function seed(specs: readonly SeedSpec[]): Promise<string[]> {
    const ids = specs.map(() => randomUUID());
    const groups = specs.map((spec, index): SeedDocument[] => {
      const id = ids[index];
      const since = Timestamp.fromMillis(NOW - spec.ageMillis);
      const session: SeedDocument = {
        path: sessionPath(id),
        data: {
          caller_id: "alice",
          callee_id: "bob",
          status: spec.status,
          offer,
          answer: null,
          end_request: null,
          ring_seconds: 60,
          created_at: since,
          updated_at: since,
          expire_at: Timestamp.fromMillis(NOW + 10 * MINUTE),
          ...spec.extra,
        },
      };
      return [
        session,
        ...spec.candidates.map((sender) => ({
          path: candidatesPath(id, sender),
          data: { sender, caller_id: "alice", callee_id: "bob", candidates: candidates[sender], created_at: since, expire_at: since },
        })),
      ];
    });
    await writeInBatches(suite.admin.db, groups);
    return ids;
  }

  const times = (count: number, spec: SeedSpec): SeedSpec[] => Array.from({ length: count }, () => spec);
  const connectivity = { by: "caller", at: Timestamp.fromMillis(NOW - 25 * HOUR) };
  /** Live sessions past their state's timeout (their expire_at still ahead), with the candidate documents their senders wrote. */
  const stale = {
    pending: { status: "pending", ageMillis: 10 * MINUTE, candidates: ["caller"] },
    offered: { status: "offered", ageMillis: 10 * MINUTE, candidates: ["caller"] },
    answered: { status: "answered", ageMillis: 10 * MINUTE, extra: { answer }, candidates: ["caller", "callee"] },
    connected: { status: "connected", ageMillis: 25 * HOUR, extra: { answer, connectivity }, candidates: ["caller", "callee"] },
  } satisfies Record<string, SeedSpec>;
  /** An ended session an hour past its end: its candidates went with the end, so only the session is left. */
  const expiredEnded: SeedSpec = {
    status: "ended",
    ageMillis: 2 * HOUR,
    extra: { answer, ended_at: Timestamp.fromMillis(NOW - HOUR - MINUTE), ended_reason: "hangup", expire_at: Timestamp.fromMillis(NOW - MINUTE) },
    candidates: [],
  };

  /** Log lines of one run, by message. */
  const lines = (output: string, message: string) =>
    output
      .split("\n")
      .filter((line) => line.includes(`"message":${JSON.stringify(message)}`))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  /** Runs one sweep in this process on `db`, keeping its log lines out of the test report; checks its summary line. */
  async function sweep(options?: SweepOptions, db: AdminFirestore = suite.admin.db): Promise<{ report: SweepReport; output: string; elapsedMillis: number }> {
    const { result, error, output } = await captureOutputAsync(() => sweepSessions(db, NOW, SUITE_TIMEOUTS, options));
    if (error) throw error;
    const summary = lines(output, "session sweep finished");
    assert.equal(summary.length, 1);
    const elapsedMillis = summary[0].elapsedMillis as number;
    assert.ok(Number.isInteger(elapsedMillis) && elapsedMillis >= 0, `elapsedMillis ${elapsedMillis}`);
    assert.deepEqual(summary, [{ ...result, elapsedMillis, budgetMillis: options?.budgetMillis ?? SWEEP_BUDGET_MILLIS, severity: "INFO", message: "session sweep finished" }]);
    return { report: result!, output, elapsedMillis };
  }

  /** The session ids of a run's "session transition" lines, checking that each records an end by the sweep. */
  function endedIn(output: string): string[] {
    const transitions = lines(output, "session transition");
    for (const line of transitions) assert.deepEqual([line.by, line.to, line.writes, line.deletes], ["sweep", "ended", 1, 2], JSON.stringify(line));
    return transitions.map((line) => line.sessionId as string);
  }

  const sessions = () => suite.admin.db.collection("webrtc_sessions");
  const count = async (query: AdminQuery) => (await query.count().get()).data().count;
  const nothing = { recorded: 0, ended: 0, superseded: 0, deleted: 0, deletedLive: 0, remaining: 0 };

  it("stops at its budget between pages, leaving every session whole and the count of what is left; the next run finishes", async () => {
    const staleIds = await seed([...times(250, stale.offered), ...times(150, stale.connected)]);
    const expiredIds = await seed(times(150, expiredEnded));
    const byId = new Map(staleIds.map((id, index) => [id, index < 250 ? "offered" : "connected"]));

    // Every reading of the clock moves it on a second: read at the start and before each page,
    // a budget of 3.5 s lets three pages start: one of each query.
    let seconds = 0;
    const clock = () => seconds++ * SECOND;
    const stopped = await sweep({ pageSize: 100, budgetMillis: 3_500, clock });
    // 150 short-lived, 50 connected and 50 expired left; the clock read once more for the log line.
    assert.deepEqual(stopped.report, { ...nothing, ended: 200, deleted: 100, remaining: 250 });
    assert.equal(stopped.elapsedMillis, 5_000);
    const endedFirst = endedIn(stopped.output);
    assert.equal(new Set(endedFirst).size, 200);

    // Consistent: each session either ended whole (status, its candidates gone) or untouched.
    const after = await sessions().get();
    const state = new Map(after.docs.map((document) => [document.id, document]));
    const candidatesLeft = new Set((await suite.admin.db.collectionGroup("ice_candidates").get()).docs.map((document) => document.ref.parent.parent!.id));
    let untouched = 0;
    for (const [id, status] of byId) {
      const session = state.get(id)!;
      if (endedFirst.includes(id)) {
        assert.deepEqual([session.get("status"), session.get("ended_reason"), candidatesLeft.has(id)], ["ended", "timeout", false], id);
      } else {
        assert.deepEqual([session.get("status"), session.get("updated_at").toMillis() < NOW, candidatesLeft.has(id)], [status, true, true], id);
        untouched += 1;
      }
    }
    assert.equal(untouched, 200);
    assert.equal(expiredIds.filter((id) => state.has(id)).length, 50);

    const next = await sweep();
    assert.deepEqual(next.report, { ...nothing, ended: 200, deleted: 50 });
    const endedNext = endedIn(next.output);
    // Between the two runs, every stale session ended exactly once.
    assert.deepEqual([...endedFirst, ...endedNext].sort(), [...staleIds].sort());
    assert.equal(await count(sessions().where("status", "!=", "ended")), 0);
    assert.equal(await count(sessions()), 400);
    assert.equal(await count(suite.admin.db.collectionGroup("ice_candidates")), 0);
    assert.deepEqual((await sweep()).report, nothing);
  });

  it("leaves a session that changed after its page was read to its writer, commits the rest of the batch, and converges", async () => {
    const ids = await seed(times(5, stale.offered));
    const late = ids[2];
    // The callee answers just after the sweep read the page (the trigger has not run yet): the
    // sweep's batch loses that session's precondition, is split, and commits the other four.
    const db = answeringAfterFirstPage(suite.admin.db, late, answer);
    const raced = await sweep(undefined, db);
    assert.deepEqual(raced.report, { ...nothing, ended: 4, superseded: 1 });
    assert.deepEqual(new Set(endedIn(raced.output)), new Set(ids.filter((id) => id !== late)));
    assert.deepEqual(lines(raced.output, "session write superseded"), [{ sessionId: late, by: "sweep", severity: "INFO", message: "session write superseded" }]);
    const answered = await suite.admin.db.doc(sessionPath(late)).get();
    assert.deepEqual([answered.get("status"), answered.get("answer")], ["offered", answer]);
    assert.equal((await suite.admin.db.doc(candidatesPath(late, "caller")).get()).exists, true);

    // The next run records the answer as the trigger would, instead of ending a call that went on.
    const next = await sweep();
    assert.deepEqual(next.report, { ...nothing, recorded: 1 });
    assert.equal((await suite.admin.db.doc(sessionPath(late)).get()).get("status"), "answered");
  });

  it("ends a backlog of 10,000 stale sessions and deletes 2,000 expired ones in one run, each once, and leaves nothing behind", async () => {
    const clock = { start: performance.now(), marks: [] as string[] };
    const mark = (what: string) => clock.marks.push(`${what} ${((performance.now() - clock.start) / SECOND).toFixed(1)} s`);
    const staleIds = await seed([...times(4_000, stale.offered), ...times(2_000, stale.pending), ...times(2_000, stale.answered), ...times(2_000, stale.connected)]);
    const expiredIds = await seed(times(2_000, expiredEnded));
    mark("seeded 12,000 sessions and 14,000 candidate documents");

    const run = await sweep();
    mark(`swept (the run's own time: ${(run.elapsedMillis / SECOND).toFixed(1)} s)`);
    assert.deepEqual(run.report, { ...nothing, ended: 10_000, deleted: 2_000 });
    // Each stale session ended exactly once: one line each, and no other.
    const ended = endedIn(run.output);
    assert.equal(ended.length, 10_000);
    assert.deepEqual(new Set(ended), new Set(staleIds));
    assert.deepEqual(lines(run.output, "session write superseded"), []);

    // Nothing left behind: every stale session ended as a timeout at NOW, no candidate document,
    // no expired session.
    assert.equal(await count(sessions()), 10_000);
    assert.equal(await count(sessions().where("status", "==", "ended")), 10_000);
    assert.equal(await count(sessions().where("ended_reason", "==", "timeout")), 10_000);
    assert.equal(await count(sessions().where("ended_at", "==", Timestamp.fromMillis(NOW))), 10_000);
    assert.equal(await count(sessions().where("expire_at", "==", Timestamp.fromMillis(NOW + SUITE_TIMEOUTS.sessionTtlSeconds * SECOND))), 10_000);
    assert.equal(await count(suite.admin.db.collectionGroup("ice_candidates")), 0);
    const gone = await suite.admin.db.getAll(...expiredIds.slice(0, 100).map((id) => suite.admin.db.doc(sessionPath(id))));
    assert.deepEqual(gone.filter((snapshot) => snapshot.exists), []);
    mark("checked");

    const second = await sweep();
    assert.deepEqual(second.report, nothing);
    assert.deepEqual(lines(second.output, "session transition"), []);
    mark("second run");
    console.log(`      ${clock.marks.join("; ")}`);
  });
});

/** `db` as the sweep uses it, except that its first query's snapshot is returned only after `sessionId` got `answer`. */
function answeringAfterFirstPage(db: AdminFirestore, sessionId: string, answer: unknown): AdminFirestore {
  const { Query } = adminFirestoreModule;
  let answered = false;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, key) {
        const value: unknown = Reflect.get(object, key);
        if (typeof value !== "function") return value;
        return (...args: unknown[]): unknown => {
          const result: unknown = (value as (...parameters: unknown[]) => unknown).apply(object, args);
          if (object instanceof Query && key === "get" && !answered) {
            answered = true;
            return (result as Promise<AdminQuerySnapshot>).then(async (snapshot) => {
              await db.doc(sessionPath(sessionId)).update({ answer });
              return snapshot;
            });
          }
          return result instanceof Query ? wrap(result) : result;
        };
      },
    });
  return wrap(db);
}
