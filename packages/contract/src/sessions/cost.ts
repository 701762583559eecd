// Firestore operations one call costs when clients follow docs/signaling.md, step by step.
// Billing rules applied (Cloud Firestore pricing): every document write and delete counts; a
// listener pays one read per document in its first snapshot (at least one, even when empty) and
// one per document added, changed, or removed by a change — but nothing for a deletion; a
// query pays one read per document returned (at least one); a get()/getAfter() in the rules
// costs one read per document per request; triggers receive their snapshots free and write
// with preconditions.
import { LIMITS } from "./model.js";

/** The shape of one call: candidates gathered per side and how many batches carried them. */
export interface CallShape {
  callerCandidates: number;
  calleeCandidates: number;
  callerBatches: number;
  calleeBatches: number;
  /** Caller batches written after the callee attached its listener (usually 0: it rang first). */
  callerBatchesAfterAccept?: number;
  /**
   * The trigger's `connected → ended` deleted the other side's candidates document before that
   * side did (usually not: the other side hears of the hang-up from its listener before any
   * function runs). Its delete then finds nothing, and the rules read the session to allow it.
   */
  triggerDeletedFirst?: boolean;
}

/** Operations of one protocol step. */
export interface StepCost {
  step: string;
  writes: number;
  listenerReads: number;
  otherReads: number;
  deletes: number;
}

/** Operations of a whole call. */
export interface CallCost {
  steps: StepCost[];
  totals: Omit<StepCost, "step">;
}

/**
 * Reads the rules pay for the dial batch: the new session (candidates rule), the caller's limits
 * document (session rule), the new session again as the limits rule checks that this batch
 * creates it (counted apart: it is read from another rule), and the session of the one entry the
 * limits write replaces or removes (limits.ts). That last read is the steady state: a caller who
 * called this person before, or whose entries are all taken, releases one ended call per dial;
 * a caller with free entries pays one read less.
 */
export const LIMITS_RULE_READS = 4;

/** Reads each sweep run pays even when there is nothing to do: three queries, one read each. */
export const SWEEP_QUERIES_PER_RUN = 3;

/**
 * Operations for one complete call under the documented protocol, each status write of the
 * trigger seen by the listeners attached at the time (a late trigger costs fewer listener reads).
 */
export function signalingCallCost(shape: CallShape): CallCost {
  checkShape(shape);
  const lateCallerBatches = shape.callerBatchesAfterAccept ?? 0;
  const steps: StepCost[] = [
    row(
      "caller creates the session (offer, ring time), its candidates document and its limits write in one batch; the rules read the session and the limits document as the batch leaves them, and the ended call whose limits entry this write replaces; the callee's incoming-calls query sees the call: it rings",
      3,
      1,
      LIMITS_RULE_READS,
    ),
    row("caller attaches the session listener (first snapshot)", 0, 1),
    row("trigger: pending → offered; the session listener and the incoming-calls query see it", 1, 2),
    row(`caller appends its ${shape.callerCandidates} candidates and end-of-candidates in ${shape.callerBatches} batch(es)`, shape.callerBatches, 0),
    row("callee accepts: attaches its peer-candidates listener on the caller's candidates (one snapshot holds every batch so far)", 0, 1 + lateCallerBatches),
    row("callee writes the answer and creates its candidates document in one batch (the rules' get of the session); the session listener sees the answer, the session leaves the incoming-calls query; the caller stops it", 2, 2, 1),
    row("caller attaches its peer-candidates listener on the callee's candidates (first snapshot)", 0, 1),
    row("trigger: offered → answered (nobody listens to the session: the session listener stopped, the incoming-calls query let it go at the answer)", 1, 0),
    row(`callee appends its ${shape.calleeCandidates} candidates and end-of-candidates in ${shape.calleeBatches} batch(es); the caller's peer-candidates listener sees each`, shape.calleeBatches, shape.calleeBatches),
    row("caller reports ICE connected; trigger: answered → connected (nobody listens to the session any more)", 2, 0),
    row("a participant hangs up: deletes its candidates document and writes its end request, back to back; the other side's listener sees the deletion (free)", 1, 0, 0, 1),
    row(
      "the other side deletes its own candidates document (with no function running it would stay until the TTL)" +
        (shape.triggerDeletedFirst ? "; the trigger's end deleted it first, so the rules read the session to let a participant delete a missing document" : ""),
      0,
      0,
      shape.triggerDeletedFirst ? 1 : 0,
      1,
    ),
    row("trigger: connected → ended, deletes both candidate documents (both are already gone)", 1, 0, 0, 2),
    row("sweep after expire_at: its query returns the ended session, which it deletes alone", 0, 0, 1, 1),
  ];
  const totals = sumSteps(steps);
  return { steps, totals };
}

/** Google's FirebaseRTC codelab: one write per candidate, one listener read per candidate, no cleanup. */
export function codelabCallCost(callerCandidates: number, calleeCandidates: number): { writes: number; listenerReads: number } {
  return { writes: 2 + callerCandidates + calleeCandidates, listenerReads: 3 + callerCandidates + calleeCandidates };
}

/** Reads the sweep pays per day regardless of calls, when it runs every `intervalMinutes`. */
export function sweepFixedReadsPerDay(intervalMinutes: number): number {
  if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1 || intervalMinutes > 1_440) {
    throw new RangeError("intervalMinutes must be a whole number from 1 to 1440.");
  }
  return Math.ceil(1_440 / intervalMinutes) * SWEEP_QUERIES_PER_RUN;
}

function sumSteps(steps: readonly StepCost[]): Omit<StepCost, "step"> {
  return steps.reduce(
    (sum, step) => ({
      writes: sum.writes + step.writes,
      listenerReads: sum.listenerReads + step.listenerReads,
      otherReads: sum.otherReads + step.otherReads,
      deletes: sum.deletes + step.deletes,
    }),
    { writes: 0, listenerReads: 0, otherReads: 0, deletes: 0 },
  );
}

function row(step: string, writes: number, listenerReads: number, otherReads = 0, deletes = 0): StepCost {
  return { step, writes, listenerReads, otherReads, deletes };
}

function checkShape(shape: CallShape): void {
  for (const role of ["caller", "callee"] as const) {
    const candidates = shape[`${role}Candidates`];
    const batches = shape[`${role}Batches`];
    // Each side sends its candidates plus one end-of-candidates entry.
    const entries = candidates + 1;
    if (!Number.isInteger(candidates) || candidates < 0 || entries > LIMITS.maxCandidatesPerSide) {
      throw new RangeError(`${role}Candidates must be a whole number from 0 to ${LIMITS.maxCandidatesPerSide - 1}.`);
    }
    const fewest = Math.ceil(entries / LIMITS.maxCandidatesPerWrite);
    if (!Number.isInteger(batches) || batches < fewest || batches > entries) {
      throw new RangeError(`${role}Batches must be a whole number from ${fewest} to ${entries} (1 to ${LIMITS.maxCandidatesPerWrite} entries per batch).`);
    }
  }
  const late = shape.callerBatchesAfterAccept ?? 0;
  if (!Number.isInteger(late) || late < 0 || late > shape.callerBatches) {
    throw new RangeError("callerBatchesAfterAccept must be a whole number from 0 to callerBatches.");
  }
}

/**
 * Session writes in one call under the documented protocol (its create, the caller's and the
 * callee's fields, the trigger's four status writes, and the sweep's deletion): each one is an
 * event for the push function (functions/src/push/trigger.ts), most of which it ends without a read.
 */
export const SESSION_EVENTS_PER_CALL = 9;

/** What push adds to one call whose callee has `targets` registered devices (0 to 10). */
export interface PushCallCost {
  /** Push function invocations (one per session write; all but two read nothing). */
  invocations: number;
  steps: StepCost[];
  totals: Omit<StepCost, "step">;
}

/**
 * Firestore operations the push function adds to one call that rings and is then answered or
 * ended (a call that never stops ringing before the sweep saves the "call over" step's write).
 * Queries and gets of missing documents cost one read each, so a callee without devices still
 * costs 4 reads per call. A device's registration is not per call: one listing (one read per
 * target, at least one), one get and one write at each app start.
 */
export function pushCallCost(targets: number): PushCallCost {
  if (!Number.isInteger(targets) || targets < 0 || targets > 10) throw new RangeError("targets must be a whole number from 0 to 10.");
  const rung = targets > 0;
  const steps: StepCost[] = [
    row(
      "create: the push function reads the delivery record (missing), the session and the callee's targets in one transaction; creates the record when there is a target to ring",
      rung ? 1 : 0,
      0,
      2 + Math.max(1, targets),
    ),
    row("stops ringing (answer, end request, timeout): reads the delivery record and the targets it rang; marks it", rung ? 1 : 0, 0, 1 + targets),
    row("TTL policy: deletes the delivery record an hour after the ring deadline", 0, 0, 0, rung ? 1 : 0),
  ];
  const totals = sumSteps(steps);
  return { invocations: SESSION_EVENTS_PER_CALL, steps, totals };
}
