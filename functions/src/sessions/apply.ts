import { Timestamp, type DocumentData, type DocumentReference, type Firestore, type UpdateData } from "firebase-admin/firestore";
import { logSessionRefusal, logSessionSuperseded, logSessionTransition } from "../logs";
import type { SessionPatch, SessionWrite } from "./decide";
import { CANDIDATES_COLLECTION, ROLES } from "@webrtc-lite/contract";

// gRPC status FAILED_PRECONDITION: the document changed after the snapshot we decided on.
const FAILED_PRECONDITION = 9;

/** What became of a decided write. */
export type ApplyOutcome = "written" | "superseded";

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
  const batch = db.batch();
  // Counted as the batch is built, so the log line reports what this commit wrote and deleted.
  const committed = { writes: 0, deletes: 0 };
  batch.update(session, toUpdateData(write.patch), { lastUpdateTime });
  committed.writes += 1;
  if (write.kind === "transition" && write.candidates === "delete") {
    for (const role of ROLES) {
      batch.delete(session.collection(CANDIDATES_COLLECTION).doc(role));
      committed.deletes += 1;
    }
  }
  try {
    await batch.commit();
  } catch (error) {
    if ((error as { code?: unknown }).code === FAILED_PRECONDITION) {
      logSessionSuperseded(session.id, by);
      return "superseded";
    }
    throw error;
  }
  if (write.kind === "refusal") {
    logSessionRefusal(session.id, { status: write.status, code: write.refused.code, reason: write.refused.message, removed: write.patch.reset ?? [] });
  } else {
    logSessionTransition(session.id, {
      by,
      event: write.event,
      from: write.from,
      to: write.to,
      writes: committed.writes,
      deletes: committed.deletes,
    });
  }
  return "written";
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
