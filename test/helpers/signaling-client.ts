// A client that follows docs/signaling.md step by step with the Firebase JS SDK, as the web,
// Android and iOS apps do, minus the RTCPeerConnection (the SDP and candidates are samples).
// Every Firestore operation goes through a CostMeter so the cost suite can count them. No step
// waits for a function: the call path is client writes and listeners only.
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously, signOut } from "firebase/auth";
import {
  arrayUnion,
  collection,
  connectFirestoreEmulator,
  deleteDoc,
  deleteField,
  doc,
  getDoc,
  getFirestore,
  onSnapshot,
  serverTimestamp,
  terminate,
  updateDoc,
  writeBatch,
  type WriteBatch,
  type SetOptions,
  type UpdateData,
  type DocumentData,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Query,
  type QuerySnapshot,
} from "firebase/firestore";
import { CANDIDATES_COLLECTION, SESSIONS_COLLECTION, answerFields, candidateDocumentSchema, candidatesCreateFields, connectivityFields, endRequestFields, sessionCreateFields, sessionSchema, type CandidateEntry, type EndRequestReason, type Role, type Session, CALL_LIMITS_COLLECTION, callLimitsDocumentSchema, callLimitsFields } from "@webrtc-lite/contract";
import { CallLimitsTracker } from "@webrtc-lite/client/call/limits";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { recoveringWatch, type StreamFailureWatch } from "@webrtc-lite/dev-stack/listen-stream";
import { sampleSdp } from "./sdp";
import { Signal, waitOnChanges } from "./snapshots";
import { incomingCallsQuery } from "@webrtc-lite/client";

/** A CostMeter's counts at one moment (`entries`: how many entries it had). */
export interface MeterCounts {
  writes: number;
  deletes: number;
  listenerReads: number;
  /** Documents read with getDoc (the dial reads its limits only when the rules refused it). */
  documentReads: number;
  entries: number;
}

/**
 * A write batch that remembers what it holds: the meter counts, once its commit succeeds, one
 * write per document it sets or updates and one delete per document it deletes.
 */
export class MeteredBatch {
  /** One entry per document operation the batch holds. */
  readonly operations: Array<"write" | "delete"> = [];
  private readonly batch: WriteBatch;

  constructor(db: Firestore) {
    this.batch = writeBatch(db);
  }

  /** WriteBatch.set, counted. */
  set(target: DocumentReference, data: DocumentData, options: SetOptions = {}): this {
    this.batch.set(target, data, options);
    this.operations.push("write");
    return this;
  }

  /** WriteBatch.update, counted. */
  update(target: DocumentReference, data: UpdateData<DocumentData>): this {
    this.batch.update(target, data);
    this.operations.push("write");
    return this;
  }

  /** WriteBatch.delete, counted. */
  delete(target: DocumentReference): this {
    this.batch.delete(target);
    this.operations.push("delete");
    return this;
  }

  /** Commits the batch (the meter calls this). */
  commit(): Promise<void> {
    return this.batch.commit();
  }
}

/**
 * Counts what Firestore bills a client, from the SDK calls it makes (see
 * packages/contract/src/sessions/cost.ts): one write or delete per document a committed write
 * touched; one read per document getDoc returned from the server; per listener, its first
 * server snapshot (one read per document, at least one), then one read per document added,
 * changed or removed by a change, and nothing for a deletion. What the rules read is not the
 * client's to see: the cost suite reads it from the emulator.
 */
export class CostMeter {
  writes = 0;
  deletes = 0;
  listenerReads = 0;
  documentReads = 0;
  /** One line per billed operation, for the report and for failure messages. */
  readonly entries: string[] = [];

  /** The counts so far, to measure a later stretch with `since`. */
  snapshot(): MeterCounts {
    return { writes: this.writes, deletes: this.deletes, listenerReads: this.listenerReads, documentReads: this.documentReads, entries: this.entries.length };
  }

  /** What was counted after `earlier`. */
  since(earlier: MeterCounts): Omit<MeterCounts, "entries"> {
    return {
      writes: this.writes - earlier.writes,
      deletes: this.deletes - earlier.deletes,
      listenerReads: this.listenerReads - earlier.listenerReads,
      documentReads: this.documentReads - earlier.documentReads,
    };
  }

  /** updateDoc, counted as one write once the server has committed it. */
  async update(label: string, target: DocumentReference, data: UpdateData<DocumentData>): Promise<void> {
    await updateDoc(target, data);
    this.writes += 1;
    this.entries.push(`write: ${label}`);
  }

  /** deleteDoc, counted as one delete once the server has committed it. */
  async delete(label: string, target: DocumentReference): Promise<void> {
    await deleteDoc(target);
    this.deletes += 1;
    this.entries.push(`delete: ${label}`);
  }

  /** getDoc, counted as one read when the server (not the local cache) answered. */
  async get(label: string, target: DocumentReference): Promise<DocumentSnapshot> {
    const snapshot = await getDoc(target);
    if (!snapshot.metadata.fromCache) {
      this.documentReads += 1;
      this.entries.push(`get: ${label}`);
    }
    return snapshot;
  }

  /** Commits `batch`, then counts the documents it wrote and deleted (nothing when the commit fails). */
  async commit(label: string, batch: MeteredBatch): Promise<void> {
    await batch.commit();
    const writes = batch.operations.filter((operation) => operation === "write").length;
    const deletes = batch.operations.length - writes;
    this.writes += writes;
    this.deletes += deletes;
    this.entries.push(`batch (${writes} writes, ${deletes} deletes): ${label}`);
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
  /** What this user knows of its limits document (one tracker per signed-in user, as in an app). */
  limits: CallLimitsTracker;
  /** The emulator's Listen stream breaks now and then (test/helpers/listen-stream.ts): seen here, and recovered from. */
  streams: StreamFailureWatch;
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
  const streams = recoveringWatch(db);
  return {
    uid: user.uid,
    db,
    meter,
    limits: new CallLimitsTracker(),
    streams,
    async close() {
      streams.stop();
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
 * Collects the peer's candidates from its document (each side's peer-candidates listener) and
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

/** Hangs up as `role`: deletes its own candidates document and writes the end request, sent back to back. */
async function hangUp(party: Party, sessionId: string, role: Role, reason: EndRequestReason, ownDocument: boolean): Promise<void> {
  const deleted = ownDocument ? party.meter.delete(`${role} deletes its candidates`, candidatesRef(party.db, sessionId, role)) : Promise.resolve();
  const requested = party.meter.update(`${role} ends (${reason})`, sessionRef(party.db, sessionId), endRequestFields(role, reason, serverTimestamp()));
  await Promise.all([deleted, requested]);
}

/**
 * The side that learns of the end deletes its own candidates document ("Hang-up"): with no
 * function running it would keep its addresses for 25 h. Gone already (the trigger, or its own
 * hang-up) is fine: the rules let a participant delete a missing document.
 */
async function leave(party: Party, sessionId: string, role: Role): Promise<void> {
  await party.meter.delete(`${role} deletes its candidates (the other side ended)`, candidatesRef(party.db, sessionId, role));
}

/** The caller's side of one call. */
export class OutgoingCall {
  /** The trigger recorded `offered` (nothing on the call path waits for it). */
  readonly offered = new Signal("the server to record the session as offered");
  readonly answered = new Signal<{ type: "answer"; sdp: string }>("the callee's answer");
  readonly endedWhileRinging = new Signal<Session>("the call to end before an answer");
  private peer: PeerCandidates | undefined;
  private stopL1: (() => void) | undefined;
  private hungUp = false;

  private constructor(
    private readonly party: Party,
    readonly sessionId: string,
  ) {}

  /** Whether the session listener's first snapshot already held the trigger's `offered` (then that change costs it no read). */
  offeredAtAttach = false;

  /**
   * Creates the session (carrying the offer) and the caller's candidates document in one batch
   * (the call rings from here on), then attaches the session listener: a listener on one document
   * is refused while it does not exist.
   */
  static async place(party: Party, calleeUid: string, entries: CandidateEntry[] = []): Promise<OutgoingCall> {
    const sessionId = doc(collection(party.db, SESSIONS_COLLECTION)).id;
    const call = new OutgoingCall(party, sessionId);
    const input = { caller_id: party.uid, callee_id: calleeUid, offer: { type: "offer" as const, sdp: sampleSdp("offer") } };
    await party.limits.place(
      { sessionId, calleeId: calleeUid },
      {
        async commit(plan, ends) {
          const batch = new MeteredBatch(party.db);
          for (const end of ends) batch.update(sessionRef(party.db, end.sessionId), endRequestFields("caller", end.reason, serverTimestamp()));
          batch.set(sessionRef(party.db, sessionId), sessionCreateFields(input, serverTimestamp(), Date.now()));
          batch.set(candidatesRef(party.db, sessionId, "caller"), candidatesCreateFields(input, "caller", entries, serverTimestamp(), Date.now()));
          batch.set(doc(party.db, CALL_LIMITS_COLLECTION, party.uid), callLimitsFields(plan, serverTimestamp(), deleteField()), { merge: true });
          await party.meter.commit("create session with offer, the caller's candidates and its limits write", batch);
        },
        async readLimits() {
          const snapshot = await party.meter.get("the caller reads its limits", doc(party.db, CALL_LIMITS_COLLECTION, party.uid));
          return snapshot.exists() ? callLimitsDocumentSchema.parse(snapshot.data()) : undefined;
        },
        async readSession(id) {
          const snapshot = await party.meter.get(`the caller reads its session ${id}`, sessionRef(party.db, id)).catch(() => undefined);
          return snapshot?.exists() ? snapshot.data() : undefined;
        },
      },
      // A redial's batch ended this call: its listener stops, as a hang-up's would.
      { answered: () => call.answered.fired, replaced: () => call.stop() },
    );
    const attached = new Signal("the session listener's first snapshot");
    call.stopL1 = party.meter.listenDocument(
      "session listener (caller's session)",
      sessionRef(party.db, sessionId),
      (snapshot) => {
        if (!snapshot.metadata.fromCache && !attached.fired) {
          call.offeredAtAttach = snapshot.get("status") !== "pending";
          attached.resolve();
        }
        if (snapshot.exists()) call.onL1(readSession(snapshot.data({ serverTimestamps: "estimate" })));
      },
      (error) => {
        attached.reject(error);
        call.answered.reject(error);
      },
    );
    await attached.wait();
    return call;
  }

  private onL1(session: Session): void {
    if (session.status !== "pending") this.offered.resolve();
    if (session.status === "ended" || session.end_request) {
      this.stopL1?.();
      this.party.limits.ended(this.sessionId);
      this.endedWhileRinging.resolve(session);
    } else if (session.answer) {
      // The answer is all the session listener is for: stop it before the trigger's next write costs a read.
      this.stopL1?.();
      this.peer = new PeerCandidates(this.party, this.sessionId, "callee");
      this.answered.resolve(session.answer);
    }
  }

  /** Waits for the answer and for the peer-candidates listener to be attached. */
  async waitForAnswer(timeoutMs = 20_000): Promise<{ type: "answer"; sdp: string }> {
    const answer = await this.answered.wait(timeoutMs);
    await this.peer!.attached.wait(timeoutMs);
    return answer;
  }

  /** Appends a batch of the caller's candidates (its document exists since the create). */
  async sendCandidates(batch: CandidateEntry[]): Promise<void> {
    await this.party.meter.update(`caller appends ${batch.length} candidates`, candidatesRef(this.party.db, this.sessionId, "caller"), { candidates: arrayUnion(...batch) });
  }

  /** The callee's candidates, once `count` have arrived. */
  candidates(count: number): Promise<CandidateEntry[]> {
    return this.peer!.waitFor(count);
  }

  /** Reports that ICE connected. */
  async reportConnected(): Promise<void> {
    await this.party.meter.update("caller reports connectivity", sessionRef(this.party.db, this.sessionId), connectivityFields("caller", serverTimestamp()));
  }

  /** Ends the call: the end request and the deletion of the caller's candidates document, in one batch. */
  async end(reason: EndRequestReason): Promise<void> {
    this.hungUp = true;
    await hangUp(this.party, this.sessionId, "caller", reason, true);
    this.party.limits.ended(this.sessionId);
  }

  /** Resolves when the callee's candidates document is deleted (the call has ended) and the caller has deleted its own. */
  async waitForEnd(timeoutMs = 20_000): Promise<void> {
    await this.peer!.ended.wait(timeoutMs);
    this.party.limits.ended(this.sessionId);
    if (!this.hungUp) await leave(this.party, this.sessionId, "caller");
  }

  stop(): void {
    this.stopL1?.();
    this.peer?.stop();
  }
}

/** Whether a session from the incoming-calls query still rings: nobody has answered or ended it. */
function rings(session: Session): boolean {
  return (session.status === "pending" || session.status === "offered") && !session.answer && !session.end_request;
}

/** The callee's long-lived incoming-calls query. */
export class IncomingCalls {
  private readonly ringing = new Map<string, Session>();
  private readonly present = new Set<string>();
  /** The status each session had when the incoming-calls query first showed it. */
  readonly firstSeenStatus = new Map<string, string>();
  private readonly changes = new Set<() => void>();
  private readonly unsubscribe: () => void;
  readonly attached = new Signal("the incoming-calls query's first snapshot");
  private failure: Error | undefined;

  constructor(private readonly party: Party) {
    this.unsubscribe = party.meter.listenQuery("incoming-calls query (callee's)", incomingCallsQuery(party.db, party.uid), (snapshot) => {
      this.ringing.clear();
      this.present.clear();
      for (const document of snapshot.docs) {
        const session = readSession(document.data({ serverTimestamps: "estimate" }));
        this.present.add(document.id);
        if (!this.firstSeenStatus.has(document.id)) this.firstSeenStatus.set(document.id, session.status);
        if (rings(session)) this.ringing.set(document.id, session);
      }
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

  /** Resolves once the session no longer rings (answered or ended). */
  waitForGone(sessionId: string, timeoutMs = 20_000): Promise<true> {
    return this.waitUntil(`session ${sessionId} to stop ringing`, () => !this.ringing.has(sessionId) || undefined, timeoutMs);
  }

  /** Resolves once the session has left the incoming-calls query's results (the server recorded it answered or ended). */
  waitForLeft(sessionId: string, timeoutMs = 20_000): Promise<true> {
    return this.waitUntil(`session ${sessionId} to leave the incoming-calls query`, () => !this.present.has(sessionId) || undefined, timeoutMs);
  }

  private waitUntil<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return waitOnChanges(what, this.changes, probe, () => this.failure, timeoutMs);
  }

  stop(): void {
    this.unsubscribe();
  }
}

/** The callee's side of one ringing call. */
export class IncomingCall {
  private peer: PeerCandidates | undefined;
  private accepted = false;
  private hungUp = false;

  constructor(
    private readonly party: Party,
    readonly sessionId: string,
    readonly session: Session,
  ) {}

  /** Attaches the peer-candidates listener to the caller's candidates, then answers and creates its own candidates document in one batch. */
  async accept(entries: CandidateEntry[] = []): Promise<void> {
    this.peer = new PeerCandidates(this.party, this.sessionId, "caller");
    await this.peer.attached.wait();
    const batch = new MeteredBatch(this.party.db);
    batch.update(sessionRef(this.party.db, this.sessionId), answerFields({ type: "answer", sdp: sampleSdp("answer") }));
    batch.set(candidatesRef(this.party.db, this.sessionId, "callee"), candidatesCreateFields(this.session, "callee", entries, serverTimestamp(), Date.now()));
    await this.party.meter.commit("callee answers and creates its candidates", batch);
    this.accepted = true;
  }

  /** Ends the call as the callee (reject or busy while ringing, hangup or failed later). */
  async end(reason: EndRequestReason): Promise<void> {
    this.hungUp = true;
    await hangUp(this.party, this.sessionId, "callee", reason, this.accepted);
  }

  /** Appends a batch of the callee's candidates. */
  async sendCandidates(batch: CandidateEntry[]): Promise<void> {
    await this.party.meter.update(`callee appends ${batch.length} candidates`, candidatesRef(this.party.db, this.sessionId, "callee"), { candidates: arrayUnion(...batch) });
  }

  /** The caller's candidates, once `count` have arrived. */
  candidates(count: number): Promise<CandidateEntry[]> {
    return this.peer!.waitFor(count);
  }

  /** Resolves when the caller's candidates document is deleted (the call has ended) and the callee has deleted its own. */
  async waitForEnd(timeoutMs = 20_000): Promise<void> {
    await this.peer!.ended.wait(timeoutMs);
    if (this.accepted && !this.hungUp) await leave(this.party, this.sessionId, "callee");
  }

  stop(): void {
    this.peer?.stop();
  }
}
