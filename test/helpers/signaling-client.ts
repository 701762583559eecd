// A client that follows docs/signaling.md step by step with the Firebase JS SDK, as the web,
// Android and iOS apps do, minus the RTCPeerConnection (the SDP and candidates are samples).
// Every Firestore operation goes through a CostMeter so the cost suite can count them.
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously, signOut } from "firebase/auth";
import {
  arrayUnion,
  collection,
  connectFirestoreEmulator,
  doc,
  documentId,
  getFirestore,
  limit,
  onSnapshot,
  orderBy,
  query,
  serverTimestamp,
  setDoc,
  terminate,
  updateDoc,
  where,
  type DocumentData,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Query,
  type QuerySnapshot,
} from "firebase/firestore";
import {
  CANDIDATES_COLLECTION,
  SESSIONS_COLLECTION,
  answerFields,
  candidateDocumentSchema,
  connectivityFields,
  endRequestFields,
  sessionCreateFields,
  sessionSchema,
  type CandidateEntry,
  type EndRequestReason,
  type Role,
  type Session,
} from "../../functions/src/sessions/model";
import { PROJECT_ID } from "./emulators";
import { sampleSdp } from "./sdp";
import { Signal } from "./snapshots";

/**
 * Counts what Firestore bills a client (see functions/src/sessions/cost.ts): one write per
 * write; per listener, its first server snapshot (one read per document, at least one), then
 * one read per document added, changed or removed by a change, and nothing for a deletion.
 */
export class CostMeter {
  writes = 0;
  listenerReads = 0;
  /** One line per billed operation, for the report and for failure messages. */
  readonly entries: string[] = [];

  /** Counts one document write. */
  async write(label: string, operation: Promise<void>): Promise<void> {
    this.writes += 1;
    this.entries.push(`write: ${label}`);
    await operation;
  }

  /** Listens to a query, counting reads, and hands every snapshot to `handle`. */
  listenQuery(label: string, target: Query, handle: (snapshot: QuerySnapshot) => void, onError: (error: Error) => void): () => void {
    let synced = false;
    return onSnapshot(
      target,
      { includeMetadataChanges: true },
      (snapshot) => {
        if (!synced) {
          // Snapshots served from the local cache are free; the server's first one is not.
          if (!snapshot.metadata.fromCache) {
            synced = true;
            this.read(label, Math.max(1, snapshot.size), "first snapshot");
          }
        } else {
          const changes = snapshot.docChanges();
          if (changes.length > 0) this.read(label, changes.length, changes.map((change) => change.type).join(","));
        }
        handle(snapshot);
      },
      onError,
    );
  }

  /** Listens to one document, counting reads, and hands every snapshot to `handle`. */
  listenDocument(label: string, target: DocumentReference, handle: (snapshot: DocumentSnapshot) => void, onError: (error: Error) => void): () => void {
    let synced = false;
    let last: string | undefined;
    return onSnapshot(
      target,
      { includeMetadataChanges: true },
      (snapshot) => {
        const current = snapshot.exists() ? JSON.stringify(snapshot.data()) : undefined;
        if (!synced) {
          if (!snapshot.metadata.fromCache) {
            synced = true;
            this.read(label, 1, "first snapshot");
          }
        } else if (current !== last && current !== undefined) {
          this.read(label, 1, "changed");
        }
        last = current;
        handle(snapshot);
      },
      onError,
    );
  }

  private read(label: string, count: number, why: string): void {
    this.listenerReads += count;
    this.entries.push(`read ×${count}: ${label} (${why})`);
  }
}

/** A signed-in user with a Firestore client on the emulators. */
export interface Party {
  uid: string;
  db: Firestore;
  meter: CostMeter;
  close(): Promise<void>;
}

/** Signs a new anonymous user in on the Auth emulator and connects Firestore to its emulator. */
export async function signIn(ports: { auth: number; firestore: number }, meter = new CostMeter()): Promise<Party> {
  const app: FirebaseApp = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key" }, `party-${randomUUID()}`);
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://127.0.0.1:${ports.auth}`, { disableWarnings: true });
  const db = getFirestore(app);
  connectFirestoreEmulator(db, "127.0.0.1", ports.firestore);
  const { user } = await signInAnonymously(auth);
  return {
    uid: user.uid,
    db,
    meter,
    async close() {
      await terminate(db);
      await signOut(auth);
      await deleteApp(app);
    },
  };
}

/** A session document's reference. */
export function sessionRef(db: Firestore, sessionId: string): DocumentReference {
  return doc(db, SESSIONS_COLLECTION, sessionId);
}

/** One side's candidates document's reference. */
export function candidatesRef(db: Firestore, sessionId: string, sender: Role): DocumentReference {
  return doc(db, SESSIONS_COLLECTION, sessionId, CANDIDATES_COLLECTION, sender);
}

/** Reads a session snapshot's data with estimated server times and checks it against the contract. */
export function readSession(data: DocumentData): Session {
  return sessionSchema.parse(data);
}

/**
 * Collects the peer's candidates from its document (L2 for the caller, L3 for the callee) and
 * treats the document's deletion as the end of the call.
 */
class PeerCandidates {
  readonly received: CandidateEntry[] = [];
  readonly ended = new Signal("the peer's candidates document to be deleted (call ended)");
  readonly attached = new Signal("the first snapshot of the peer's candidates");
  private readonly arrivals = new Set<() => void>();
  private readonly unsubscribe: () => void;

  constructor(party: Party, sessionId: string, peer: Role) {
    this.unsubscribe = party.meter.listenDocument(
      `L(${peer} candidates)`,
      candidatesRef(party.db, sessionId, peer),
      (snapshot) => {
        if (!snapshot.exists()) {
          // Missing before the first server snapshot only when the call already ended.
          if (!snapshot.metadata.fromCache) this.ended.resolve();
        } else {
          const document = candidateDocumentSchema.parse(snapshot.data({ serverTimestamps: "estimate" }));
          this.received.splice(0, this.received.length, ...document.candidates);
          this.arrivals.forEach((check) => check());
        }
        if (!snapshot.metadata.fromCache) this.attached.resolve();
      },
      (error) => this.ended.reject(error),
    );
  }

  /** Resolves once `count` entries (candidates and end-of-candidates) have arrived. */
  waitFor(count: number, timeoutMs = 20_000): Promise<CandidateEntry[]> {
    const signal = new Signal<CandidateEntry[]>(`${count} candidates from the peer`);
    const check = () => {
      if (this.received.length >= count) signal.resolve([...this.received]);
    };
    this.arrivals.add(check);
    check();
    return signal.wait(timeoutMs).finally(() => this.arrivals.delete(check));
  }

  stop(): void {
    this.unsubscribe();
  }
}

/** The caller's side of one call. */
export class OutgoingCall {
  readonly offered = new Signal("the session to ring (offered)");
  readonly answered = new Signal<{ type: "answer"; sdp: string }>("the callee's answer");
  readonly endedWhileRinging = new Signal<Session>("the session to end before an answer");
  private peer: PeerCandidates | undefined;
  private stopQ1: (() => void) | undefined;

  private constructor(
    private readonly party: Party,
    readonly sessionId: string,
  ) {}

  /** Whether Q1's first snapshot already held the ringing session (the trigger was quicker than the listen). */
  ringingAtAttach = false;

  /** Creates the session carrying the offer, then attaches Q1 (a query by id needs the document to exist). */
  static async place(party: Party, calleeUid: string): Promise<OutgoingCall> {
    const sessionId = doc(collection(party.db, SESSIONS_COLLECTION)).id;
    const call = new OutgoingCall(party, sessionId);
    const fields = sessionCreateFields({ caller_id: party.uid, callee_id: calleeUid, offer: { type: "offer", sdp: sampleSdp("offer") } }, serverTimestamp());
    await party.meter.write("create session with offer", setDoc(sessionRef(party.db, sessionId), fields));
    const q1 = query(
      collection(party.db, SESSIONS_COLLECTION),
      where(documentId(), "==", sessionId),
      where("caller_id", "==", party.uid),
      where("status", "in", ["offered", "answered", "ended"]),
      limit(1),
    );
    const attached = new Signal("Q1's first snapshot");
    call.stopQ1 = party.meter.listenQuery(
      "Q1 (caller's session)",
      q1,
      (snapshot) => {
        if (!snapshot.metadata.fromCache && !attached.fired) {
          call.ringingAtAttach = snapshot.size > 0;
          attached.resolve();
        }
        call.onQ1(snapshot);
      },
      (error) => {
        attached.reject(error);
        call.answered.reject(error);
      },
    );
    await attached.wait();
    return call;
  }

  private onQ1(snapshot: QuerySnapshot): void {
    const [document] = snapshot.docs;
    if (!document) return;
    const session = readSession(document.data({ serverTimestamps: "estimate" }));
    this.offered.resolve();
    if (session.status === "ended") {
      this.stopQ1?.();
      this.endedWhileRinging.resolve(session);
    } else if (session.answer) {
      // The answer is all Q1 is for: stop it before the trigger's next write costs a read.
      this.stopQ1?.();
      this.peer = new PeerCandidates(this.party, this.sessionId, "callee");
      this.answered.resolve(session.answer);
    }
  }

  /** Waits for the answer and for L2 to be attached. */
  async waitForAnswer(timeoutMs = 20_000): Promise<{ type: "answer"; sdp: string }> {
    const answer = await this.answered.wait(timeoutMs);
    await this.peer!.attached.wait(timeoutMs);
    return answer;
  }

  /** Appends a batch of the caller's candidates (after `offered`: the document exists from then). */
  async sendCandidates(batch: CandidateEntry[]): Promise<void> {
    await this.offered.wait();
    await this.party.meter.write(`caller appends ${batch.length} candidates`, updateDoc(candidatesRef(this.party.db, this.sessionId, "caller"), { candidates: arrayUnion(...batch) }));
  }

  /** The callee's candidates, once `count` have arrived. */
  candidates(count: number): Promise<CandidateEntry[]> {
    return this.peer!.waitFor(count);
  }

  /** Reports that ICE connected. */
  async reportConnected(): Promise<void> {
    await this.party.meter.write("caller reports connectivity", updateDoc(sessionRef(this.party.db, this.sessionId), connectivityFields("caller", serverTimestamp())));
  }

  /** Asks the server to end the call. */
  async end(reason: EndRequestReason): Promise<void> {
    await this.party.meter.write(`caller ends (${reason})`, updateDoc(sessionRef(this.party.db, this.sessionId), endRequestFields("caller", reason, serverTimestamp())));
  }

  /** Resolves when the callee's candidates document is deleted: the call has ended. */
  waitForEnd(timeoutMs = 20_000): Promise<void> {
    return this.peer!.ended.wait(timeoutMs);
  }

  stop(): void {
    this.stopQ1?.();
    this.peer?.stop();
  }
}

/** The callee's long-lived Q0 ("my incoming calls"). */
export class IncomingCalls {
  private readonly ringing = new Map<string, Session>();
  private readonly changes = new Set<() => void>();
  private readonly unsubscribe: () => void;
  readonly attached = new Signal("Q0's first snapshot");
  private failure: Error | undefined;

  constructor(private readonly party: Party) {
    const q0 = query(
      collection(party.db, SESSIONS_COLLECTION),
      where("callee_id", "==", party.uid),
      where("status", "==", "offered"),
      orderBy("created_at", "desc"),
      limit(10),
    );
    this.unsubscribe = party.meter.listenQuery("Q0 (callee's incoming calls)", q0, (snapshot) => {
      this.ringing.clear();
      for (const document of snapshot.docs) this.ringing.set(document.id, readSession(document.data({ serverTimestamps: "estimate" })));
      if (!snapshot.metadata.fromCache) this.attached.resolve();
      this.changes.forEach((check) => check());
    }, (error) => {
      this.failure = error;
      this.changes.forEach((check) => check());
    });
  }

  /** Resolves with the session once it rings here. */
  waitForRinging(sessionId: string, timeoutMs = 20_000): Promise<IncomingCall> {
    return this.waitUntil(`session ${sessionId} to ring`, () => {
      const session = this.ringing.get(sessionId);
      return session && new IncomingCall(this.party, sessionId, session);
    }, timeoutMs);
  }

  /** Resolves once the session has left Q0 (answered or ended). */
  waitForGone(sessionId: string, timeoutMs = 20_000): Promise<true> {
    return this.waitUntil(`session ${sessionId} to stop ringing`, () => !this.ringing.has(sessionId) || undefined, timeoutMs);
  }

  private waitUntil<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    const signal = new Signal<T>(what);
    const check = () => {
      if (this.failure) return signal.reject(this.failure);
      const value = probe();
      if (value !== undefined) signal.resolve(value);
    };
    this.changes.add(check);
    check();
    return signal.wait(timeoutMs).finally(() => this.changes.delete(check));
  }

  stop(): void {
    this.unsubscribe();
  }
}

/** The callee's side of one ringing call. */
export class IncomingCall {
  private peer: PeerCandidates | undefined;

  constructor(
    private readonly party: Party,
    readonly sessionId: string,
    readonly session: Session,
  ) {}

  /** Attaches L3 to the caller's candidates, then writes the answer. */
  async accept(): Promise<void> {
    this.peer = new PeerCandidates(this.party, this.sessionId, "caller");
    await this.peer.attached.wait();
    await this.party.meter.write("callee answers", updateDoc(sessionRef(this.party.db, this.sessionId), answerFields({ type: "answer", sdp: sampleSdp("answer") })));
  }

  /** Ends the call as the callee (reject or busy while ringing, hangup or failed later). */
  async end(reason: EndRequestReason): Promise<void> {
    await this.party.meter.write(`callee ends (${reason})`, updateDoc(sessionRef(this.party.db, this.sessionId), endRequestFields("callee", reason, serverTimestamp())));
  }

  /** Appends a batch of the callee's candidates. */
  async sendCandidates(batch: CandidateEntry[]): Promise<void> {
    await this.party.meter.write(`callee appends ${batch.length} candidates`, updateDoc(candidatesRef(this.party.db, this.sessionId, "callee"), { candidates: arrayUnion(...batch) }));
  }

  /** The caller's candidates, once `count` have arrived. */
  candidates(count: number): Promise<CandidateEntry[]> {
    return this.peer!.waitFor(count);
  }

  /** Resolves when the caller's candidates document is deleted: the call has ended. */
  waitForEnd(timeoutMs = 20_000): Promise<void> {
    return this.peer!.ended.wait(timeoutMs);
  }

  stop(): void {
    this.peer?.stop();
  }
}
