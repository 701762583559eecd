import { Timestamp, type DocumentData, type DocumentReference, type Firestore, type UpdateData, type WriteBatch } from "firebase-admin/firestore";
import { logSessionRefusal, logSessionSuperseded, logSessionTransition } from "../logs";
import type { SessionPatch, SessionWrite } from "./decide";
import { CANDIDATES_COLLECTION, ROLES } from "@webrtc-lite/contract";

// gRPC status FAILED_PRECONDITION: the document changed after the snapshot we decided on.
const FAILED_PRECONDITION = 9;

/**
 * Most operations one batch carries (a session's end is three: its update and its two candidate
 * deletions): the batch size the Firestore SDKs document. Bigger batches would also lose more
 * work to one lost precondition.
 */
export const MAX_BATCH_OPERATIONS = 500;

/** What became of a decided write. */
export type ApplyOutcome = "written" | "superseded";

/** One decided write and the update time of the snapshot it was decided from (its precondition). */
export interface DecidedWrite {
  session: DocumentReference;
  lastUpdateTime: Timestamp;
  write: SessionWrite;
}

/**
 * Commits one decided write as a single batch: the session update guarded by a `lastUpdateTime`
 * precondition (so a stale or redelivered decision never overwrites a newer state) and, in the
 * same batch, the deletion of both candidate documents when the call ends (deleting one that
 * its sender already deleted is harmless).
 */
export async function applySessionWrite(
  db: Firestore,
  session: DocumentReference,
  lastUpdateTime: Timestamp,
  write: SessionWrite,
  by: "trigger" | "sweep",
): Promise<ApplyOutcome> {
  const [outcome] = await applySessionWrites(db, [{ session, lastUpdateTime, write }], by);
  return outcome;
}

/**
 * Commits many decided writes in as few batches as MAX_BATCH_OPERATIONS allows, one batch at a
 * time, each write exactly as applySessionWrite would: a batch is atomic, so a session's update
 * and its candidate deletions land together or not at all. One lost precondition fails its whole
 * batch; the batch is then split in two and each half committed again, down to the single
 * write whose session changed, which is counted superseded. Outcomes are in the order of
 * `writes`; a failure other than a lost precondition is thrown (what committed before it stays).
 */
export async function applySessionWrites(db: Firestore, writes: readonly DecidedWrite[], by: "trigger" | "sweep"): Promise<ApplyOutcome[]> {
  const outcomes: ApplyOutcome[] = [];
  let chunk: DecidedWrite[] = [];
  let operations = 0;
  for (const decided of writes) {
    const size = operationCount(decided.write);
    if (chunk.length > 0 && operations + size > MAX_BATCH_OPERATIONS) {
      outcomes.push(...(await commitOrSplit(db, chunk, by)));
      chunk = [];
      operations = 0;
    }
    chunk.push(decided);
    operations += size;
  }
  if (chunk.length > 0) outcomes.push(...(await commitOrSplit(db, chunk, by)));
  return outcomes;
}

async function commitOrSplit(db: Firestore, writes: readonly DecidedWrite[], by: "trigger" | "sweep"): Promise<ApplyOutcome[]> {
  const batch = db.batch();
  const committed = writes.map((decided) => addToBatch(batch, decided));
  try {
    await batch.commit();
  } catch (error) {
    if ((error as { code?: unknown }).code !== FAILED_PRECONDITION) throw error;
    if (writes.length === 1) {
      logSessionSuperseded(writes[0].session.id, by);
      return ["superseded"];
    }
    const half = Math.ceil(writes.length / 2);
    return [...(await commitOrSplit(db, writes.slice(0, half), by)), ...(await commitOrSplit(db, writes.slice(half), by))];
  }
  // Logged only once the batch has committed, so every line reports a write that landed.
  writes.forEach((decided, index) => logWritten(decided, committed[index], by));
  return writes.map(() => "written");
}

function operationCount(write: SessionWrite): number {
  return 1 + (write.kind === "transition" && write.candidates === "delete" ? ROLES.length : 0);
}

// Adds one decided write to `batch`; counted as it is built, so the log line reports what was committed.
function addToBatch(batch: WriteBatch, { session, lastUpdateTime, write }: DecidedWrite): { writes: number; deletes: number } {
  const committed = { writes: 0, deletes: 0 };
  batch.update(session, toUpdateData(write.patch), { lastUpdateTime });
  committed.writes += 1;
  if (write.kind === "transition" && write.candidates === "delete") {
    for (const role of ROLES) {
      batch.delete(session.collection(CANDIDATES_COLLECTION).doc(role));
      committed.deletes += 1;
    }
  }
  return committed;
}

function logWritten({ session, write }: DecidedWrite, committed: { writes: number; deletes: number }, by: "trigger" | "sweep"): void {
  if (write.kind === "refusal") {
    logSessionRefusal(session.id, { status: write.status, code: write.refused.code, reason: write.refused.message, removed: write.patch.reset ?? [] });
  } else {
    logSessionTransition(session.id, { by, event: write.event, from: write.from, to: write.to, ...committed });
  }
}

/** Turns a decision's patch (epoch milliseconds, fields to reset) into a Firestore update. */
export function toUpdateData(patch: SessionPatch): UpdateData<DocumentData> {
  const data: UpdateData<DocumentData> = {};
  if (patch.status !== undefined) data.status = patch.status;
  for (const field of ["updated_at", "ended_at", "expire_at"] as const) {
    const millis = patch[field];
    if (millis !== undefined) data[field] = Timestamp.fromMillis(millis);
  }
  if (patch.ended_reason !== undefined) data.ended_reason = patch.ended_reason;
  if (patch.error !== undefined) data.error = patch.error;
  // Null, not deleted: the incoming-calls query selects calls whose answer and end request are null.
  for (const field of patch.reset ?? []) data[field] = null;
  return data;
}
