import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { adminFirestore } from "../admin";
import { logSweepFinished } from "../logs";
import { applySessionWrite } from "./apply";
import { decideStale } from "./decide";
import { SESSIONS_COLLECTION, sweepCutoffs, type Timeouts } from "@webrtc-lite/contract";
import { configuredTimeouts } from "./settings";

/** Most sessions each of the sweep's queries handles per run; the next run takes the rest. */
export const SWEEP_BATCH_LIMIT = 200;

/** What one sweep run did. */
export interface SweepReport {
  /** Steps the trigger had not recorded yet (a late or failed trigger), recorded by the sweep. */
  recorded: number;
  ended: number;
  superseded: number;
  deleted: number;
}

/**
 * One sweep: records what the trigger has not (a late or failed trigger), ends live sessions
 * that rang past their deadline or outstayed their state's timeout (`timeout`), then deletes
 * sessions whose `expire_at` has passed. TTL policies act only within about a day and never
 * reach subcollections, hence this.
 */
export async function sweepSessions(db: Firestore, nowMillis: number, timeouts: Timeouts, limit = SWEEP_BATCH_LIMIT): Promise<SweepReport> {
  const cutoffs = sweepCutoffs(nowMillis, timeouts);
  const sessions = db.collection(SESSIONS_COLLECTION);
  const [shortLived, connected, expired] = await Promise.all([
    sessions
      .where("status", "in", ["pending", "offered", "answered"])
      .where("updated_at", "<=", Timestamp.fromMillis(cutoffs.shortLivedBefore))
      .orderBy("updated_at")
      .limit(limit)
      .get(),
    sessions
      .where("status", "==", "connected")
      .where("updated_at", "<=", Timestamp.fromMillis(cutoffs.connectedBefore))
      .orderBy("updated_at")
      .limit(limit)
      .get(),
    sessions.where("expire_at", "<=", Timestamp.fromMillis(cutoffs.expiredBefore)).orderBy("expire_at").limit(limit).get(),
  ]);

  const report: SweepReport = { recorded: 0, ended: 0, superseded: 0, deleted: 0 };
  for (const session of [...shortLived.docs, ...connected.docs]) {
    const decision = decideStale(session.data(), nowMillis, timeouts);
    if (decision.kind === "none") continue;
    const outcome = await applySessionWrite(db, session.ref, session.updateTime, decision, "sweep");
    const ends = decision.kind === "transition" && decision.to === "ended";
    report[outcome === "superseded" ? "superseded" : ends ? "ended" : "recorded"] += 1;
  }

  // The server deletes the candidate documents in the same batch that ends a call, and the rules
  // let nobody create one under an ended session, so an ended session is deleted alone (no
  // listing of its subcollection, which would cost a read). A live one past its expire_at (no
  // function ever recorded it) takes whatever its participants left under it.
  const writer = db.bulkWriter();
  const alone: Array<Promise<unknown>> = [];
  const recursive: Array<Promise<void>> = [];
  for (const session of expired.docs) {
    if (session.get("status") === "ended") alone.push(writer.delete(session.ref));
    else recursive.push(db.recursiveDelete(session.ref, writer));
  }
  // recursiveDelete flushes the writer itself; a plain delete settles only once the writer is
  // flushed, so close() comes before awaiting those.
  await Promise.all(recursive);
  await writer.close();
  await Promise.all(alone);
  report.deleted = expired.size;
  logSweepFinished(report);
  return report;
}

/** Scheduled sweep: every 10 minutes (three queries, i.e. three reads, when there is nothing to do). */
export const sweepStaleSessions = onSchedule({ schedule: "every 10 minutes", timeoutSeconds: 300 }, async () => {
  await sweepSessions(await adminFirestore(), Date.now(), configuredTimeouts());
});
