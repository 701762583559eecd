import {
  addDoc,
  arrayUnion,
  collection,
  doc,
  documentId,
  getDoc,
  limit,
  onSnapshot,
  orderBy,
  query,
  serverTimestamp,
  updateDoc,
  where,
  type Firestore,
} from "firebase/firestore";
import {
  SESSIONS_COLLECTION,
  SESSION_FIELDS,
  answerFields,
  candidatesPath,
  connectivityFields,
  endRequestFields,
  sessionCreateFields,
  sessionPath,
} from "../../../functions/src/sessions/model";
import type { SignalingStore } from "./store";

// Pending server timestamps read as the local estimate instead of null, so that a snapshot of
// this client's own write still passes the schema (docs/signaling.md, "Snapshots").
const ESTIMATE = { serverTimestamps: "estimate" } as const;
const RINGING_LIMIT = 10;

/** The signaling protocol of docs/signaling.md on Cloud Firestore (web SDK). */
export function firestoreSignaling(db: Firestore): SignalingStore {
  const sessions = collection(db, SESSIONS_COLLECTION);
  return {
    async createSession(input) {
      const created = await addDoc(sessions, sessionCreateFields(input, serverTimestamp()));
      return created.id;
    },
    watchOutgoing(sessionId, callerId, onChange, onError) {
      // Q1 of docs/signaling.md: it matches only from `offered` on, so the caller's own
      // `pending` create costs no listener read; the rules need the caller's id pinned and a limit.
      const outgoing = query(
        sessions,
        where(documentId(), "==", sessionId),
        where(SESSION_FIELDS.callerId, "==", callerId),
        where(SESSION_FIELDS.status, "in", ["offered", "answered", "ended"]),
        limit(1),
      );
      return onSnapshot(outgoing, (snapshot) => onChange(snapshot.docs[0]?.data(ESTIMATE)), onError);
    },
    watchRinging(calleeId, onChange, onError) {
      const ringing = query(
        sessions,
        where(SESSION_FIELDS.calleeId, "==", calleeId),
        where(SESSION_FIELDS.status, "==", "offered"),
        orderBy(SESSION_FIELDS.createdAt, "desc"),
        limit(RINGING_LIMIT),
      );
      return onSnapshot(
        ringing,
        (snapshot) => onChange(snapshot.docs.map((session) => ({ id: session.id, data: session.data(ESTIMATE) }))),
        onError,
      );
    },
    watchCandidates(sessionId, sender, onChange, onError) {
      return onSnapshot(
        doc(db, candidatesPath(sessionId, sender)),
        (snapshot) => onChange(snapshot.exists() ? snapshot.data(ESTIMATE) : undefined),
        onError,
      );
    },
    async readSession(sessionId) {
      const snapshot = await getDoc(doc(db, sessionPath(sessionId)));
      return snapshot.exists() ? snapshot.data(ESTIMATE) : undefined;
    },
    async writeAnswer(sessionId, answer) {
      await updateDoc(doc(db, sessionPath(sessionId)), answerFields(answer));
    },
    async appendCandidates(sessionId, sender, entries) {
      await updateDoc(doc(db, candidatesPath(sessionId, sender)), { candidates: arrayUnion(...entries) });
    },
    async reportConnected(sessionId, by) {
      await updateDoc(doc(db, sessionPath(sessionId)), connectivityFields(by, serverTimestamp()));
    },
    async requestEnd(sessionId, by, reason) {
      await updateDoc(doc(db, sessionPath(sessionId)), endRequestFields(by, reason, serverTimestamp()));
    },
  };
}
