// One call, driven step by step as /work/issue8-contract.md (docs/signaling.md) says, with the
// Firebase JS SDK and libwebrtc from npm (@roamhq/wrtc), timing the moments the bench reports.
// Used until the web client (web/src/call) follows the new contract.
import { RTCPeerConnection as WrtcPeerConnection } from "@roamhq/wrtc";
import {
  arrayUnion,
  collection,
  doc,
  onSnapshot,
  orderBy,
  query,
  serverTimestamp,
  updateDoc,
  where,
  writeBatch,
  limit,
  type DocumentReference,
  type Firestore,
} from "firebase/firestore";
import {
  CANDIDATES_COLLECTION,
  LIMITS,
  SESSIONS_COLLECTION,
  answerFields,
  candidatesCreateFields,
  connectivityFields,
  endRequestFields,
  peerOf,
  ringDeadlineMillis,
  sessionCreateFields,
  sessionSchema,
  type CandidateEntry,
  type Role,
  type Session,
} from "../../functions/src/sessions/model";
import { arrival, type Arrival } from "./arrival";
import type { BenchClient } from "./clients";
import { nowMs } from "./stats";

/** What both peers are configured with: relay only, through the bench's coturn on loopback. */
export type PeerConfig = (uid: string) => RTCConfiguration;

/** The moments of one call, in milliseconds from the monotonic clock. */
export interface CallTimes {
  dialStart: number;
  ringing: number;
  answerStart: number;
  callerConnected: number;
  calleeConnected: number;
  hangUpStart: number;
  otherEnded: number;
  hungUpBy: Role;
}

const ESTIMATE = { serverTimestamps: "estimate" } as const;
const sessionRef = (db: Firestore, id: string): DocumentReference => doc(db, SESSIONS_COLLECTION, id);
const candidatesRef = (db: Firestore, id: string, role: Role): DocumentReference => doc(db, SESSIONS_COLLECTION, id, CANDIDATES_COLLECTION, role);

/** One side's peer connection and the candidates it gathered, sent in order, ≤ 8 a write, ≤ 20 in all. */
class Side {
  readonly pc: RTCPeerConnection;
  readonly events: Arrival = arrival();
  connectedAt: number | undefined;
  private readonly gathered: CandidateEntry[] = [];
  private sent = 0;
  private sending: Promise<void> | undefined;
  private target: DocumentReference | undefined;
  private readonly remote: CandidateEntry[] = [];
  private added = 0;
  private remoteReady = false;

  constructor(config: RTCConfiguration) {
    this.pc = new WrtcPeerConnection(config);
    this.pc.onicecandidate = ({ candidate }) => {
      // null is the end of gathering: the contract's end-of-candidates entry.
      const entry: CandidateEntry = candidate
        ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null }
        : { candidate: "", sdpMid: "0", sdpMLineIndex: 0 };
      if (entry.candidate === "" || this.gathered.length < LIMITS.maxCandidatesPerSide - 1) this.gathered.push(entry);
      this.flush();
    };
    const connected = (): void => {
      const ice = this.pc.iceConnectionState;
      if (this.connectedAt === undefined && (this.pc.connectionState === "connected" || ice === "connected" || ice === "completed")) {
        this.connectedAt = nowMs();
        this.events.fire();
      }
    };
    this.pc.onconnectionstatechange = connected;
    this.pc.oniceconnectionstatechange = connected;
  }

  /** The entries gathered so far that go into the create (or answer) batch, at most 8. */
  takeForCreate(): CandidateEntry[] {
    const first = this.gathered.slice(0, LIMITS.maxCandidatesPerWrite);
    this.sent = first.length;
    return first;
  }

  /** From now on, appends what is gathered to `target` (the document exists). */
  startSending(target: DocumentReference): void {
    this.target = target;
    this.flush();
  }

  private flush(): void {
    if (!this.target || this.sending || this.sent >= this.gathered.length) return;
    const batch = this.gathered.slice(this.sent, this.sent + LIMITS.maxCandidatesPerWrite);
    this.sent += batch.length;
    this.sending = updateDoc(this.target, { candidates: arrayUnion(...batch) })
      // A refusal after the call ended is expected (the document is gone).
      .catch(() => undefined)
      .finally(() => {
        this.sending = undefined;
        this.flush();
      });
  }

  /** The peer's entries as its document holds them; added once the remote description is set. */
  receive(entries: CandidateEntry[]): void {
    this.remote.splice(0, this.remote.length, ...entries);
    this.addRemote();
  }

  /** Marks the remote description set and adds the buffered entries. */
  remoteDescriptionSet(): void {
    this.remoteReady = true;
    this.addRemote();
  }

  private addRemote(): void {
    if (!this.remoteReady) return;
    for (; this.added < this.remote.length; this.added += 1) {
      const entry = this.remote[this.added];
      // libwebrtc needs no end-of-candidates entry; wrtc rejects an empty candidate.
      if (!entry || entry.candidate === "") continue;
      this.pc.addIceCandidate({ candidate: entry.candidate, sdpMid: entry.sdpMid, sdpMLineIndex: entry.sdpMLineIndex }).catch(() => undefined);
    }
  }

  close(): void {
    this.target = undefined;
    this.pc.close();
  }
}

/** Listens to the peer's candidates document; resolves `ended` when it disappears after it was seen. */
function watchPeerCandidates(db: Firestore, sessionId: string, peer: Role, side: Side, onEnded: (at: number) => void): () => void {
  let seen = false;
  return onSnapshot(candidatesRef(db, sessionId, peer), (snapshot) => {
    if (snapshot.exists()) {
      seen = true;
      side.receive((snapshot.data(ESTIMATE).candidates ?? []) as CandidateEntry[]);
    } else if (seen && !snapshot.metadata.hasPendingWrites) {
      onEnded(nowMs());
    }
  });
}

/** The callee's long-lived Q0, which records when each session first rings. */
export class IncomingCalls {
  readonly events: Arrival = arrival();
  private readonly ringing = new Map<string, { at: number; session: Session }>();
  private readonly stop: () => void;
  private readonly attached = arrival();
  private synced = false;

  constructor(callee: BenchClient) {
    const q0 = query(
      collection(callee.db, SESSIONS_COLLECTION),
      where("callee_id", "==", callee.uid),
      where("status", "in", ["pending", "offered"]),
      orderBy("created_at", "desc"),
      limit(10),
    );
    this.stop = onSnapshot(q0, { includeMetadataChanges: true }, (snapshot) => {
      const at = nowMs();
      if (!snapshot.metadata.fromCache) this.synced = true;
      this.attached.fire();
      for (const document of snapshot.docs) {
        if (this.ringing.has(document.id)) continue;
        const session = sessionSchema.parse(document.data(ESTIMATE));
        // Rings: nobody answered or ended it, and it is before its deadline (with 5 s of clock slack).
        if (session.answer == null && session.end_request == null && Date.now() < ringDeadlineMillis(session) + 5_000) {
          this.ringing.set(document.id, { at, session });
        }
      }
      this.events.fire();
    });
  }

  /** Resolves once Q0's first server snapshot has arrived. */
  ready(timeoutMs: number): Promise<true> {
    return this.attached.until(() => this.synced || undefined, timeoutMs, "Q0's first snapshot");
  }

  /** When `sessionId` first rang here, and its session as Q0 showed it. */
  waitForRinging(sessionId: string, timeoutMs: number): Promise<{ at: number; session: Session }> {
    return this.events.until(() => this.ringing.get(sessionId), timeoutMs, `session ${sessionId} to ring in Q0`);
  }

  close(): void {
    this.stop();
  }
}

/**
 * Places one call from `caller` to `callee`, has the callee answer as soon as it rings, waits
 * until both peer connections are connected, then hangs up from `hangUpBy`'s side and waits for
 * the other side to see it. Every peer connection and listener is closed before it returns.
 */
export async function runCall(
  caller: BenchClient,
  callee: BenchClient,
  incoming: IncomingCalls,
  peerConfig: PeerConfig,
  hangUpBy: Role,
  timeoutMs: number,
): Promise<CallTimes> {
  const callerSide = new Side(peerConfig(caller.uid));
  const calleeSide = new Side(peerConfig(callee.uid));
  const stops: Array<() => void> = [];
  const ended = arrival();
  const endedAt: Partial<Record<Role, number>> = {};
  // Who saw its peer's candidates document disappear first (the trigger deletes both later).
  const onEnded = (observer: Role) => (at: number): void => {
    endedAt[observer] ??= at;
    ended.fire();
  };
  try {
    // Caller, step 1: a data channel gives the offer its one m= section.
    callerSide.pc.createDataChannel("bench");
    await callerSide.pc.setLocalDescription(await callerSide.pc.createOffer());
    const offerSdp = callerSide.pc.localDescription?.sdp ?? "";

    // Caller, step 2: ONE batch creates the session and the caller's candidates document.
    const sessionId = doc(collection(caller.db, SESSIONS_COLLECTION)).id;
    const fields = sessionCreateFields({ caller_id: caller.uid, callee_id: callee.uid, offer: { type: "offer", sdp: offerSdp } }, serverTimestamp(), Date.now());
    const create = writeBatch(caller.db);
    create.set(sessionRef(caller.db, sessionId), fields);
    create.set(candidatesRef(caller.db, sessionId, "caller"), candidatesCreateFields(fields, "caller", callerSide.takeForCreate(), serverTimestamp(), Date.now()));
    const dialStart = nowMs();
    const ringing = incoming.waitForRinging(sessionId, timeoutMs);
    await create.commit();
    callerSide.startSending(candidatesRef(caller.db, sessionId, "caller"));

    // Caller, step 4: L1 on the session until the answer, then L2 on the callee's candidates.
    const answered = arrival();
    let answer: RTCSessionDescriptionInit | undefined;
    const stopL1 = onSnapshot(sessionRef(caller.db, sessionId), (snapshot) => {
      const data = snapshot.data(ESTIMATE);
      if (data?.answer && !answer) {
        answer = data.answer as RTCSessionDescriptionInit;
        answered.fire();
      }
    });
    stops.push(stopL1);

    // Callee: it rings, it accepts at once.
    const rang = await ringing;
    stops.push(watchPeerCandidates(callee.db, sessionId, "caller", calleeSide, onEnded("callee"))); // L3, buffered
    await calleeSide.pc.setRemoteDescription({ type: "offer", sdp: rang.session.offer?.sdp ?? "" });
    calleeSide.remoteDescriptionSet();
    await calleeSide.pc.setLocalDescription(await calleeSide.pc.createAnswer());
    const answerBatch = writeBatch(callee.db);
    answerBatch.update(sessionRef(callee.db, sessionId), answerFields({ type: "answer", sdp: calleeSide.pc.localDescription?.sdp ?? "" }));
    answerBatch.set(candidatesRef(callee.db, sessionId, "callee"), candidatesCreateFields(fields, "callee", calleeSide.takeForCreate(), serverTimestamp(), Date.now()));
    const answerStart = nowMs();
    await answerBatch.commit();
    calleeSide.startSending(candidatesRef(callee.db, sessionId, "callee"));

    await answered.until(() => answer, timeoutMs, "the caller to see the answer");
    stopL1();
    await callerSide.pc.setRemoteDescription(answer!);
    callerSide.remoteDescriptionSet();
    stops.push(watchPeerCandidates(caller.db, sessionId, "callee", callerSide, onEnded("caller"))); // L2

    const callerConnected = await callerSide.events.until(() => callerSide.connectedAt, timeoutMs, "the caller's peer connection to connect");
    const calleeConnected = await calleeSide.events.until(() => calleeSide.connectedAt, timeoutMs, "the callee's peer connection to connect");
    // Caller, step 5: only the caller reports connectivity.
    await updateDoc(sessionRef(caller.db, sessionId), connectivityFields("caller", serverTimestamp()));

    // Hang-up: ONE batch, the end request and the deletion of the hanging-up side's own document.
    const db = hangUpBy === "caller" ? caller.db : callee.db;
    const hangUp = writeBatch(db);
    hangUp.update(sessionRef(db, sessionId), endRequestFields(hangUpBy, "hangup", serverTimestamp()));
    hangUp.delete(candidatesRef(db, sessionId, hangUpBy));
    const hangUpStart = nowMs();
    await hangUp.commit();
    const otherEnded = await ended.until(() => endedAt[peerOf(hangUpBy)], timeoutMs, "the other side to see its peer's candidates deleted");
    return { dialStart, ringing: rang.at, answerStart, callerConnected, calleeConnected, hangUpStart, otherEnded, hungUpBy: hangUpBy };
  } finally {
    stops.forEach((stop) => stop());
    callerSide.close();
    calleeSide.close();
  }
}
