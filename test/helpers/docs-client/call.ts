// One side of a call, from its peer connection to its end: the steps of docs/signaling.md's
// "Client protocol" on libwebrtc's JS bindings (@roamhq/wrtc) and the Firebase JS SDK, with
// raw field maps.
import {
  deleteDoc,
  doc,
  getDocFromServer,
  onSnapshot,
  serverTimestamp,
  updateDoc,
  type DocumentReference,
  type DocumentSnapshot,
} from "firebase/firestore";
import { Signal } from "../snapshots";
import { ChatChannel } from "../chat-channel";
import { DISCONNECTED_GRACE_MS, MAX_GENERATION, RECOVERY_WINDOW_MS, RESTART_ATTEMPT_MS, CANDIDATES, type Role } from "./constants";
import { FIRST_PEER_STATE, peerSnapshot, sessionAction, type PeerAction, type PeerState } from "./listeners";
import { Outbox } from "./outbox";
import { iceUfragOf } from "./sdp";

/** The reasons an end request may carry. */
export type EndReason = "cancel" | "timeout" | "reject" | "busy" | "hangup" | "failed";

/** What a call needs from its app: fresh `iceServers` good for at least `validForMs` (the cache). */
export interface CallEnvironment {
  iceServers(validForMs: number): Promise<RTCIceServer[]>;
  iceTransportPolicy: RTCIceTransportPolicy;
  /** Told once when the call ends (the caller's app forgets it as live). */
  ended(call: DocsCall): void;
}

/** How a call ends that a redial to the same callee replaced. */
export const REPLACED = "replaced by a redial to the same callee";

/** Reads a document from the server, retried for a moment while the SDK says it is offline ("Every write is safe to repeat"). */
export async function readFromServer(ref: DocumentReference): Promise<DocumentSnapshot | "permission-denied"> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await getDocFromServer(ref);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "permission-denied") return "permission-denied";
      if (code !== "unavailable" || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Whether a failed write was refused by the rules. */
export function isPermissionDenied(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "permission-denied";
}

export class DocsCall {
  readonly own: DocumentReference;
  readonly peer: DocumentReference;
  readonly outbox: Outbox;
  /** The first state that counted as connected. */
  readonly connected = new Signal<string>("the peer connection to connect");
  /** How this side learned that the call ended. */
  readonly ended = new Signal<string>("the call to end");
  /** The peer-candidates listener's first server snapshot. */
  readonly peerAttached = new Signal("the peer's candidates listener to attach");
  readonly chat: ChatChannel;
  /** The peer's entries this side skipped: `candidates[i]: reason`. */
  readonly skipped: string[] = [];
  /** libwebrtc's states, `ice:checking`, `connection:connected`, … */
  readonly states: string[] = [];
  /** Set while a redial's batch ends this call: the end it sees is that batch's. */
  replacing = false;
  /** Whether the callee has answered (caller: its answer applied; callee: its answer batch committed). */
  answered = false;
  /** Generations this side negotiated after the first (each restart it offered or answered). */
  readonly restarts: number[] = [];
  private peerState: PeerState = { ...FIRST_PEER_STATE };
  private remoteSet = false;
  private buffered: Array<{ index: number; entry: RTCIceCandidateInit }> = [];
  /** Peer actions run one after another: a description must be set before the entries after it. */
  private work: Promise<void> = Promise.resolve();
  private readonly stops: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private reported = false;
  private requested = 0;
  private restarting = false;
  private brokenAt: number | undefined;
  private recoveryTimers: NodeJS.Timeout[] = [];

  constructor(
    readonly pc: RTCPeerConnection,
    readonly session: DocumentReference,
    readonly role: Role,
    private readonly env: CallEnvironment,
  ) {
    this.own = doc(session, CANDIDATES, role);
    this.chat = new ChatChannel(`the ${role}`);
    this.peer = doc(session, CANDIDATES, role === "caller" ? "callee" : "caller");
    this.outbox = new Outbox(this.own, (error) => void this.appendFailed(error));
    pc.onicecandidate = (event) => this.outbox.gathered(event.candidate);
    pc.oniceconnectionstatechange = () => this.onState(`ice:${pc.iceConnectionState}`);
    pc.onconnectionstatechange = () => this.onState(`connection:${pc.connectionState}`);
  }

  get sessionId(): string {
    return this.session.id;
  }

  /** This side's ICE generation. */
  get generation(): number {
    return this.outbox.generation;
  }

  private onState(state: string): void {
    this.states.push(state);
    const ice = this.pc.iceConnectionState;
    if (this.pc.connectionState === "connected" || ice === "connected" || ice === "completed") {
      this.recovered();
      if (!this.connected.fired) this.connected.resolve(state);
      // Caller step 5: only the caller reports, once; a refusal means the call has ended.
      if (this.role === "caller" && !this.reported) {
        this.reported = true;
        updateDoc(this.session, { connectivity: { by: "caller", at: serverTimestamp() } }).catch(() => undefined);
      }
    } else if (ice === "failed" || this.pc.connectionState === "failed") {
      this.broke();
    } else if (ice === "disconnected") {
      this.later(DISCONNECTED_GRACE_MS, () => (this.pc.iceConnectionState === "disconnected" ? this.broke() : undefined));
    }
  }

  private later(ms: number, then: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      then();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  /** "ICE restart" step 1 and 6: the path broke; ask for (or make) a restart every 10 s, give up after 30 s. */
  private broke(): void {
    if (this.ended.fired || !this.connected.fired || this.brokenAt !== undefined) return;
    this.brokenAt = Date.now();
    const attempt = (): void => {
      if (this.role === "caller") void this.restartIce();
      else void this.requestRestart();
      this.recoveryTimers.push(this.later(RESTART_ATTEMPT_MS, attempt));
    };
    this.recoveryTimers.push(this.later(RECOVERY_WINDOW_MS, () => void this.hangUp("failed")));
    attempt();
  }

  private recovered(): void {
    this.brokenAt = undefined;
    for (const timer of this.recoveryTimers.splice(0)) {
      clearTimeout(timer);
      this.timers.delete(timer);
    }
  }

  /** Caller step 4: the ring timer, on a monotonic clock from the commit. */
  startRingTimer(ringSeconds: number): void {
    this.later(ringSeconds * 1_000, () => (this.answered ? undefined : void this.hangUp("timeout")));
  }

  /** Caller step 4: the session listener, until the answer is in. */
  listenToSession(): void {
    const stop = onSnapshot(
      this.session,
      { includeMetadataChanges: true },
      (snapshot) => {
        if (this.answered || this.ended.fired) return;
        const action = sessionAction({ fromCache: snapshot.metadata.fromCache, exists: snapshot.exists(), data: snapshot.data() });
        if (action.action === "ended") return action.deleteOwnCandidates ? this.learnedEnd(`session: ${action.reason}`) : this.finish(`session: ${action.reason}`);
        if (action.action !== "apply-answer") return;
        this.answered = true;
        stop();
        this.listenToPeer();
        this.run(async () => {
          await this.pc.setRemoteDescription({ type: "answer", sdp: action.sdp });
          this.remoteDescriptionSet();
        });
      },
      (error) => this.learnedEnd(`the session listener failed: ${error.message}`),
    );
    this.stops.push(stop);
  }

  /** The peer-candidates listener, with metadata changes so that the server's "missing" arrives. */
  listenToPeer(): void {
    const stop = onSnapshot(
      this.peer,
      { includeMetadataChanges: true },
      (snapshot) => {
        if (this.ended.fired) return;
        const { actions, state } = peerSnapshot(this.role, this.peerState, { fromCache: snapshot.metadata.fromCache, exists: snapshot.exists(), data: snapshot.data() });
        this.peerState = state;
        for (const action of actions) this.perform(action);
        if (!snapshot.metadata.fromCache) this.peerAttached.resolve();
      },
      (error) => this.learnedEnd(`the peer-candidates listener failed: ${error.message}`),
    );
    this.stops.push(stop);
  }

  private perform(action: PeerAction): void {
    switch (action.type) {
      case "ignore-snapshot":
        return;
      case "ended":
        return this.learnedEnd("the peer's candidates document is gone");
      case "skip":
        this.skipped.push(`candidates[${action.index}]: ${action.reason}`);
        return;
      case "skip-generation":
        this.skipped.push(`generation ${action.generation}: ${action.reason}`);
        return;
      case "skip-candidates":
        this.skipped.push(`candidates: ${action.reason}`);
        return;
      case "add":
        return this.receive(action.index, action.entry);
      case "end-of-candidates":
        // Skipped as org.webrtc and WebRTC.framework must (ICE completes without it).
        return;
      case "apply-restart-offer":
        return this.answerRestart(action.generation, action.sdp);
      case "apply-restart-answer":
        this.remoteSet = false;
        this.buffered = [];
        return this.run(async () => {
          await this.pc.setRemoteDescription({ type: "answer", sdp: action.sdp });
          this.remoteDescriptionSet();
        });
      case "restart":
        return void this.restartIce();
    }
  }

  /** Runs negotiation work after what is already running; a failure ends the call. */
  private run(step: () => Promise<void>): void {
    this.work = this.work.then(step).catch((error: Error) => {
      if (!this.ended.fired) void this.hangUp("failed", `negotiation failed: ${error.message}`);
    });
  }

  private receive(index: number, entry: RTCIceCandidateInit): void {
    if (!this.remoteSet) {
      this.buffered.push({ index, entry });
      return;
    }
    // One refusal skips this one entry; after the end a closed connection refuses everything.
    this.pc.addIceCandidate(entry).catch((error: Error) => {
      if (!this.ended.fired) this.skipped.push(`candidates[${index}]: addIceCandidate refused it (${error.message})`);
    });
  }

  /** The remote description is set: adds what was buffered. */
  remoteDescriptionSet(): void {
    this.remoteSet = true;
    for (const { index, entry } of this.buffered.splice(0)) this.receive(index, entry);
  }

  /** "ICE restart" step 3: the caller offers the next generation, in one write to its own document. */
  async restartIce(): Promise<void> {
    if (this.role !== "caller" || !this.answered || this.ended.fired || this.restarting || this.generation >= MAX_GENERATION) {
      if (!this.restarting) this.peerState = { ...this.peerState, offering: false };
      return;
    }
    this.restarting = true;
    this.peerState = { ...this.peerState, offering: true };
    try {
      const iceServers = await this.env.iceServers(RECOVERY_WINDOW_MS);
      this.pc.setConfiguration({ iceServers, iceTransportPolicy: this.env.iceTransportPolicy });
      const offer = await this.pc.createOffer({ iceRestart: true });
      const generation = this.generation + 1;
      this.outbox.restart(generation, iceUfragOf(offer.sdp ?? ""));
      await this.pc.setLocalDescription(offer);
      this.peerState = { ...this.peerState, generation };
      this.restarts.push(generation);
      await updateDoc(this.own, { generation, description: { type: "offer", sdp: offer.sdp }, candidates: this.outbox.take() });
      this.outbox.documentReady();
    } catch (error) {
      if (!this.ended.fired && !(await this.ownRestartLanded(error))) void this.hangUp("failed", `the restart offer failed: ${(error as Error).message}`);
    } finally {
      this.restarting = false;
      this.peerState = { ...this.peerState, offering: false };
    }
  }

  /** "ICE restart" step 4: the callee answers the caller's generation in its own document. */
  private answerRestart(generation: number, sdp: string): void {
    this.remoteSet = false;
    this.buffered = [];
    this.run(async () => {
      // A restart allocates on TURN again: the credential must still be good.
      const iceServers = await this.env.iceServers(RECOVERY_WINDOW_MS);
      this.pc.setConfiguration({ iceServers, iceTransportPolicy: this.env.iceTransportPolicy });
      await this.pc.setRemoteDescription({ type: "offer", sdp });
      this.remoteDescriptionSet();
      const answer = await this.pc.createAnswer();
      this.outbox.restart(generation, iceUfragOf(answer.sdp ?? ""));
      await this.pc.setLocalDescription(answer);
      this.restarts.push(generation);
      try {
        await updateDoc(this.own, { generation, description: { type: "answer", sdp: answer.sdp }, candidates: this.outbox.take() });
      } catch (error) {
        if (!(await this.ownRestartLanded(error))) throw error;
      }
      this.outbox.documentReady();
    });
  }

  /** "ICE restart" step 2: the callee asks the caller for the next generation (once per generation). */
  async requestRestart(): Promise<void> {
    const generation = this.peerState.peerGeneration + 1;
    if (this.role !== "callee" || this.ended.fired || generation <= this.requested || generation > MAX_GENERATION) return;
    this.requested = generation;
    try {
      await updateDoc(this.own, { restart_request: generation });
    } catch (error) {
      if (!isPermissionDenied(error)) throw error;
      const read = await readFromServer(this.own);
      const landed = read !== "permission-denied" && read.exists() && Number(read.get("restart_request")) >= generation;
      if (!landed) this.learnedEnd(`the restart request was refused: ${(error as Error).message}`);
    }
  }

  /** A refused restart write that is the copy of one that committed ("Every write is safe to repeat"). */
  private async ownRestartLanded(error: unknown): Promise<boolean> {
    if (!isPermissionDenied(error)) return false;
    const read = await readFromServer(this.own);
    return read !== "permission-denied" && read.exists() && read.get("generation") === this.generation && read.get("description.sdp") === this.pc.localDescription?.sdp;
  }

  /** A refused append: the copy of one that committed goes on; anything else means the call ended. */
  private async appendFailed(error: Error): Promise<void> {
    if (this.ended.fired) return;
    if (isPermissionDenied(error)) {
      const read = await readFromServer(this.own);
      const mine = this.outbox.written.filter((item) => item.generation === this.generation).map((item) => JSON.stringify(item.entry));
      const there = read !== "permission-denied" && read.exists() ? ((read.get("candidates") as unknown[]) ?? []).map((entry) => JSON.stringify(entry)) : [];
      if (mine.every((entry) => there.includes(entry))) return;
    }
    this.learnedEnd(`an append was refused: ${error.message}`);
  }

  /** "The side that learns of the end deletes its own candidates document", without checking that it exists. */
  learnedEnd(how: string): void {
    if (this.ended.fired) return;
    if (this.replacing) return this.finish(REPLACED);
    this.outbox.stop();
    deleteDoc(this.own).catch(() => undefined);
    this.finish(how);
  }

  /** Hang-up: the deletion of the own document, then the end request, back to back. */
  async hangUp(reason: EndReason, why?: string): Promise<void> {
    if (this.ended.fired) return;
    this.outbox.stop();
    const deleted = deleteDoc(this.own);
    const requested = updateDoc(this.session, { end_request: { by: this.role, reason, at: serverTimestamp() } });
    this.finish(why ?? `hung up (${reason})`);
    // A refusal of either means the call had already ended: nothing to do.
    await Promise.allSettled([deleted, requested]);
  }

  /** Over for this side without any write (its end is written by someone else, e.g. a redial's batch). */
  finish(how: string): void {
    if (this.ended.fired) return;
    this.ended.resolve(how);
    this.outbox.stop();
    this.peerAttached.resolve();
    this.stops.splice(0).forEach((stop) => stop());
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
    if (this.pc.connectionState !== "closed") this.pc.close();
    this.env.ended(this);
  }

  /** Wires a data channel (created by the caller, announced to the callee). */
  openChannel(channel: RTCDataChannel): void {
    this.chat.attach(channel);
  }

  /** Resolves once the data channel is open. */
  get channelOpen(): Signal {
    return this.chat.open;
  }

  /** Sends a text over the data channel. */
  send(text: string): void {
    this.chat.send(text);
  }

  /** Resolves when `text` has arrived over the data channel. */
  waitForMessage(text: string, timeoutMs = 20_000): Promise<void> {
    return this.chat.waitFor(text, timeoutMs);
  }
}
