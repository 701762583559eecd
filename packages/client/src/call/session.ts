import {
  ICE_RESTART,
  answerSchema,
  candidateEntrySchema,
  describeIssues,
  offerSchema,
  peerOf,
  receivedEntryProblem,
  sessionSchema,
  type CandidateEntry,
  type EndRequestReason,
  type EndedReason,
  type Role,
  type Session,
} from "@webrtc-lite/contract";
import type { Call, CallOptions } from "./call.js";
import { CallLimitError } from "./limits.js";
import { INITIAL_PEER_CANDIDATES_STATE, peerCandidatesStep, type PeerCandidatesState } from "./listeners.js";
import { CandidateOutbox, type ReceivedEntry } from "./outbox.js";
import { iceUfragOf, type GatheredCandidates, type IceCandidateFields, type PeerConnection } from "./peer.js";
import { IceRecovery } from "./recovery.js";
import { CallError, nextCallState, type CallEvent, type CallState } from "./state.js";
import type { ListenedSnapshot, SignalingStore, Unsubscribe } from "./store.js";

const DEFAULT_BATCH_DELAY_MS = 250;
/** How often a `reconnecting` call reads its peer connection's states again. */
const RECHECK_MS = 1_000;

/** Turns a Firestore or WebRTC failure into a `CallError` that says what was being done. */
export function callErrorFrom(error: unknown, doing: string): CallError {
  if (error instanceof CallError) return error;
  if (error instanceof CallLimitError) return new CallError("resource-exhausted", error.message);
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "permission-denied") {
    return new CallError(
      "permission-denied",
      `Firestore refused to ${doing}: the user is not signed in, is not a participant, or the call has already moved on.`,
    );
  }
  return new CallError("unavailable", `Could not ${doing}: ${detail}`);
}

/** Checks a session document against the contract, or throws an `invalid-data` `CallError` naming the field. */
export function readSessionOrFail(raw: Record<string, unknown>, sessionId: string): Session {
  const parsed = sessionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CallError("invalid-data", `Session ${sessionId} in Firestore does not match the signaling contract: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * One entry as this side writes it: `RTCIceCandidate.toJSON()`'s fields, with
 * `usernameFragment` only when the contract accepts it, or `undefined` when the rules would
 * refuse the entry (and with it the whole write).
 */
function outgoingEntry(candidate: IceCandidateFields): CandidateEntry | undefined {
  const { sdpMid, sdpMLineIndex, usernameFragment } = candidate;
  const entry: CandidateEntry = { candidate: candidate.candidate, sdpMid, sdpMLineIndex };
  const withFragment = typeof usernameFragment === "string" ? { ...entry, usernameFragment } : entry;
  if (candidateEntrySchema.safeParse(withFragment).success) return withFragment;
  return candidateEntrySchema.safeParse(entry).success ? entry : undefined;
}

/** `work`, or a rejection with `why` once `ms` have passed. */
function withTimeout<T>(work: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function iceFailed(why: string): CallError {
  return new CallError("ice-failed", `ICE could not connect the two sides: ${why}.`);
}

/**
 * Calls `onChange` when the browser reports a network change (`online`, or a change of
 * `navigator.connection`), and returns the function that stops it; nothing where there is no
 * such API (Node, React Native: the app calls `Call.restartIce()` from its own network monitor).
 */
function watchNetworkChanges(onChange: () => void): () => void {
  const target = globalThis as { addEventListener?: unknown; removeEventListener?: unknown; navigator?: { connection?: EventTarget } };
  const stops: Array<() => void> = [];
  if (typeof target.addEventListener === "function" && typeof target.removeEventListener === "function") {
    const window = target as unknown as EventTarget;
    window.addEventListener("online", onChange);
    stops.push(() => window.removeEventListener("online", onChange));
  }
  const connection = target.navigator?.connection;
  if (connection && typeof connection.addEventListener === "function") {
    connection.addEventListener("change", onChange);
    stops.push(() => connection.removeEventListener("change", onChange));
  }
  return () => stops.splice(0).forEach((stop) => stop());
}

/** The SDP of a description `peerCandidatesStep` found usable. */
function sdpOf(description: unknown): string {
  return (description as { sdp: string }).sdp;
}

/** The state machine of one call, wired to its peer connection and its Firestore documents. */
export class CallSession implements Call {
  private current: CallState;
  private readonly listeners = new Set<(state: CallState) => void>();
  private readonly subscriptions: Unsubscribe[] = [];
  private outbox = new CandidateOutbox();
  private waitingForRemote: ReceivedEntry[] = [];
  private readonly warned = new Set<string>();
  private lastMid: Pick<CandidateEntry, "sdpMid" | "sdpMLineIndex"> = { sdpMid: null, sdpMLineIndex: null };
  private ownDocument = false;
  private endDeletesDocument = false;
  private remoteReady = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private ringTimer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> = Promise.resolve();
  /**
   * What this side remembers of the other side's candidates document (`peerCandidatesStep`),
   * and its own ICE generation: 0 for the call's first negotiation, one more per restart.
   */
  private peer: PeerCandidatesState = INITIAL_PEER_CANDIDATES_STATE;
  /** The `ice-ufrag` of this side's current local description; candidates of another are stale. */
  private localUfrag: string | undefined;
  /** Callee: the last generation it asked the caller to restart into. */
  private requested = 0;
  /** Negotiation steps (restart offers, answers) run one after another. */
  private negotiating: Promise<void> = Promise.resolve();
  private readonly recovery: IceRecovery | undefined;
  private readonly stopNetworkWatch: () => void;
  private everConnected = false;
  private recheckTimer: ReturnType<typeof setInterval> | undefined;
  /** Caller: a restart offer is waiting its turn. */
  private restartQueued = false;
  /** Caller: the callee's first answer is applied, so the rules take a restart. */
  private remoteAnswered = false;

  constructor(
    private readonly store: SignalingStore,
    private readonly pc: PeerConnection,
    readonly role: Role,
    readonly sessionId: string,
    readonly peerId: string,
    private readonly options: CallOptions,
    candidates: GatheredCandidates,
  ) {
    this.current = { phase: "ringing" };
    candidates((candidate) => this.gathered(candidate));
    pc.addEventListener("connectionstatechange", () => this.connectionChanged());
    this.recovery =
      options.iceRestart === false
        ? undefined
        : new IceRecovery({ attempt: () => this.attemptRestart(), giveUp: () => this.giveUp() }, options.iceRestart);
    pc.addEventListener("iceconnectionstatechange", () => this.iceConnectionChanged());
    this.stopNetworkWatch = this.recovery ? watchNetworkChanges(() => this.restartIce()) : () => undefined;
  }

  restartIce(): void {
    if (this.current.phase === "connected" || this.current.phase === "reconnecting" || this.current.phase === "connecting") {
      this.recovery?.networkChanged();
    }
  }

  get state(): CallState {
    return this.current;
  }

  onStateChange(listener: (state: CallState) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async hangUp(): Promise<void> {
    if (this.current.phase === "ended") return;
    await this.requestEnd(this.role === "caller" && this.current.phase === "ringing" ? "cancel" : "hangup");
  }

  /** Applies an event; on `ended` it stops every listener and timer and closes the peer connection. */
  apply(event: CallEvent): void {
    const before = this.current;
    this.current = nextCallState(before, event);
    if (this.current === before) return;
    // The app hears of the end before the peer connection is closed: closing can block for
    // tens of milliseconds (libwebrtc joins its threads), and the user is waiting for the end.
    try {
      this.listeners.forEach((listener) => listener(this.current));
    } finally {
      if (this.current.phase === "ended") this.release();
    }
  }

  /** Ends the call here with `error`, and tells the other side (best effort). */
  fail(error: unknown, doing: string, reason: EndRequestReason = "hangup"): void {
    if (this.current.phase === "ended") return;
    this.apply({ type: "failed", error: callErrorFrom(error, doing) });
    this.sendEnd(reason).catch(() => undefined);
  }

  /** Ends the call here with `error`, writing nothing: what the other side sees is not this side's to change. */
  failHere(error: unknown, doing: string): void {
    if (this.current.phase === "ended") return;
    this.apply({ type: "failed", error: callErrorFrom(error, doing) });
  }

  /** Ends the call here and writes the end request. */
  async requestEnd(reason: EndRequestReason): Promise<void> {
    // The write goes out first, so the other side's wait does not include closing this side.
    const sent = this.sendEnd(reason);
    this.apply({ type: "ended", reason });
    await sent;
  }

  /** Reports a problem that does not end the call, once per kind (`options.onWarning`); each skipped entry of the other side is a kind of its own. */
  warn(kind: string, warning: CallError): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.options.onWarning?.(warning);
  }

  /**
   * The deletion of this side's candidates document, once it exists (the other side's listener
   * sees that at once), and the end request right behind it. A refusal means the call had ended
   * already, which is what was asked.
   */
  private async sendEnd(reason: EndRequestReason): Promise<void> {
    try {
      await this.store.requestEnd(this.sessionId, this.role, reason, this.endDeletesDocument);
    } catch (error) {
      const failure = callErrorFrom(error, "end the call");
      if (failure.code !== "permission-denied") throw failure;
    }
  }

  /** What was gathered so far (0–6 entries), for the batch that creates this side's candidates document. */
  firstCandidates(): CandidateEntry[] {
    return this.outbox.take() ?? [];
  }

  /** This side's candidates document may exist (its batch was sent): an end deletes it, missing or not. */
  documentMayExist(): void {
    this.endDeletesDocument = true;
  }

  /** This side's candidates document exists: the rest of its candidates are appended from now on. */
  documentCreated(): void {
    this.endDeletesDocument = true;
    this.ownDocument = true;
    this.scheduleFlush();
  }

  /** The remote description is set: candidates from the other side can be added now. */
  markRemoteReady(): void {
    this.remoteReady = true;
    this.remoteAnswered = true;
    this.addRemoteCandidates(this.waitingForRemote.splice(0));
  }

  /** Listens to the other side's candidates document; its deletion ends the call. */
  watchPeerCandidates(): void {
    this.track(
      this.store.watchCandidates(
        this.sessionId,
        peerOf(this.role),
        (raw) => this.peerCandidatesChanged(raw),
        (error) => this.fail(error, "listen for the other side's ICE candidates"),
      ),
    );
  }

  /**
   * A listener shows that the call has ended (`reason`; `error` when this side cannot know why).
   * With `deleteOwnCandidates` this side's candidates document goes too: with no function
   * running it would keep this side's addresses for 25 h.
   */
  endSignalled(reason: EndedReason, deleteOwnCandidates: boolean, error?: CallError): void {
    if (this.current.phase === "ended") return;
    this.apply(error ? { type: "failed", error } : { type: "ended", reason });
    if (deleteOwnCandidates && this.endDeletesDocument) this.store.deleteOwnCandidates(this.sessionId, this.role).catch(() => undefined);
  }

  /** Keeps a listener to stop when the call ends. */
  track(unsubscribe: Unsubscribe): void {
    if (this.current.phase === "ended") unsubscribe();
    else this.subscriptions.push(unsubscribe);
  }

  /** The caller gives up with `timeout` if nobody answered within the session's `ring_seconds`. */
  startRingTimer(ringSeconds: number): void {
    this.ringTimer = setTimeout(() => {
      if (this.current.phase === "ringing") {
        this.requestEnd("timeout").catch((error: unknown) => this.fail(error, "end the unanswered call"));
      }
    }, ringSeconds * 1_000);
  }

  private gathered(candidate: IceCandidateFields | null): void {
    if (candidate === null || candidate.candidate === "") {
      // The browser's last event carries no m-line; the last candidate's lets a libwebrtc peer
      // (which wants one) apply the marker.
      this.outbox.end(candidate?.sdpMid ?? this.lastMid.sdpMid, candidate?.sdpMLineIndex ?? this.lastMid.sdpMLineIndex);
      this.flush();
      return;
    }
    // A candidate of a generation this side has restarted away from is of no use to anyone.
    if (this.localUfrag && typeof candidate.usernameFragment === "string" && candidate.usernameFragment !== this.localUfrag) return;
    const entry = outgoingEntry(candidate);
    if (!entry) {
      this.warn("local-candidate", new CallError("invalid-data", `This browser gathered an ICE candidate the signaling contract refuses; it was not sent: ${candidate.candidate.slice(0, 80)}`));
      return;
    }
    this.lastMid = { sdpMid: entry.sdpMid, sdpMLineIndex: entry.sdpMLineIndex };
    if (this.outbox.add(entry)) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.ownDocument || this.flushTimer !== undefined) return;
    // A restart's candidates go out as they come: the call is down until they arrive.
    if (this.outbox.complete || this.peer.generation > 0) {
      this.flush();
      return;
    }
    this.flushTimer = setTimeout(() => this.flush(), this.options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.ownDocument || this.current.phase === "ended") return;
    for (let batch = this.outbox.take(); batch; batch = this.outbox.take()) {
      const entries = batch;
      // Chained so that batches land in the order they were gathered.
      this.sending = this.sending
        .then(() => this.store.appendCandidates(this.sessionId, this.role, entries))
        .catch((error: unknown) => this.fail(error, "send ICE candidates"));
    }
  }

  private connectionChanged(): void {
    const state = this.pc.connectionState;
    if (state === "connected") {
      this.connected();
    } else if (state === "failed") {
      if (this.recovery) this.recovery.iceStateChanged("failed");
      else this.fail(iceFailed("neither a direct path nor the TURN relay worked"), "connect", "failed");
    }
  }

  /** libwebrtc reports a lost path here first (`disconnected`), and browsers without `connectionState` only here. */
  private iceConnectionChanged(): void {
    const state = this.pc.iceConnectionState;
    if (state === "connected" || state === "completed") {
      // libwebrtc's controlling side may go to `completed` without `connected`.
      this.connected();
      return;
    }
    if (!this.recovery) return;
    if (state === "disconnected" || state === "failed") {
      if (this.current.phase === "connected") this.interrupted();
      this.recovery.iceStateChanged(state);
    }
  }

  /**
   * The call shows `reconnecting`. While it does, the peer connection's states are read again
   * every second: libwebrtc may fire its state events out of order or read a state late, and a
   * path that came back must not stay hidden behind a stale event.
   */
  private interrupted(): void {
    this.apply({ type: "ice-interrupted" });
    clearInterval(this.recheckTimer);
    this.recheckTimer = setInterval(() => {
      if (this.current.phase !== "reconnecting") {
        clearInterval(this.recheckTimer);
        return;
      }
      this.iceConnectionChanged();
      if (this.pc.connectionState === "connected") this.connected();
    }, RECHECK_MS);
  }

  private connected(): void {
    this.recovery?.iceStateChanged("connected");
    const first = !this.everConnected;
    this.everConnected = true;
    if (this.current.phase !== "connecting" && this.current.phase !== "reconnecting") return;
    this.apply({ type: "ice-connected" });
    // Only the caller reports: one write per call, and the rules take one report.
    if (first && this.role === "caller") this.reportConnectivity().catch(() => undefined);
  }

  /**
   * The path broke (or another attempt is due). Only the caller offers, so two sides that notice
   * the break at once still make one negotiation: the caller restarts ICE, the callee asks it to.
   */
  private attemptRestart(): void {
    if (this.current.phase === "ended") return;
    if (this.current.phase === "connected") this.interrupted();
    if (this.role === "caller") this.offerRestart();
    else this.askForRestart();
  }

  private giveUp(): void {
    // A path that came back behind a stale state event is not given up.
    const ice = this.pc.iceConnectionState;
    if (ice === "connected" || ice === "completed" || this.pc.connectionState === "connected") {
      this.connected();
      return;
    }
    const windowMs = (this.options.iceRestart || undefined)?.giveUpMs ?? ICE_RESTART.giveUpMs;
    this.fail(iceFailed(`the connection broke and did not come back within ${windowMs / 1_000} s`), "reconnect", "failed");
  }

  /**
   * Caller: a new offer with fresh ICE credentials (and fresh TURN credentials if the app gives
   * them), written as the next generation. The rules take generations one at a time, so offers
   * run one after another and a restart asked for while one waits to start joins it.
   */
  private offerRestart(): void {
    if (this.restartQueued) return;
    if (!this.ownDocument || !this.remoteAnswered) {
      this.setOffering(false);
      return;
    }
    this.restartQueued = true;
    this.negotiate("restart ICE", async () => {
      this.restartQueued = false;
      this.setOffering(true);
      try {
        if (this.peer.generation < ICE_RESTART.maxGeneration && this.current.phase !== "ended") await this.makeRestartOffer();
      } finally {
        this.setOffering(false);
      }
    });
  }

  /** Caller: whether a restart offer is being made, which a restart request it answers must not start again. */
  private setOffering(offering: boolean): void {
    this.peer = { ...this.peer, offering };
  }

  /** Caller: the next generation's offer, set locally and written. */
  private async makeRestartOffer(): Promise<void> {
    await this.refreshIceServers();
    const offer = await this.pc.createOffer({ iceRestart: true });
    await this.pc.setLocalDescription(offer);
    const description = offerSchema.parse({ type: "offer", sdp: offer.sdp ?? "" });
    this.peer = { ...this.peer, generation: this.peer.generation + 1 };
    this.startGeneration(description.sdp);
    this.sendRestart(this.peer.generation, description);
  }

  /** Callee: answers the caller's restart offer of `generation`. */
  private answerRestart(generation: number, offerSdp: string): void {
    this.negotiate("answer the ICE restart", async () => {
      if (generation !== this.peer.peerGeneration || this.current.phase === "ended") return;
      await this.refreshIceServers();
      await this.pc.setRemoteDescription({ type: "offer", sdp: offerSdp });
      this.markRemoteReady();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      const description = answerSchema.parse({ type: "answer", sdp: answer.sdp ?? "" });
      this.startGeneration(description.sdp);
      this.sendRestart(generation, description);
      this.iceConnectionChanged();
    });
  }

  /**
   * Callee: asks the caller for a restart, on every attempt while the path is broken. Each request
   * is one more than the larger of the caller's generation and the last request: any request
   * above its generation makes the caller restart, so a renewed one reaches a caller that could
   * not act on the last (it came while an offer of its own was under way, and that offer failed).
   */
  private askForRestart(): void {
    const wanted = Math.max(this.peer.peerGeneration, this.requested) + 1;
    if (wanted > ICE_RESTART.maxGeneration || !this.ownDocument) return;
    this.requested = wanted;
    this.sending = this.sending
      .then(() => this.store.requestRestart(this.sessionId, wanted))
      .catch((error: unknown) => this.warn(`restart-request ${wanted}`, callErrorFrom(error, "ask the caller to restart ICE")));
  }

  /** Fresh `iceServers` before a restart: a restart allocates anew, and TURN refuses an expired credential. */
  private async refreshIceServers(): Promise<void> {
    if (!this.options.iceServers) return;
    const iceServers = await this.options.iceServers();
    this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
  }

  /** From now on this side gathers the new generation's candidates into a fresh outbox. */
  private startGeneration(localSdp: string): void {
    this.localUfrag = iceUfragOf(localSdp);
    this.outbox = new CandidateOutbox();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /**
   * The restart write goes behind this side's earlier writes; the new generation's appends follow
   * it. A refusal does not end the call (the caller may have moved on to a later generation, or
   * the call ended, which arrives on its own); the recovery's window still runs.
   */
  private sendRestart(generation: number, description: { type: "offer" | "answer"; sdp: string }): void {
    this.sending = this.sending
      .then(() => {
        // Callee: the caller has offered a later generation meanwhile; its answer is the one to write.
        if (this.role === "callee" && generation !== this.peer.peerGeneration) return undefined;
        return this.store.restartIce(this.sessionId, this.role, generation, description, this.outbox.take() ?? []);
      })
      .catch((error: unknown) => {
        // Callee: the rules take an answer only to the caller's current generation; one that lost
        // the race against the caller's next offer is refused, and that offer gets its own answer.
        if (this.role === "callee" && generation !== this.peer.peerGeneration) return;
        this.warn(`restart ${generation}`, callErrorFrom(error, "send the ICE restart"));
      });
    this.scheduleFlush();
  }

  /**
   * Runs negotiation steps one after another. A step that does not finish within an attempt's
   * time (a peer connection that never answers) is given up, so that the next attempt can run.
   */
  private negotiate(doing: string, step: () => Promise<void>): void {
    const attemptMs = (this.options.iceRestart || undefined)?.attemptMs ?? ICE_RESTART.attemptMs;
    this.negotiating = this.negotiating
      .then(() => withTimeout(step(), attemptMs, `it did not finish within ${attemptMs / 1_000} s`))
      .catch((error: unknown) => {
        if (this.current.phase !== "ended") this.warn(`negotiation ${doing}`, callErrorFrom(error, doing));
      });
  }

  /**
   * The report only keeps the server's record; the media flows either way. A refusal means the
   * call has just ended (its end signal is on its way), so it is ignored; another failure is a
   * warning, never the end of a working call.
   */
  private async reportConnectivity(): Promise<void> {
    try {
      await this.store.reportConnected(this.sessionId, this.role);
    } catch (error) {
      const failure = callErrorFrom(error, "report that the call connected");
      if (failure.code !== "permission-denied") this.warn("connectivity", failure);
    }
  }

  /**
   * The other side deletes its document when it hangs up, and the server deletes both when the
   * call ends, so its absence is the end signal: a deletion costs no read, and neither does
   * ending here without reading the session for its reason. What each snapshot means is
   * `peerCandidatesStep`'s; this carries its actions out, in order.
   */
  private peerCandidatesChanged(snapshot: ListenedSnapshot): void {
    const { actions, state } = peerCandidatesStep(this.role, this.peer, snapshot);
    this.peer = state;
    const data = snapshot.data ?? {};
    const all: unknown[] = Array.isArray(data.candidates) ? data.candidates : [];
    const usable: ReceivedEntry[] = [];
    for (const action of actions) {
      switch (action.type) {
        case "ended":
          this.endSignalled("hangup", true);
          return;
        case "restart":
          this.offerRestart();
          break;
        case "apply-restart-offer":
          this.newPeerGeneration();
          this.answerRestart(action.generation, sdpOf(data.description));
          break;
        case "apply-restart-answer":
          this.newPeerGeneration();
          this.applyRestartAnswer(action.generation, sdpOf(data.description));
          break;
        case "skip-generation":
          this.warn(`peer-generation ${action.generation}`, new CallError("invalid-data", `The other side's ICE restart ${action.generation} carries no description this side can apply; it was ignored.`));
          break;
        case "skip-candidates":
          this.warn("peer-candidates", new CallError("invalid-data", "The other side's ICE candidates document has no candidates array; its candidates were skipped."));
          break;
        case "skip":
          this.skipped(action.index, receivedEntryProblem(all[action.index])?.sentence ?? action.reason);
          break;
        case "add":
        case "end-of-candidates":
          // Checked by the step; browsers take the end-of-candidates entry too.
          usable.push({ index: action.index, entry: all[action.index] as CandidateEntry });
          break;
        case "ignore-snapshot":
          break;
      }
    }
    this.addRemoteCandidates(usable);
  }

  /** The other side moved to a new generation: its entries wait for its description, and the old generation's waiting ones are of no use. */
  private newPeerGeneration(): void {
    this.waitingForRemote = [];
    this.remoteReady = false;
  }

  /** Caller: applies the callee's answer to its restart of `generation`, unless it has restarted again since. */
  private applyRestartAnswer(generation: number, sdp: string): void {
    this.negotiate("apply the callee's restart answer", async () => {
      if (generation !== this.peer.generation || this.current.phase === "ended") return;
      await this.pc.setRemoteDescription({ type: "answer", sdp });
      this.markRemoteReady();
      // A restart over a path that still works never leaves `connected`: no state event will say it is back.
      this.iceConnectionChanged();
    });
  }

  /** One entry of the other side's is left out; ICE has one candidate fewer to try, and the call goes on. */
  private skipped(index: number, problem: string): void {
    this.warn(`peer-candidate ${index}`, new CallError("invalid-data", `The other side's ICE candidate candidates[${index}] was skipped: ${problem}.`));
  }

  private addRemoteCandidates(entries: ReceivedEntry[]): void {
    if (!this.remoteReady) {
      // addIceCandidate fails before the remote description is set (libwebrtc, browsers).
      this.waitingForRemote.push(...entries);
      return;
    }
    for (const { index, entry } of entries) {
      // The contract cannot know the peer connection: an unknown sdpMid, an m-line index past
      // the end or a transport this browser lacks is refused here, and only that entry is lost.
      this.pc.addIceCandidate(entry).catch((error: unknown) => {
        // Once the call has ended the peer connection is closed and refuses everything: not the entry's fault.
        if (this.current.phase === "ended") return;
        this.skipped(index, `this browser refused it (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`);
      });
    }
  }

  private release(): void {
    clearTimeout(this.flushTimer);
    clearTimeout(this.ringTimer);
    clearInterval(this.recheckTimer);
    this.recovery?.stop();
    this.stopNetworkWatch();
    this.subscriptions.splice(0).forEach((unsubscribe) => unsubscribe());
    if (this.role === "caller") this.store.callEnded(this.sessionId);
    this.pc.close();
  }
}
