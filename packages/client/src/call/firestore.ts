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
  diagnoseRefusal,
  endRequestFields,
  restartFields,
  restartRequestFields,
  sessionCreateFields,
  sessionPath,
  type KnownCallLimits,
  type RefusalRead,
  type RefusedWriteSent,
  type Role,
} from "@webrtc-lite/contract";
import { CallLimitsTracker } from "./limits.js";
import { CallError } from "./state.js";
import type { ListenedSnapshot, SignalingStore } from "./store.js";

// Pending server timestamps read as the local estimate instead of null, so that a snapshot of
// this client's own write still passes the schema (docs/signaling.md, "Snapshots").
const ESTIMATE = { serverTimestamps: "estimate" } as const;

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
  /**
   * The server's time as this device estimates it (epoch ms), e.g. `() => turn.serverNowMillis()`
   * from TURN credentials; with it, a refusal caused by a device clock far off says so.
   */
  serverNowMillis?: () => number | undefined;
  /**
   * The signed-in user's sign-in provider (the ID token's `firebase.sign_in_provider`), e.g.
   * `() => auth.currentUser?.isAnonymous ? "anonymous" : "password"`; with it, a dial refused
   * because guests may not call says so.
   */
  signInProvider?: () => string | undefined;
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
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
  /**
   * Runs `write`; when the rules refuse it, reads `path` once from the server and explains the
   * refusal (`diagnoseRefusal`). The SDK resends a write whose acknowledgement a dropped
   * connection lost, and the rules refuse the copy of a write they accept once: that refusal is
   * this device's own earlier success. Other refusals become a `CallError` with the sentence to
   * show, except the dial's first (stale limits knowledge), which goes back as it came for the
   * limits tracker to retry.
   */
  const repeatSafe = async (name: SignalingWrite, write: () => Promise<unknown>, path: string, refused: RefusedWriteSent & { role: Role; limits?: KnownCallLimits }): Promise<void> => {
    try {
      await write();
    } catch (error) {
      if (codeOf(error) !== "permission-denied") throw error;
      let read: RefusalRead;
      try {
        const data = await serverData(db, path);
        read = data ? { outcome: "found", data } : { outcome: "missing" };
      } catch (readError) {
        // A read that fails otherwise (offline) proves nothing: the refusal stands as it came.
        if (codeOf(readError) !== "permission-denied") throw error;
        read = { outcome: "permission-denied" };
      }
      const diagnosis = diagnoseRefusal({
        ...refused,
        read,
        deviceNowMillis: Date.now(),
        serverNowMillis: options.serverNowMillis?.(),
        signInProvider: options.signInProvider?.(),
      });
      if (diagnosis.cause === "own-repeat") options.onRepeat?.(name);
      if (diagnosis.then === "continue") return;
      if (diagnosis.then === "retry-once") throw error;
      const limit = diagnosis.cause === "too-many-live-calls" || diagnosis.cause === "too-many-calls-per-minute";
      throw new CallError(limit ? "resource-exhausted" : "permission-denied", diagnosis.sentence ?? String(error));
    }
  };
  const sessions = collection(db, SESSIONS_COLLECTION);
  // What this signed-in user knows of its limits document; one store serves one user.
  const limits = new CallLimitsTracker();
  return {
    newSessionId() {
      return doc(sessions).id;
    },
    async createCall(sessionId, input, candidates, placed) {
      // One batch: the session, the caller's candidates document and the caller's limits write;
      // the rules check each against the others as the batch leaves them (getAfter).
      const fields = sessionCreateFields(input, serverTimestamp(), Date.now());
      const limitsRef = doc(db, CALL_LIMITS_COLLECTION, input.caller_id);
      await limits.place(
        { sessionId, calleeId: input.callee_id },
        {
          async commit(plan, ends, fresh) {
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
            await repeatSafe("dial batch", () => batch.commit(), sessionPath(sessionId), {
              write: "dial",
              role: "caller",
              sent: { callerId: input.caller_id, offerSdp: fields.offer.sdp },
              ...(fresh ? { limits: fresh } : {}),
            });
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
        placed,
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
      // Nothing from the server yet, or the last snapshot came from the cache (offline): the
      // next server snapshot may hold calls that have rung for a while.
      let sinceServer = false;
      // Metadata changes too, so that the snapshot confirming an empty cache with the server
      // arrives even when no document changed.
      return onSnapshot(
        ringing,
        { includeMetadataChanges: true },
        (snapshot) => {
          const fromCache = snapshot.metadata.fromCache;
          const firstServerSnapshot = !fromCache && !sinceServer;
          sinceServer = !fromCache;
          onChange(
            snapshot.docs.map((session) => ({ id: session.id, data: session.data(ESTIMATE) })),
            { fromCache, firstServerSnapshot },
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
      await repeatSafe("answer batch", () => batch.commit(), sessionPath(sessionId), { write: "answer", role: "callee", sent: { answerSdp: answer.sdp } });
    },
    async appendCandidates(sessionId, sender, entries) {
      const path = candidatesPath(sessionId, sender);
      await repeatSafe("candidate append", () => updateDoc(doc(db, path), { candidates: arrayUnion(...entries) }), path, { write: "append", role: sender, sent: { entries } });
    },
    async restartIce(sessionId, sender, generation, description, entries) {
      const path = candidatesPath(sessionId, sender);
      await repeatSafe("ICE restart", () => updateDoc(doc(db, path), restartFields(sender, generation, description.sdp, entries)), path, {
        write: "restart",
        role: sender,
        sent: { generation, sdp: description.sdp },
      });
    },
    async requestRestart(sessionId, generation) {
      const path = candidatesPath(sessionId, "callee");
      await repeatSafe("restart request", () => updateDoc(doc(db, path), restartRequestFields(generation)), path, { write: "restart-request", role: "callee", sent: { generation } });
    },
    async deleteOwnCandidates(sessionId, sender) {
      await deleteDoc(doc(db, candidatesPath(sessionId, sender)));
    },
    async reportConnected(sessionId, by) {
      const path = sessionPath(sessionId);
      await repeatSafe("connectivity report", () => updateDoc(doc(db, path), connectivityFields(by, serverTimestamp())), path, { write: "connectivity", role: by, sent: {} });
    },
    async requestEnd(sessionId, by, reason, deleteOwnCandidates) {
      // Two writes sent back to back, not a batch: the deletion, which the other side is
      // listening for, commits without waiting for the rules of the session update (a batch
      // took twice as long to reach the other side). The SDK sends them in this order.
      const deleted = deleteOwnCandidates ? deleteDoc(doc(db, candidatesPath(sessionId, by))) : Promise.resolve();
      const path = sessionPath(sessionId);
      const requested = repeatSafe("end request", () => updateDoc(doc(db, path), endRequestFields(by, reason, serverTimestamp())), path, { write: "end-request", role: by, sent: {} });
      await Promise.all([deleted, requested]);
    },
  };
}
