// Section 5 of `npm run bench`: how fast one sweep run ends a backlog of stale sessions, through
// the Firestore emulator and the Admin SDK, beside a bare baseline in the same run: the same
// number of plain updates, each guarded by its document's update time, read by the same query
// in the same pages and committed 500 to a batch, with no decision, no candidate deletion and
// no log line. Also, for scale, one guarded update a commit, as the sweep did before it batched.
// Figures only: nothing here passes or fails on timing.
import { randomUUID } from "node:crypto";
import { candidatesPath, sweepCutoffs } from "@webrtc-lite/contract";
import { MAX_BATCH_OPERATIONS } from "#functions/sessions/apply";
import { SWEEP_PAGE_SIZE, sweepSessions, type SweepReport } from "#functions/sessions/sweep";
import { adminFirestoreModule, emulatorAdmin, writeInBatches, type AdminFirestore, type SeedDocument, type AdminQueryDocumentSnapshot } from "@webrtc-lite/dev-stack/admin";
import { firestoreEmulatorEnv } from "@webrtc-lite/dev-stack/firestore-emulator";
import { SUITE_TIMEOUTS, startSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { fmt, nowMs } from "./stats";

const { Timestamp } = adminFirestoreModule;
/** Stale sessions in the backlog; BENCH_SWEEP_SESSIONS overrides it. */
const SESSIONS = Math.max(1_000, Number(process.env.BENCH_SWEEP_SESSIONS ?? 10_000) || 10_000);
/** Sessions committed one at a time for the "before batching" line (it costs a few ms each). */
const ONE_BY_ONE = 1_000;
const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const SDP = ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0", "a=msid-semantic: WMS", "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=ice-ufrag:Gq2b", "a=ice-pwd:eGGuT0v2k0bnzZtW2cGSq5sh", "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08", "a=setup:actpass", "a=mid:0", "a=sendrecv", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", ""].join("\r\n");

/** A ringing call whose ring ended ten minutes before NOW, as a client creates it. */
function staleSession(): Record<string, unknown> {
  const since = Timestamp.fromMillis(NOW - 10 * MINUTE);
  return {
    caller_id: "alice",
    callee_id: "bob",
    status: "offered",
    offer: { type: "offer", sdp: SDP },
    answer: null,
    end_request: null,
    ring_seconds: 60,
    created_at: since,
    updated_at: since,
    expire_at: Timestamp.fromMillis(NOW + 10 * MINUTE),
  };
}

/** Writes `count` stale sessions to `collection` (with the caller's candidates document when `candidates`). */
async function seed(db: AdminFirestore, collection: string, count: number, candidates: boolean): Promise<void> {
  const groups = Array.from({ length: count }, (): SeedDocument[] => {
    const id = randomUUID();
    const session = { path: `${collection}/${id}`, data: staleSession() };
    if (!candidates) return [session];
    const caller = { sender: "caller", caller_id: "alice", callee_id: "bob", candidates: [], created_at: Timestamp.fromMillis(NOW), expire_at: Timestamp.fromMillis(NOW) };
    return [session, { path: candidatesPath(id, "caller"), data: caller }];
  });
  await writeInBatches(db, groups);
}

/** The sweep's query for short-lived states (pending, offered, answered), on `collection`. */
function shortLivedQuery(db: AdminFirestore, collection: string) {
  return db
    .collection(collection)
    .where("status", "in", ["pending", "offered", "answered"])
    .where("updated_at", "<=", Timestamp.fromMillis(sweepCutoffs(NOW, SUITE_TIMEOUTS).shortLivedBefore))
    .orderBy("updated_at");
}

/**
 * The floor: every document of `collection` read by the sweep's query for short-lived states, in
 * its pages, and ended by a plain guarded update, `perBatch` to a commit.
 */
async function bareUpdates(db: AdminFirestore, collection: string, perBatch: number): Promise<number> {
  const ended = { status: "ended", updated_at: Timestamp.fromMillis(NOW), ended_at: Timestamp.fromMillis(NOW), ended_reason: "timeout", expire_at: Timestamp.fromMillis(NOW + 60 * MINUTE) };
  const query = shortLivedQuery(db, collection);
  let updated = 0;
  let after: AdminQueryDocumentSnapshot | undefined;
  for (;;) {
    const page = await (after ? query.startAfter(after) : query).limit(SWEEP_PAGE_SIZE).get();
    for (let start = 0; start < page.size; start += perBatch) {
      const batch = db.batch();
      for (const document of page.docs.slice(start, start + perBatch)) batch.update(document.ref, ended, { lastUpdateTime: document.updateTime });
      await batch.commit();
    }
    updated += page.size;
    after = page.docs.at(-1);
    if (page.size < SWEEP_PAGE_SIZE) return updated;
  }
}

/** Runs `action` with stdout and stderr swallowed, counting the lines written (the sweep logs one per session). */
async function quietly<T>(action: () => Promise<T>): Promise<{ result: T; lines: number }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let lines = 0;
  const count = (chunk: string | Uint8Array): boolean => {
    lines += (typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")).split("\n").length - 1;
    return true;
  };
  process.stdout.write = count;
  process.stderr.write = count;
  try {
    return { result: await action(), lines };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** Section 5: the sweep's sessions ended per second against the bare baseline's updates per second. */
export async function sweepBacklog(): Promise<void> {
  console.log(`\n5. The sweep at a backlog of ${fmt(SESSIONS)} stale sessions, one run, through the Firestore emulator (Admin SDK)`);
  const emulator = firestoreEmulatorEnv();
  if (!emulator.env) {
    console.log(`   SKIPPED: ${emulator.reason}, so the Firestore emulator cannot start`);
    return;
  }
  Object.assign(process.env, emulator.env);
  const stack = await startSignalingStack(["firestore"]);
  const admin = emulatorAdmin(stack.ports.firestore);
  try {
    const db = admin.db;
    // Seeding also warms the emulator's writes up; a few pages of each query warm its queries up.
    // The baseline runs before and after the sweep, so that drift in the emulator shows.
    await seed(db, "bench_before", SESSIONS, false);
    await seed(db, "webrtc_sessions", SESSIONS, true);
    await seed(db, "bench_after", SESSIONS, false);
    await seed(db, "bench_one_by_one", ONE_BY_ONE, false);
    for (const collection of ["bench_before", "webrtc_sessions", "bench_after"]) {
      for (let round = 0; round < 3; round += 1) await shortLivedQuery(db, collection).limit(SWEEP_PAGE_SIZE).get();
    }

    const timed = async <T>(action: () => Promise<T>): Promise<{ result: T; seconds: number }> => {
      const start = nowMs();
      const result = await action();
      return { result, seconds: (nowMs() - start) / 1_000 };
    };
    const before = await timed(() => bareUpdates(db, "bench_before", MAX_BATCH_OPERATIONS));
    const sweep = await timed(() => quietly<SweepReport>(() => sweepSessions(db, NOW, SUITE_TIMEOUTS)));
    const after = await timed(() => bareUpdates(db, "bench_after", MAX_BATCH_OPERATIONS));
    const oneByOne = await timed(() => bareUpdates(db, "bench_one_by_one", 1));
    const report = sweep.result.result;
    const left = (await db.collection("webrtc_sessions").where("status", "!=", "ended").count().get()).data().count;

    const rate = (count: number, seconds: number) => count / seconds;
    const baselineRate = rate(before.result + after.result, before.seconds + after.seconds);
    const sweepRate = rate(report.ended, sweep.seconds);
    const line = (what: string, count: number, seconds: number, unit: string) =>
      `   ${what.padEnd(58)}: ${fmt(count)} in ${fmt(seconds, 2)} s, ${fmt(rate(count, seconds))} ${unit}/s`;
    console.log(line(`bare guarded updates, before (pages of ${SWEEP_PAGE_SIZE}, ${MAX_BATCH_OPERATIONS} a batch)`, before.result, before.seconds, "updates"));
    console.log(
      line("sweepSessions (decide, end, delete candidates, log)", report.ended, sweep.seconds, "sessions") +
        ` (${fmt(sweep.result.lines)} log lines; ${left} left live; remaining ${report.remaining}, superseded ${report.superseded})`,
    );
    console.log(line("bare guarded updates, after", after.result, after.seconds, "updates"));
    console.log(`   ${"baseline rate (before and after) / sweep rate".padEnd(58)}: ${fmt(baselineRate)} / ${fmt(sweepRate)} = ${fmt(baselineRate / sweepRate, 2)}x`);
    console.log(line("for scale, one guarded update a commit (the old sweep)", oneByOne.result, oneByOne.seconds, "updates"));
  } finally {
    await admin.close();
    await stack.stop();
  }
}
