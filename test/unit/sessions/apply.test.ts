// The trigger's and the sweep's write path against a recording stand-in for Firestore: which
// operations one decision becomes, in one batch, with which precondition.
import { strict as assert } from "node:assert";
import { MAX_BATCH_OPERATIONS, applySessionWrite, applySessionWrites, toUpdateData } from "#functions/sessions/apply";
import type { SessionWrite } from "#functions/sessions/decide";
import { handleSessionWritten } from "#functions/sessions/trigger";
import { adminFirestoreModule, type AdminFirestore } from "@webrtc-lite/dev-stack/admin";
import { captureOutputAsync } from "../../helpers/capture";
import { sampleSdp } from "../../helpers/sdp";

const { Timestamp } = adminFirestoreModule;
const T = { pendingSeconds: 60, ringSeconds: 60, answerSeconds: 60, maxCallSeconds: 86_400, sessionTtlSeconds: 3_600 };
const NOW = Date.UTC(2026, 10, 24, 8, 0, 0);

interface Operation {
  kind: "update" | "set" | "delete";
  path: string;
  data?: Record<string, unknown>;
  precondition?: { lastUpdateTime: InstanceType<typeof Timestamp> };
}

/**
 * A Firestore stand-in whose batches record their operations; `commitError` makes commits fail,
 * `changed` makes a commit that updates one of those paths lose its precondition (and commit nothing).
 */
function recordingFirestore(commitError?: unknown, changed: ReadonlySet<string> = new Set()) {
  const commits: Operation[][] = [];
  const attempts: string[][] = [];
  const reference = (path: string): unknown => ({
    id: path.split("/").pop(),
    path,
    collection: (name: string) => ({ doc: (id: string) => reference(`${path}/${name}/${id}`) }),
  });
  const db = {
    batch() {
      const operations: Operation[] = [];
      const batch = {
        update(ref: { path: string }, data: Record<string, unknown>, precondition: Operation["precondition"]) {
          operations.push({ kind: "update", path: ref.path, data, precondition });
          return batch;
        },
        set(ref: { path: string }, data: Record<string, unknown>) {
          operations.push({ kind: "set", path: ref.path, data });
          return batch;
        },
        delete(ref: { path: string }) {
          operations.push({ kind: "delete", path: ref.path });
          return batch;
        },
        async commit() {
          attempts.push(operations.filter((operation) => operation.kind === "update").map((operation) => operation.path));
          if (commitError) throw commitError;
          if (operations.some((operation) => operation.kind === "update" && changed.has(operation.path))) {
            throw Object.assign(new Error("9 FAILED_PRECONDITION"), { code: 9 });
          }
          commits.push(operations);
          return [];
        },
      };
      return batch;
    },
  };
  return { db: db as unknown as AdminFirestore, commits, attempts, reference };
}

const lastUpdateTime = Timestamp.fromMillis(NOW - 5);
const ended: SessionWrite = {
  kind: "transition",
  event: "end requested by the callee (hangup)",
  from: "connected",
  to: "ended",
  patch: { status: "ended", updated_at: NOW, expire_at: NOW + 3_600_000, ended_at: NOW, ended_reason: "hangup" },
  candidates: "delete",
};

describe("applying a decision", () => {
  it("turns a patch into Firestore values: timestamps, and nulls for reset fields", () => {
    const data = toUpdateData({ status: "ended", updated_at: NOW, ended_at: NOW, expire_at: NOW + 1, ended_reason: "timeout", error: { code: "c", message: "m" }, reset: ["answer", "end_request"] });
    assert.deepEqual(Object.keys(data).sort(), ["answer", "end_request", "ended_at", "ended_reason", "error", "expire_at", "status", "updated_at"]);
    assert.ok((data.updated_at as InstanceType<typeof Timestamp>).isEqual(Timestamp.fromMillis(NOW)));
    assert.ok((data.expire_at as InstanceType<typeof Timestamp>).isEqual(Timestamp.fromMillis(NOW + 1)));
    // Null, not deleted: the incoming-calls query selects on answer == null and end_request == null.
    assert.equal(data.answer, null);
    assert.equal(data.end_request, null);
    assert.deepEqual(toUpdateData({ error: { code: "c", message: "m" } }), { error: { code: "c", message: "m" } });
  });

  it("ends a call in one batch: the guarded session update and both candidate deletions", async () => {
    const { db, commits, reference } = recordingFirestore();
    const { result, output } = await captureOutputAsync(() => applySessionWrite(db, reference("webrtc_sessions/s1") as never, lastUpdateTime, ended, "trigger"));
    assert.equal(result, "written");
    assert.equal(commits.length, 1);
    assert.deepEqual(
      commits[0].map((operation) => [operation.kind, operation.path]),
      [
        ["update", "webrtc_sessions/s1"],
        ["delete", "webrtc_sessions/s1/ice_candidates/caller"],
        ["delete", "webrtc_sessions/s1/ice_candidates/callee"],
      ],
    );
    assert.ok(commits[0][0].precondition!.lastUpdateTime.isEqual(lastUpdateTime));
    const logged = JSON.parse(output.trim()) as Record<string, unknown>;
    assert.deepEqual(logged, {
      sessionId: "s1",
      by: "trigger",
      event: "end requested by the callee (hangup)",
      from: "connected",
      to: "ended",
      writes: 1,
      deletes: 2,
      severity: "INFO",
      message: "session transition",
    });
  });

  it("records a step in one guarded update and leaves the candidate documents to their senders", async () => {
    const { db, commits, reference } = recordingFirestore();
    const offered: SessionWrite = {
      kind: "transition",
      event: "offered (from the participants' fields)",
      from: "pending",
      to: "offered",
      patch: { status: "offered", updated_at: NOW, expire_at: NOW + 10 },
      candidates: "keep",
    };
    const { result } = await captureOutputAsync(() => applySessionWrite(db, reference("webrtc_sessions/s2") as never, lastUpdateTime, offered, "trigger"));
    assert.equal(result, "written");
    assert.deepEqual(
      commits[0].map((operation) => [operation.kind, operation.path]),
      [["update", "webrtc_sessions/s2"]],
    );
    assert.ok(commits[0][0].precondition!.lastUpdateTime.isEqual(lastUpdateTime));
  });

  it("logs a refusal with the removed fields and touches no candidate document", async () => {
    const { db, commits, reference } = recordingFirestore();
    const refusal: SessionWrite = { kind: "refusal", status: "offered", refused: { code: "x", message: "y" }, patch: { error: { code: "x", message: "y" }, reset: ["connectivity"] } };
    const { result, output } = await captureOutputAsync(() => applySessionWrite(db, reference("webrtc_sessions/s3") as never, lastUpdateTime, refusal, "trigger"));
    assert.equal(result, "written");
    assert.equal(commits[0].length, 1);
    assert.deepEqual(JSON.parse(output.trim()), { sessionId: "s3", status: "offered", code: "x", reason: "y", removed: ["connectivity"], severity: "WARNING", message: "session write refused" });
  });

  it("reports a lost precondition as superseded, and lets any other failure through", async () => {
    const lost = recordingFirestore(Object.assign(new Error("9 FAILED_PRECONDITION"), { code: 9 }));
    const superseded = await captureOutputAsync(() => applySessionWrite(lost.db, lost.reference("webrtc_sessions/s4") as never, lastUpdateTime, ended, "sweep"));
    assert.equal(superseded.result, "superseded");
    assert.deepEqual(JSON.parse(superseded.output.trim()), { sessionId: "s4", by: "sweep", severity: "INFO", message: "session write superseded" });

    const broken = recordingFirestore(Object.assign(new Error("14 UNAVAILABLE"), { code: 14 }));
    const failure = await captureOutputAsync(() => applySessionWrite(broken.db, broken.reference("webrtc_sessions/s5") as never, lastUpdateTime, ended, "sweep"));
    assert.equal((failure.error as Error).message, "14 UNAVAILABLE");
  });
});

describe("applying many decisions (the sweep)", () => {
  const logLines = (output: string) => output.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

  it("commits ends in batches of at most MAX_BATCH_OPERATIONS operations, each end whole in one batch", async () => {
    const { db, commits, reference } = recordingFirestore();
    const writes = Array.from({ length: 400 }, (_, index) => ({ session: reference(`webrtc_sessions/s${index}`) as never, lastUpdateTime, write: ended }));
    const { result, output } = await captureOutputAsync(() => applySessionWrites(db, writes, "sweep"));
    assert.deepEqual(result, writes.map(() => "written"));
    // Three operations an end: 166 ends fill a batch of 500 to 498.
    assert.equal(MAX_BATCH_OPERATIONS, 500);
    assert.deepEqual(commits.map((operations) => operations.length), [498, 498, 204]);
    for (const operations of commits) {
      for (let index = 0; index < operations.length; index += 3) {
        const session = operations[index].path;
        assert.deepEqual(
          operations.slice(index, index + 3).map((operation) => [operation.kind, operation.path]),
          [["update", session], ["delete", `${session}/ice_candidates/caller`], ["delete", `${session}/ice_candidates/callee`]],
        );
        assert.ok(operations[index].precondition!.lastUpdateTime.isEqual(lastUpdateTime));
      }
    }
    // One line per end, once its batch has committed.
    assert.deepEqual(logLines(output).map((line) => line.sessionId), writes.map((_, index) => `s${index}`));
  });

  it("splits a batch that lost a precondition until only the changed sessions are left out, and counts those superseded", async () => {
    const { db, commits, attempts, reference } = recordingFirestore(undefined, new Set(["webrtc_sessions/s2", "webrtc_sessions/s5"]));
    const writes = Array.from({ length: 8 }, (_, index) => ({ session: reference(`webrtc_sessions/s${index}`) as never, lastUpdateTime, write: ended }));
    const { result, output } = await captureOutputAsync(() => applySessionWrites(db, writes, "sweep"));
    assert.deepEqual(result, ["written", "written", "superseded", "written", "written", "superseded", "written", "written"]);
    const ids = (paths: string[]) => paths.map((path) => path.replace("webrtc_sessions/", ""));
    assert.deepEqual(attempts.map(ids), [
      ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"],
      ["s0", "s1", "s2", "s3"],
      ["s0", "s1"],
      ["s2", "s3"],
      ["s2"],
      ["s3"],
      ["s4", "s5", "s6", "s7"],
      ["s4", "s5"],
      ["s4"],
      ["s5"],
      ["s6", "s7"],
    ]);
    // Only whole sessions committed: every end that landed with both of its candidate deletions.
    assert.deepEqual(commits.flat().filter((operation) => operation.kind === "update").map((operation) => operation.path).map((path) => path.replace("webrtc_sessions/", "")), ["s0", "s1", "s3", "s4", "s6", "s7"]);
    assert.equal(commits.flat().length, 18);
    assert.deepEqual(
      logLines(output).map((line) => [line.sessionId, line.message]),
      [
        ["s0", "session transition"],
        ["s1", "session transition"],
        ["s2", "session write superseded"],
        ["s3", "session transition"],
        ["s4", "session transition"],
        ["s5", "session write superseded"],
        ["s6", "session transition"],
        ["s7", "session transition"],
      ],
    );
  });

  it("lets a failure other than a lost precondition through, without splitting the batch or logging", async () => {
    const broken = recordingFirestore(Object.assign(new Error("14 UNAVAILABLE"), { code: 14 }));
    const writes = Array.from({ length: 3 }, (_, index) => ({ session: broken.reference(`webrtc_sessions/s${index}`) as never, lastUpdateTime, write: ended }));
    const failure = await captureOutputAsync(() => applySessionWrites(broken.db, writes, "sweep"));
    assert.equal((failure.error as Error).message, "14 UNAVAILABLE");
    assert.equal(broken.attempts.length, 1);
    assert.equal(failure.output, "");
  });
});

describe("handleSessionWritten", () => {
  const snapshot = (data: Record<string, unknown> | undefined, ref: unknown) =>
    ({ exists: data !== undefined, updateTime: data ? lastUpdateTime : undefined, data: () => data, ref }) as never;

  it("does nothing for a deletion", async () => {
    const { db, commits } = recordingFirestore();
    assert.deepEqual(await handleSessionWritten(db, undefined, T, NOW), { decision: { kind: "none", why: "the session was deleted" } });
    assert.deepEqual(await handleSessionWritten(db, snapshot(undefined, {}), T, NOW), { decision: { kind: "none", why: "the session was deleted" } });
    assert.equal(commits.length, 0);
  });

  it("writes nothing when the decision is none, and commits the decided write otherwise", async () => {
    const { db, commits, reference } = recordingFirestore();
    const at = Timestamp.fromMillis(NOW - 1_000);
    const base = { caller_id: "a", callee_id: "b", offer: { type: "offer", sdp: sampleSdp("offer") }, created_at: at, updated_at: at };
    const waiting = await handleSessionWritten(db, snapshot({ ...base, status: "offered" }, reference("webrtc_sessions/s6")), T, NOW);
    assert.deepEqual(waiting, { decision: { kind: "none", why: "offered: waiting for the callee's answer" } });
    assert.equal(commits.length, 0);
    const { result } = await captureOutputAsync(() => handleSessionWritten(db, snapshot({ ...base, status: "pending" }, reference("webrtc_sessions/s6")), T, NOW));
    assert.equal(result?.outcome, "written");
    assert.equal(result?.decision.kind === "transition" && result.decision.to, "offered");
    assert.equal(commits.length, 1);
  });
});
