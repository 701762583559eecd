import {
  arrayUnion,
  collection,
  deleteDoc,
  deleteField,
  doc,
  getDoc,
  getDocFromServer,
  limit,
  onSnapshot,
  orderBy,
  query,
  serverTimestamp,
  updateDoc,
  where,
  writeBatch,
  type DocumentSnapshot,
  type Firestore,
  type Query,
} from "firebase/firestore";
import {
  CALL_LIMITS_COLLECTION,
  INCOMING_CALLS_QUERY,
  SESSIONS_COLLECTION,
  answerFields,
  callLimitsDocumentSchema,
  callLimitsFields,
  candidatesCreateFields,
  candidatesPath,
  connectivityFields,
  describeIssues,
  endRequestFields,
  restartFields,
  restartRequestFields,
  sessionCreateFields,
  sessionPath,
  type CandidateEntry,
} from "@webrtc-lite/contract";
import { CallLimitsTracker } from "./limits.js";
import { CallError } from "./state.js";
import type { ListenedSnapshot, SignalingStore } from "./store.js";

// Pending server timestamps read as the local estimate instead of null, so that a snapshot of
// this client's own write still passes the schema (docs/signaling.md, "Snapshots").
const ESTIMATE = { serverTimestamps: "estimate" } as const;

/**
 * Runs `write`; when the rules refuse it, reads once (`landed`) whether it is already there: the
 * SDK resends a write whose acknowledgement a dropped connection lost, and the rules refuse the
 * copy of a write they accept once. That refusal is this device's own earlier success.
 */
async function repeatSafe(write: () => Promise<unknown>, landed: () => Promise<boolean>, recognised: () => void): Promise<void> {
  try {
    await write();
  } catch (error) {
    if ((error as { code?: unknown }).code !== "permission-denied") throw error;
    // A read that fails (offline, the document gone) proves nothing: the refusal stands.
    if (!(await landed().catch(() => false))) throw error;
    recognised();
  }
}

/** The writes of the protocol, as `SignalingOptions.onRepeat` names them. */
export type SignalingWrite = "dial batch" | "answer batch" | "candidate append" | "ICE restart" | "restart request" | "connectivity report" | "end request";

/** Options of `firestoreSignaling`. */
export interface SignalingOptions {
  /**
   * Told each time a write the rules refused turned out to be this device's own earlier write,
   * resent by the SDK after a lost acknowledgement, and was taken as the success it was (for
   * telemetry: on a mobile network it is routine).
   */
  onRepeat?: (write: SignalingWrite) => void;
}

/** Attempts of `serverData` while the SDK still counts itself offline after a dropped connection. */
const SERVER_READ_ATTEMPTS = 5;
const SERVER_READ_RETRY_MS = 200;

/**
 * A document's fields read from the server, or undefined when it does not exist. Right after a
 * dropped connection (when a repeat is refused) the SDK may call itself offline until its Listen
 * stream hears from the server again, and a server read fails at once: it is tried again, a few
 * times, a fifth of a second apart.
 */
async function serverData(db: Firestore, path: string): Promise<Record<string, unknown> | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const snapshot = await getDocFromServer(doc(db, path));
      return snapshot.exists() ? snapshot.data() : undefined;
    } catch (error) {
      if ((error as { code?: unknown }).code !== "unavailable" || attempt >= SERVER_READ_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, SERVER_READ_RETRY_MS * attempt));
    }
  }
}

function sameEntry(held: unknown, entry: CandidateEntry): boolean {
  if (typeof held !== "object" || held === null) return false;
  const fields = held as Record<string, unknown>;
  return (
    fields.candidate === entry.candidate &&
    fields.sdpMid === entry.sdpMid &&
    fields.sdpMLineIndex === entry.sdpMLineIndex &&
    (fields.usernameFragment ?? null) === (entry.usernameFragment ?? null)
  );
}

/** `value[key]` when `value` is a map (a field read back unchecked), else undefined. */
function fieldOf(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * A document listener's handler that passes each snapshot on with where it came from: a client
 * that lost its connection (or never had the document) raises a snapshot from its cache in which
 * the document does not exist, and only the server's "missing" ends a call (listeners.ts).
 */
function snapshotsOf(onChange: (snapshot: ListenedSnapshot) => void) {
  return (snapshot: DocumentSnapshot): void => {
    const exists = snapshot.exists();
    onChange({ fromCache: snapshot.metadata.fromCache, exists, ...(exists ? { data: snapshot.data(ESTIMATE) } : {}) });
  };
}

/** The incoming-calls query (`INCOMING_CALLS_QUERY`) for `calleeId`, on the web SDK. */
export function incomingCallsQuery(db: Firestore, calleeId: string): Query {
  const spec = INCOMING_CALLS_QUERY;
  return query(
    collection(db, spec.collection),
    where(spec.calleeField, "==", calleeId),
    where(spec.statusField, "in", [...spec.statuses]),
    ...spec.nullFields.map((field) => where(field, "==", null)),
    orderBy(spec.orderBy.field, spec.orderBy.direction),
    limit(spec.limit),
  );
}

/** The signaling protocol of docs/signaling.md on Cloud Firestore (web SDK). */
export function firestoreSignaling(db: Firestore, options: SignalingOptions = {}): SignalingStore {
  const repeated = (write: SignalingWrite) => () => options.onRepeat?.(write);
  const sessions = collection(db, SESSIONS_COLLECTION);
  // What this signed-in user knows of its limits document; one store serves one user.
  const limits = new CallLimitsTracker();
  return {
    newSessionId() {
      return doc(sessions).id;
    },
    async createCall(sessionId, input, candidates) {
      // One batch: the session, the caller's candidates document and the caller's limits write;
      // the rules check each against the others as the batch leaves them (getAfter).
      const fields = sessionCreateFields(input, serverTimestamp(), Date.now());
      const limitsRef = doc(db, CALL_LIMITS_COLLECTION, input.caller_id);
      await limits.place(
        { sessionId, calleeId: input.callee_id },
        {
          async commit(plan, ends) {
            const batch = writeBatch(db);
            // Ending an earlier call also deletes this side's candidates document of it: the
            // callee of that call learns of an end only from that deletion.
            for (const end of ends) {
              batch.update(doc(db, sessionPath(end.sessionId)), endRequestFields("caller", end.reason, serverTimestamp()));
              batch.delete(doc(db, candidatesPath(end.sessionId, "caller")));
            }
            batch.set(doc(db, sessionPath(sessionId)), fields);
            batch.set(doc(db, candidatesPath(sessionId, "caller")), candidatesCreateFields(fields, "caller", candidates, serverTimestamp(), Date.now()));
            batch.set(limitsRef, callLimitsFields(plan, serverTimestamp(), deleteField()), { merge: true });
            await repeatSafe(
              () => batch.commit(),
              async () => {
                const created = await serverData(db, sessionPath(sessionId));
                return created?.caller_id === input.caller_id && fieldOf(created.offer, "sdp") === fields.offer.sdp;
              },
              repeated("dial batch"),
            );
          },
          async readLimits() {
            const snapshot = await getDoc(limitsRef);
            if (!snapshot.exists()) return undefined;
            const parsed = callLimitsDocumentSchema.safeParse(snapshot.data());
            if (!parsed.success) throw new CallError("invalid-data", `Your limits document ${limitsRef.path} does not match the signaling contract: ${describeIssues(parsed.error)}`);
            return parsed.data;
          },
          async readSession(id) {
            try {
              const snapshot = await getDoc(doc(db, sessionPath(id)));
              return snapshot.exists() ? snapshot.data() : undefined;
            } catch (error) {
              // The rules refuse a read of a session that no longer exists (they judge the
              // document, and there is none): for this user's own entry that means it is gone.
              if ((error as { code?: unknown }).code === "permission-denied") return undefined;
              throw error;
            }
          },
        },
      );
    },
    callEnded(sessionId) {
      limits.ended(sessionId);
    },
    watchSession(sessionId, onChange, onError) {
      // Metadata changes too, so that the server's confirmation arrives as a snapshot of its own.
      return onSnapshot(doc(db, sessionPath(sessionId)), { includeMetadataChanges: true }, snapshotsOf(onChange), onError);
    },
    watchRinging(calleeId, onChange, onError) {
      // The incoming-calls query: an answer or an end request takes a call out of it at once,
      // whatever the server has recorded, so ended calls do not take up its limit; the ring
      // deadline is filtered on the client.
      const ringing = incomingCallsQuery(db, calleeId);
      let synced = false;
      // Metadata changes too, so that the snapshot confirming an empty cache with the server
      // ends the initial phase even when no document changed.
      return onSnapshot(
        ringing,
        { includeMetadataChanges: true },
        (snapshot) => {
          const initial = !synced;
          if (!snapshot.metadata.fromCache) synced = true;
          onChange(
            snapshot.docs.map((session) => ({ id: session.id, data: session.data(ESTIMATE) })),
            initial,
          );
        },
        onError,
      );
    },
    watchCandidates(sessionId, sender, onChange, onError) {
      return onSnapshot(doc(db, candidatesPath(sessionId, sender)), { includeMetadataChanges: true }, snapshotsOf(onChange), onError);
    },
    async answerCall(sessionId, session, answer, candidates) {
      const batch = writeBatch(db);
      batch.update(doc(db, sessionPath(sessionId)), answerFields(answer));
      batch.set(doc(db, candidatesPath(sessionId, "callee")), candidatesCreateFields(session, "callee", candidates, serverTimestamp(), Date.now()));
      await repeatSafe(
        () => batch.commit(),
        async () => fieldOf((await serverData(db, sessionPath(sessionId)))?.answer, "sdp") === answer.sdp,
        repeated("answer batch"),
      );
    },
    async appendCandidates(sessionId, sender, entries) {
      const path = candidatesPath(sessionId, sender);
      await repeatSafe(
        () => updateDoc(doc(db, path), { candidates: arrayUnion(...entries) }),
        async () => {
          const held = (await serverData(db, path))?.candidates;
          return Array.isArray(held) && entries.every((entry) => held.some((other) => sameEntry(other, entry)));
        },
        repeated("candidate append"),
      );
    },
    async restartIce(sessionId, sender, generation, description, entries) {
      const path = candidatesPath(sessionId, sender);
      await repeatSafe(
        () => updateDoc(doc(db, path), restartFields(sender, generation, description.sdp, entries)),
        async () => {
          const held = await serverData(db, path);
          return held?.generation === generation && fieldOf(held.description, "sdp") === description.sdp;
        },
        repeated("ICE restart"),
      );
    },
    async requestRestart(sessionId, generation) {
      const path = candidatesPath(sessionId, "callee");
      await repeatSafe(
        () => updateDoc(doc(db, path), restartRequestFields(generation)),
        async () => {
          const held = (await serverData(db, path))?.restart_request;
          return typeof held === "number" && held >= generation;
        },
        repeated("restart request"),
      );
    },
    async deleteOwnCandidates(sessionId, sender) {
      await deleteDoc(doc(db, candidatesPath(sessionId, sender)));
    },
    async reportConnected(sessionId, by) {
      const path = sessionPath(sessionId);
      await repeatSafe(
        () => updateDoc(doc(db, path), connectivityFields(by, serverTimestamp())),
        async () => {
          return fieldOf((await serverData(db, path))?.connectivity, "by") === by;
        },
        repeated("connectivity report"),
      );
    },
    async requestEnd(sessionId, by, reason, deleteOwnCandidates) {
      // Two writes sent back to back, not a batch: the deletion, which the other side is
      // listening for, commits without waiting for the rules of the session update (a batch
      // took twice as long to reach the other side). The SDK sends them in this order.
      const deleted = deleteOwnCandidates ? deleteDoc(doc(db, candidatesPath(sessionId, by))) : Promise.resolve();
      const path = sessionPath(sessionId);
      const requested = repeatSafe(
        () => updateDoc(doc(db, path), endRequestFields(by, reason, serverTimestamp())),
        async () => {
          return fieldOf((await serverData(db, path))?.end_request, "by") === by;
        },
        repeated("end request"),
      );
      await Promise.all([deleted, requested]);
    },
  };
}
