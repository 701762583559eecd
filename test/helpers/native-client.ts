// A client written the way docs/signaling.md tells an Android or iOS app to work, on Google's
// libwebrtc (@roamhq/wrtc) and the Firebase JS SDK: raw field maps (no builder from model.ts),
// `toJSON()` of each candidate written as is, remote candidates buffered until the remote
// description is set, connectivity reported on `connected`/`completed`, end-of-candidates sent
// when gathering completes, hang-up as a deletion with the end request right behind it. Each step names the doc's step it follows.
import { performance } from "node:perf_hooks";
import wrtc from "@roamhq/wrtc";
import { deleteApp, initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously } from "firebase/auth";
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
  type DocumentData,
  type DocumentReference,
  type Firestore,
} from "firebase/firestore";
import { randomUUID } from "node:crypto";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { LIMITS, callLimitsDocumentSchema } from "@webrtc-lite/contract";
import { incomingCallsQuery } from "@webrtc-lite/client";
import { CallLimitsTracker } from "@webrtc-lite/client/call/limits";
import { CandidateInbox } from "@webrtc-lite/client/call/outbox";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { recoveringWatch } from "@webrtc-lite/dev-stack/listen-stream";
import { Signal, waitOnChanges } from "./snapshots";
import { ChatChannel } from "./chat-channel";

type Entry = { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null; usernameFragment?: string | null };
type Role = "caller" | "callee";

const TWENTY_FIVE_HOURS = 25 * 3_600_000;
const CLOCK_TOLERANCE_MS = 5_000;

/** Where a native-style app signs in and which TURN server (with its shared secret) it uses. */
export interface NativeAppConfig {
  ports: { auth: number; firestore: number };
  turn: { secret: string; uris: string[] };
}

/** A signed-in "native" app: places calls and listens for incoming ones. */
export class NativeApp {
  private constructor(
    readonly uid: string,
    readonly db: Firestore,
    private readonly config: NativeAppConfig,
    private readonly shutdown: () => Promise<void>,
    private readonly calls: NativeCall[] = [],
    private readonly limits = new CallLimitsTracker(),
  ) {}

  /** Signs a new anonymous user in on the Auth emulator, with Firestore on its emulator. */
  static async start(config: NativeAppConfig): Promise<NativeApp> {
    const app = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key" }, `native-${randomUUID()}`);
    const auth = getAuth(app);
    connectAuthEmulator(auth, `http://127.0.0.1:${config.ports.auth}`, { disableWarnings: true });
    const db = getFirestore(app);
    connectFirestoreEmulator(db, "127.0.0.1", config.ports.firestore);
    const { user } = await signInAnonymously(auth);
    const streams = recoveringWatch(db);
    return new NativeApp(user.uid, db, config, async () => {
      streams.stop();
      await terminate(db);
      await deleteApp(app);
    });
  }

  /**
   * Both sides need TURN ("Client protocol"). The test mints in-process what
   * `getTurnCredentials` would return, so no Functions emulator has to run; relay only, so that
   * every packet goes through coturn on loopback.
   */
  private peerConnection(): RTCPeerConnection {
    const { username, credential } = mintTurnCredential(this.config.turn.secret, this.uid, 3_600, Date.now());
    return new wrtc.RTCPeerConnection({ iceServers: [{ urls: this.config.turn.uris, username, credential }], iceTransportPolicy: "relay" });
  }

  /** Caller steps 1–4: offer, one batch (session + own candidates), appends, then the session listener. */
  async call(calleeId: string, options: { ringSeconds?: number; beforeL1?: Promise<unknown> } = {}): Promise<NativeCall> {
    const pc = this.peerConnection();
    const session = doc(collection(this.db, "webrtc_sessions"));
    const call = new NativeCall(this.db, pc, session, "caller");
    this.calls.push(call);
    call.openChannel(pc.createDataChannel("chat"));
    await pc.setLocalDescription(await pc.createOffer());
    const ringSeconds = options.ringSeconds ?? 60;
    const limitsRef = doc(this.db, "call_limits", this.uid);
    // The dial batch: session, own candidates, and the limits write the rules tie them to.
    await this.limits.place(
      { sessionId: session.id, calleeId },
      {
        commit: async (plan, ends) => {
          const batch = writeBatch(this.db);
          for (const end of ends) {
            batch.update(doc(this.db, "webrtc_sessions", end.sessionId), { end_request: { by: "caller", reason: end.reason, at: serverTimestamp() } });
            batch.delete(doc(this.db, "webrtc_sessions", end.sessionId, "ice_candidates", "caller"));
          }
          batch.set(session, {
            caller_id: this.uid,
            callee_id: calleeId,
            status: "pending",
            offer: { type: "offer", sdp: pc.localDescription?.sdp },
            answer: null,
            end_request: null,
            ring_seconds: ringSeconds,
            created_at: serverTimestamp(),
            updated_at: serverTimestamp(),
            expire_at: new Date(Date.now() + TWENTY_FIVE_HOURS),
          });
          batch.set(call.ownCandidates, call.outbox.createFields(this.uid, calleeId));
          const live: Record<string, unknown> = { [calleeId]: session.id };
          for (const callee of plan.released) live[callee] = deleteField();
          batch.set(limitsRef, { live, recent: { [plan.slot]: serverTimestamp() }, slot: plan.slot, session_id: session.id, callee_id: calleeId }, { merge: true });
          await batch.commit();
        },
        readLimits: async () => {
          const snapshot = await getDoc(limitsRef);
          return snapshot.exists() ? callLimitsDocumentSchema.parse(snapshot.data()) : undefined;
        },
        readSession: async (id) => {
          const snapshot = await getDoc(doc(this.db, "webrtc_sessions", id)).catch(() => undefined);
          return snapshot?.exists() ? snapshot.data() : undefined;
        },
      },
      // A redial's batch ended this call: it ends here too.
      { answered: () => call.connected.fired, replaced: (reason) => call.end(`redialled (${reason})`) },
    );
    call.onEnded = () => this.limits.ended(session.id);
    call.committedAt = Date.now();
    call.outbox.documentExists();
    call.startRingTimer(ringSeconds);
    await options.beforeL1;
    call.listenToSession();
    return call;
  }

  /** Callee step 1: the long-lived incoming-calls query. */
  listenForCalls(): IncomingCalls {
    return new IncomingCalls(this.db, this.uid);
  }

  /** Callee step 3: accepts a ringing call (the peer-candidates listener first, buffered; answer and own candidates in one batch). */
  async accept(ring: Ring): Promise<NativeCall> {
    const pc = this.peerConnection();
    const session = doc(this.db, "webrtc_sessions", ring.sessionId);
    const call = new NativeCall(this.db, pc, session, "callee");
    this.calls.push(call);
    pc.ondatachannel = (event) => call.openChannel(event.channel);
    call.listenToPeer();
    await call.peerAttached.wait();
    if (call.ended.fired) return call;
    await pc.setRemoteDescription({ type: "offer", sdp: ring.offerSdp });
    call.remoteDescriptionSet();
    await pc.setLocalDescription(await pc.createAnswer());
    const batch = writeBatch(this.db);
    batch.update(session, { answer: { type: "answer", sdp: pc.localDescription?.sdp } });
    batch.set(call.ownCandidates, call.outbox.createFields(ring.callerId, this.uid));
    try {
      await batch.commit();
    } catch (error) {
      // permission-denied: ended, answered elsewhere, or past the deadline: a missed call.
      call.end(`answer refused: ${(error as Error).message}`);
      return call;
    }
    call.outbox.documentExists();
    return call;
  }

  /** Closes every peer connection and listener this app opened, then Firestore. */
  async close(): Promise<void> {
    for (const call of this.calls) call.close();
    await this.shutdown();
  }
}

/** A call as the docs' incoming-calls query shows it ringing. */
export interface Ring {
  sessionId: string;
  callerId: string;
  offerSdp: string;
}

/** The incoming-calls query with the ringing rules of "The ring deadline". */
export class IncomingCalls {
  private readonly firstSeen = new Map<string, number>();
  private readonly ringing = new Map<string, Ring>();
  private readonly changes = new Set<() => void>();
  private synced = false;
  private readonly unsubscribe: () => void;
  /** Set when the incoming-calls query fails. */
  failure: Error | undefined;
  /** Fires with the incoming-calls query's first snapshot from the server. */
  readonly attached = new Signal("the incoming-calls query's first server snapshot");

  constructor(db: Firestore, uid: string) {
    this.unsubscribe = onSnapshot(
      incomingCallsQuery(db, uid),
      { includeMetadataChanges: true },
      (snapshot) => {
        if (snapshot.metadata.fromCache) return;
        this.ringing.clear();
        for (const document of snapshot.docs) {
          const data = document.data({ serverTimestamps: "estimate" });
          if (this.rings(document.id, data, !this.synced)) {
            this.ringing.set(document.id, { sessionId: document.id, callerId: data.caller_id as string, offerSdp: (data.offer as { sdp: string }).sdp });
          }
        }
        this.synced = true;
        this.attached.resolve();
        this.changes.forEach((check) => check());
      },
      (error) => {
        this.failure = error;
        this.attached.reject(error);
        this.changes.forEach((check) => check());
      },
    );
  }

  private rings(id: string, data: DocumentData, inFirstSnapshot: boolean): boolean {
    if (data.answer !== null || data.end_request !== null) return false;
    const ringMillis = (data.ring_seconds as number) * 1_000;
    const seen = this.firstSeen.get(id) ?? performance.now();
    this.firstSeen.set(id, seen);
    if (performance.now() - seen >= ringMillis) return false;
    if (!inFirstSnapshot) return true;
    const createdAt = (data.created_at as { toMillis(): number }).toMillis();
    return createdAt + ringMillis + CLOCK_TOLERANCE_MS > Date.now();
  }

  /** Resolves with the first ringing call from `callerId`. */
  waitForRinging(callerId: string, timeoutMs = 20_000): Promise<Ring> {
    return this.waitUntil(`a call from ${callerId} to ring`, () => [...this.ringing.values()].find((ring) => ring.callerId === callerId), timeoutMs);
  }

  /** Resolves once the session no longer rings (cancelled, answered, or ended). */
  waitForSilence(sessionId: string, timeoutMs = 20_000): Promise<true> {
    return this.waitUntil(`session ${sessionId} to stop ringing`, () => (this.ringing.has(sessionId) ? undefined : true), timeoutMs);
  }

  private waitUntil<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return waitOnChanges(what, this.changes, () => (this.synced ? probe() : undefined), () => this.failure, timeoutMs);
  }

  /** Detaches the incoming-calls query. */
  stop(): void {
    this.unsubscribe();
  }
}

/**
 * "Sending candidates": entries wait here until the sender's document exists, go into its
 * create (up to 6), then are appended up to 6 per write, one write at a time.
 */
class Outbox {
  private readonly queue: Entry[] = [];
  private exists = false;
  private writing = false;
  private stopped = false;
  private total = 0;
  private last: Pick<Entry, "sdpMid" | "sdpMLineIndex"> = { sdpMid: "0", sdpMLineIndex: 0 };
  /** Fires once end-of-candidates has been written. */
  readonly flushed = new Signal("this side's end-of-candidates to be written");

  constructor(
    private readonly role: Role,
    private readonly target: DocumentReference,
  ) {}

  /** A gathered candidate, written as `toJSON()` gives it (usernameFragment included). */
  add(candidate: RTCIceCandidate): void {
    const entry = candidate.toJSON() as Entry;
    this.last = { sdpMid: entry.sdpMid, sdpMLineIndex: entry.sdpMLineIndex };
    this.push(entry);
  }

  /** End-of-candidates, with the last candidate's mid and index. */
  end(): void {
    this.push({ candidate: "", ...this.last });
  }

  private push(entry: Entry): void {
    this.total += 1;
    if (this.total > 20) return this.flushed.reject(new Error(`more than 20 entries on the ${this.role}'s side: the rules would refuse them`));
    this.queue.push(entry);
    void this.flush();
  }

  /** The sender's document, holding what was gathered so far (up to 6). */
  createFields(callerId: string, calleeId: string): DocumentData {
    return {
      sender: this.role,
      caller_id: callerId,
      callee_id: calleeId,
      candidates: this.take(),
      created_at: serverTimestamp(),
      expire_at: new Date(Date.now() + TWENTY_FIVE_HOURS),
    };
  }

  /** The create committed: appends may follow. */
  documentExists(): void {
    this.exists = true;
    void this.flush();
  }

  /** Nothing more is written (hang-up deletes the document). */
  stop(): void {
    this.stopped = true;
  }

  private take(): Entry[] {
    // The rules take at most 6 entries per write: 7 would refuse the whole create or append.
    const batch = this.queue.splice(0, LIMITS.maxCandidatesPerWrite);
    if (batch.some((entry) => entry.candidate === "")) this.flushed.resolve();
    return batch;
  }

  private async flush(): Promise<void> {
    if (!this.exists || this.writing || this.stopped || this.queue.length === 0) return;
    this.writing = true;
    try {
      await updateDoc(this.target, { candidates: arrayUnion(...this.take()) });
    } catch (error) {
      if (!this.stopped) this.flushed.reject(error as Error);
    } finally {
      this.writing = false;
    }
    await this.flush();
  }
}

/** One side of a call, from the peer connection to the hang-up. */
export class NativeCall {
  readonly ownCandidates: DocumentReference;
  readonly outbox: Outbox;
  /** The first state that counted as connected (`connected` or `completed`) and when. */
  readonly connected = new Signal<{ state: string; at: number }>("the peer connection to connect");
  /** How this side learned that the call ended. */
  readonly ended = new Signal<string>("the call to end");
  /** Fires with the first snapshot of the peer's candidates listener. */
  readonly peerAttached = new Signal("the peer's candidates listener to attach");
  /** The texts this side sends and receives over its data channel. */
  readonly chat: ChatChannel;
  /** When the caller's create batch committed (epoch ms). */
  committedAt = 0;
  /** Whether the session listener's first snapshot already held the answer. */
  answerInFirstSnapshot = false;
  /** Every state libwebrtc went through: `ice:new`, `connection:connected`, … */
  readonly states: string[] = [];
  private readonly buffered: Array<{ index: number; entry: Entry }> = [];
  private remoteSet = false;
  // Each of the peer's entries judged once, on its own ("One entry at a time" in the docs).
  private readonly inbox = new CandidateInbox();
  /** The peer's entries this side skipped, one line each: `candidates[i]: why`. */
  readonly skipped: string[] = [];
  private readonly stops: Array<() => void> = [];
  private ringTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly db: Firestore,
    readonly pc: RTCPeerConnection,
    readonly session: DocumentReference,
    readonly role: Role,
  ) {
    this.ownCandidates = doc(session, "ice_candidates", role);
    this.chat = new ChatChannel(`the ${role}`);
    this.outbox = new Outbox(role, this.ownCandidates);
    pc.onicecandidate = (event) => (event.candidate && event.candidate.candidate !== "" ? this.outbox.add(event.candidate) : undefined);
    // As on Android (no null-candidate event): end-of-candidates when gathering is complete.
    pc.onicegatheringstatechange = () => (pc.iceGatheringState === "complete" ? this.outbox.end() : undefined);
    pc.oniceconnectionstatechange = () => this.onState(`ice:${pc.iceConnectionState}`, ["connected", "completed"].includes(pc.iceConnectionState));
    pc.onconnectionstatechange = () => this.onState(`connection:${pc.connectionState}`, pc.connectionState === "connected");
  }

  /** The session id. */
  get sessionId(): string {
    return this.session.id;
  }

  private onState(state: string, isConnected: boolean): void {
    this.states.push(state);
    if (!isConnected || this.connected.fired) return;
    this.connected.resolve({ state, at: Date.now() });
    // Caller step 5: only the caller reports, once; a refusal means the call has ended.
    if (this.role === "caller") {
      updateDoc(this.session, { connectivity: { by: "caller", at: serverTimestamp() } }).catch(() => undefined);
    }
  }

  /** Caller step 4: the ring timer, on a monotonic clock from the commit. */
  startRingTimer(ringSeconds: number): void {
    this.ringTimer = setTimeout(() => void this.hangUp("timeout"), ringSeconds * 1_000);
  }

  /** Caller step 4: the session listener on the session document, every snapshot handled as a state. */
  listenToSession(): void {
    let first = true;
    const stop = onSnapshot(this.session, { includeMetadataChanges: true }, (snapshot) => {
      const data = snapshot.data({ serverTimestamps: "estimate" });
      // The local cache holds this side's own create: the first snapshot from the server counts.
      const wasFirst = first && !snapshot.metadata.fromCache;
      if (!snapshot.metadata.fromCache) first = false;
      if (!data) return this.end("the session is gone");
      if (data.end_request !== null || data.status === "ended") {
        return this.end(`session: ${(data.end_request as { reason?: string } | null)?.reason ?? data.ended_reason}`);
      }
      if (data.answer === null) return;
      this.answerInFirstSnapshot = wasFirst;
      stop();
      clearTimeout(this.ringTimer);
      this.listenToPeer();
      void this.pc
        .setRemoteDescription(data.answer as RTCSessionDescriptionInit)
        .then(() => this.remoteDescriptionSet())
        .catch((error: Error) => this.end(`setRemoteDescription failed: ${error.message}`));
    }, (error) => this.end(`the session listener failed: ${error.message}`));
    this.stops.push(stop);
  }

  /** The peer-candidates listener: the peer's candidates; buffered until the remote description is set; deletion = ended. */
  listenToPeer(): void {
    const peer = doc(this.session, "ice_candidates", this.role === "caller" ? "callee" : "caller");
    const stop = onSnapshot(peer, { includeMetadataChanges: true }, (snapshot) => {
      if (snapshot.metadata.fromCache) return;
      if (!snapshot.exists()) {
        this.end("the peer's candidates document is gone");
      } else {
        const all: unknown = snapshot.get("candidates");
        const { usable, skipped } = this.inbox.fresh(Array.isArray(all) ? all : []);
        for (const { index, problem } of skipped) this.skipped.push(`candidates[${index}]: ${problem}`);
        for (const { index, entry } of usable) this.receive(index, entry);
      }
      this.peerAttached.resolve();
    }, (error) => this.end(`peer candidates listener failed: ${error.message}`));
    this.stops.push(stop);
  }

  private receive(index: number, entry: Entry): void {
    if (!this.remoteSet) {
      this.buffered.push({ index, entry });
    } else if (entry.candidate !== "") {
      // Android and iOS skip end-of-candidates; so does this client, to stay literal. A refusal
      // skips this one entry; after the end, a closed peer connection refuses everything.
      this.pc.addIceCandidate(entry).catch((error: Error) => {
        if (!this.ended.fired) this.skipped.push(`candidates[${index}]: addIceCandidate refused it (${error.message})`);
      });
    }
  }

  /** The remote description is set: adds what was buffered. */
  remoteDescriptionSet(): void {
    this.remoteSet = true;
    for (const { index, entry } of this.buffered.splice(0)) this.receive(index, entry);
  }

  /** Hang-up: deletes the own candidates document, then writes the end request, without waiting in between. */
  async hangUp(reason: "hangup" | "cancel" | "timeout" | "failed"): Promise<void> {
    clearTimeout(this.ringTimer);
    this.outbox.stop();
    const deleted = deleteDoc(this.ownCandidates);
    const requested = updateDoc(this.session, { end_request: { by: this.role, reason, at: serverTimestamp() } });
    try {
      await Promise.all([deleted, requested]);
      this.end(`hung up (${reason})`);
    } catch (error) {
      this.end(`the call had already ended (${(error as Error).message})`);
    }
  }

  /** Sends a text over the data channel. */
  send(text: string): void {
    this.chat.send(text);
  }

  /** Resolves when `text` has arrived over the data channel. */
  waitForMessage(text: string, timeoutMs = 20_000): Promise<void> {
    return this.chat.waitFor(text, timeoutMs);
  }

  /** Wires a data channel (created by the caller, announced to the callee). */
  openChannel(channel: RTCDataChannel): void {
    this.chat.attach(channel);
  }

  /** Resolves once the data channel is open. */
  get channelOpen(): Signal {
    return this.chat.open;
  }

  /** Told when this call ends (the caller's app releases its limits entry). */
  onEnded: (() => void) | undefined;

  /** The call is over for this side: listeners stop, the peer connection closes. */
  end(how: string): void {
    if (this.ended.fired) return;
    this.ended.resolve(how);
    this.onEnded?.();
    this.peerAttached.resolve();
    this.close();
  }

  /** Stops listeners and timers and closes the peer connection (idempotent). */
  close(): void {
    clearTimeout(this.ringTimer);
    this.outbox.stop();
    this.stops.splice(0).forEach((stop) => stop());
    if (this.pc.connectionState !== "closed") this.pc.close();
  }
}
