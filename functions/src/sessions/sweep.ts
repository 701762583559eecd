import { performance } from "node:perf_hooks";
import { Timestamp, type BulkWriter, type Firestore, type Query, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { adminFirestore } from "../admin";
import { logSessionTransition, logSweepFinished } from "../logs";
import { applySessionWrites, type DecidedWrite } from "./apply";
import { decideStale } from "./decide";
import { SESSIONS_COLLECTION, sweepCutoffs, type Timeouts } from "@webrtc-lite/contract";
import { configuredTimeouts } from "./settings";

/** The scheduled sweep's timeout, in seconds. */
export const SWEEP_TIMEOUT_SECONDS = 300;

/**
 * How long a run may go on starting pages, in milliseconds: 80 % of its timeout. The rest is
 * margin for the page in flight when the budget runs out, counting what is left, and the log line.
 */
export const SWEEP_BUDGET_MILLIS = (SWEEP_TIMEOUT_SECONDS * 1_000 * 4) / 5;

/** Sessions each of the sweep's queries returns per page. */
export const SWEEP_PAGE_SIZE = 500;

/** How a run is paced; tests set these, the scheduled run takes the defaults. */
export interface SweepOptions {
  /** Sessions each query returns per page (SWEEP_PAGE_SIZE). */
  pageSize?: number;
  /** How long the run may go on starting pages, in milliseconds (SWEEP_BUDGET_MILLIS). */
  budgetMillis?: number;
  /** A monotonic clock in milliseconds (performance.now), read at the start, before each page and at the end. */
  clock?: () => number;
}

/** What one sweep run did. */
export interface SweepReport {
  /** Steps the trigger had not recorded yet (a late or failed trigger), recorded by the sweep. */
  recorded: number;
  /** Live sessions the sweep ended by writing their end. */
  ended: number;
  /** Writes that lost their precondition: the session changed after the sweep read it. */
  superseded: number;
  /** Sessions deleted because their `expire_at` had passed. */
  deleted: number;
  /** Of `deleted`, live ones: deleted with everything under them, their end only in their log line, never written. */
  deletedLive: number;
  /** Sessions the run's queries still held past where it stopped when its budget ran out (0 when it got through them). */
  remaining: number;
}

/** One of the sweep's queries, how far the run has read it, and what it does with a page. */
interface Lane {
  query: Query;
  handle: (page: QueryDocumentSnapshot[]) => Promise<void>;
  after?: QueryDocumentSnapshot;
  done: boolean;
}

/**
 * One sweep: records what the trigger has not (a late or failed trigger), ends live sessions
 * that rang past their deadline or outstayed their state's timeout (`timeout`), and deletes
 * sessions whose `expire_at` has passed. TTL policies act only within about a day and never
 * reach subcollections, hence this.
 *
 * Its three queries are read a page at a time, in turn, until each is exhausted or the time
 * budget is spent; the next run starts from the beginning again, where what this one did is no
 * longer found. Pages run one after another, so a session is handled by one query only: one
 * found stale whose `expire_at` has also passed is deleted, not ended first, and a page never
 * starts before the previous one's writes have landed.
 */
export async function sweepSessions(db: Firestore, nowMillis: number, timeouts: Timeouts, options: SweepOptions = {}): Promise<SweepReport> {
  const { pageSize = SWEEP_PAGE_SIZE, budgetMillis = SWEEP_BUDGET_MILLIS, clock = () => performance.now() } = options;
  const started = clock();
  const cutoffs = sweepCutoffs(nowMillis, timeouts);
  const sessions = db.collection(SESSIONS_COLLECTION);
  const report: SweepReport = { recorded: 0, ended: 0, superseded: 0, deleted: 0, deletedLive: 0, remaining: 0 };
  const deleter = new ExpiredSessions(db, nowMillis, timeouts, report);

  const isExpired = (session: QueryDocumentSnapshot): boolean => {
    const expireAt: unknown = session.get("expire_at");
    return expireAt instanceof Timestamp && expireAt.toMillis() <= cutoffs.expiredBefore;
  };
  const endStale = async (page: QueryDocumentSnapshot[]): Promise<void> => {
    const writes: DecidedWrite[] = [];
    const expired: QueryDocumentSnapshot[] = [];
    for (const session of page) {
      if (isExpired(session)) {
        expired.push(session);
        continue;
      }
      const decision = decideStale(session.data(), nowMillis, timeouts);
      if (decision.kind !== "none") writes.push({ session: session.ref, lastUpdateTime: session.updateTime, write: decision });
    }
    const outcomes = await applySessionWrites(db, writes, "sweep");
    outcomes.forEach((outcome, index) => {
      const write = writes[index].write;
      const ends = write.kind === "transition" && write.to === "ended";
      report[outcome === "superseded" ? "superseded" : ends ? "ended" : "recorded"] += 1;
    });
    if (expired.length > 0) await deleter.delete(expired);
  };

  const lanes: Lane[] = [
    sessions
      .where("status", "in", ["pending", "offered", "answered"])
      .where("updated_at", "<=", Timestamp.fromMillis(cutoffs.shortLivedBefore))
      .orderBy("updated_at"),
    sessions.where("status", "==", "connected").where("updated_at", "<=", Timestamp.fromMillis(cutoffs.connectedBefore)).orderBy("updated_at"),
  ].map((query) => ({ query, handle: endStale, done: false }));
  lanes.push({
    query: sessions.where("expire_at", "<=", Timestamp.fromMillis(cutoffs.expiredBefore)).orderBy("expire_at"),
    handle: (page) => deleter.delete(page),
    done: false,
  });
  // A page resumes after the last document its query returned before (the values it was read
  // with): what the sweep wrote or deleted has left the query, and what it decided to leave
  // alone (not stale yet, or superseded) is not read twice.
  const rest = (lane: Lane): Query => (lane.after ? lane.query.startAfter(lane.after) : lane.query);

  let outOfBudget = false;
  try {
    while (!outOfBudget && lanes.some((lane) => !lane.done)) {
      for (const lane of lanes.filter((open) => !open.done)) {
        if (clock() - started >= budgetMillis) {
          outOfBudget = true;
          break;
        }
        const page = await rest(lane).limit(pageSize).get();
        lane.done = page.size < pageSize;
        lane.after = page.docs.at(-1) ?? lane.after;
        await lane.handle(page.docs);
      }
    }
  } finally {
    await deleter.close();
  }
  if (outOfBudget) {
    // Counted only when the budget ran out, so an idle run still costs its three queries: one read
    // per 1,000 index entries. An upper bound: the first query also holds sessions that are not
    // stale yet, and a live session past its expire_at is in two queries.
    const counts = await Promise.all(lanes.filter((lane) => !lane.done).map(async (lane) => (await rest(lane).count().get()).data().count));
    report.remaining = counts.reduce((sum, count) => sum + count, 0);
  }
  logSweepFinished(report, { elapsedMillis: Math.round(clock() - started), budgetMillis });
  return report;
}

/** Deletes sessions past their `expire_at` through one BulkWriter for the run (it ramps its own rate). */
class ExpiredSessions {
  private writer?: BulkWriter;
  /** Documents deleted under each live session being deleted, for its log line. */
  private readonly deletesUnder = new Map<string, number>();

  constructor(
    private readonly db: Firestore,
    private readonly nowMillis: number,
    private readonly timeouts: Timeouts,
    private readonly report: SweepReport,
  ) {}

  /**
   * The server deletes the candidate documents in the same batch that ends a call, and the rules
   * let nobody create one under an ended session, so an ended session is deleted alone (no
   * listing of its subcollection, which would cost a read). A live one past its expire_at takes
   * whatever its participants left under it, and its log line records its end.
   */
  async delete(page: QueryDocumentSnapshot[]): Promise<void> {
    if (page.length === 0) return;
    const writer = this.bulkWriter();
    const alone: Array<Promise<unknown>> = [];
    const recursive: Array<Promise<void>> = [];
    const live: QueryDocumentSnapshot[] = [];
    for (const session of page) {
      if (session.get("status") === "ended") {
        alone.push(writer.delete(session.ref));
      } else {
        live.push(session);
        this.deletesUnder.set(session.id, 0);
        recursive.push(this.db.recursiveDelete(session.ref, writer));
      }
    }
    // recursiveDelete flushes the writer itself; a plain delete settles only once the writer is
    // flushed, so flush() comes before awaiting those.
    await Promise.all(recursive);
    await writer.flush();
    await Promise.all(alone);
    this.report.deleted += page.length;
    this.report.deletedLive += live.length;
    for (const session of live) {
      const decision = decideStale(session.data(), this.nowMillis, this.timeouts);
      const end = decision.kind === "transition" && decision.to === "ended" ? decision : { event: "expired", from: String(session.get("status")) };
      logSessionTransition(session.id, {
        by: "sweep",
        event: end.event,
        from: end.from,
        to: "ended",
        writes: 0,
        deletes: this.deletesUnder.get(session.id) ?? 0,
        deleted: true,
      });
      this.deletesUnder.delete(session.id);
    }
  }

  async close(): Promise<void> {
    await this.writer?.close();
  }

  private bulkWriter(): BulkWriter {
    if (!this.writer) {
      this.writer = this.db.bulkWriter();
      this.writer.onWriteResult((document) => {
        const sessionId = document.path.split("/")[1];
        const counted = this.deletesUnder.get(sessionId);
        if (counted !== undefined) this.deletesUnder.set(sessionId, counted + 1);
      });
    }
    return this.writer;
  }
}

/** Scheduled sweep: every 10 minutes (three queries, i.e. three reads, when there is nothing to do). */
export const sweepStaleSessions = onSchedule({ schedule: "every 10 minutes", timeoutSeconds: SWEEP_TIMEOUT_SECONDS }, async () => {
  await sweepSessions(await adminFirestore(), Date.now(), configuredTimeouts());
});
