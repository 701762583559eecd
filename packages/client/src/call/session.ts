import {
  candidateEntrySchema,
  describeIssues,
  peerOf,
  sessionSchema,
  type CandidateEntry,
  type EndRequestReason,
  type Role,
  type Session,
} from "@webrtc-lite/contract";
import type { Call, CallOptions } from "./call.js";
import { CallLimitError } from "./limits.js";
import { CandidateInbox, CandidateOutbox, type ReceivedEntry } from "./outbox.js";
import type { GatheredCandidates, IceCandidateFields, PeerConnection } from "./peer.js";
import { CallError, nextCallState, type CallEvent, type CallState } from "./state.js";
import type { RawDocument, SignalingStore, Unsubscribe } from "./store.js";

const DEFAULT_BATCH_DELAY_MS = 250;

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

/** The state machine of one call, wired to its peer connection and its Firestore documents. */
export class CallSession implements Call {
  private current: CallState;
  private readonly listeners = new Set<(state: CallState) => void>();
  private readonly subscriptions: Unsubscribe[] = [];
  private readonly outbox = new CandidateOutbox();
  private readonly inbox = new CandidateInbox();
  private readonly waitingForRemote: ReceivedEntry[] = [];
  private readonly warned = new Set<string>();
  private lastMid: Pick<CandidateEntry, "sdpMid" | "sdpMLineIndex"> = { sdpMid: null, sdpMLineIndex: null };
  private ownDocument = false;
  private remoteReady = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private ringTimer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> = Promise.resolve();

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
      await this.store.requestEnd(this.sessionId, this.role, reason, this.ownDocument);
    } catch (error) {
      const failure = callErrorFrom(error, "end the call");
      if (failure.code !== "permission-denied") throw failure;
    }
  }

  /** What was gathered so far (0–6 entries), for the batch that creates this side's candidates document. */
  firstCandidates(): CandidateEntry[] {
    return this.outbox.take() ?? [];
  }

  /** This side's candidates document exists: the rest of its candidates are appended from now on. */
  documentCreated(): void {
    this.ownDocument = true;
    this.scheduleFlush();
  }

  /** The remote description is set: candidates from the other side can be added now. */
  markRemoteReady(): void {
    this.remoteReady = true;
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
    if (this.outbox.complete) {
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
    if (state === "connected" && this.current.phase === "connecting") {
      this.apply({ type: "ice-connected" });
      // Only the caller reports: one write per call, and the rules take one report. The phase
      // leaves `connecting` only once, so this runs once.
      if (this.role === "caller") this.reportConnectivity().catch(() => undefined);
    } else if (state === "failed") {
      const error = new CallError("ice-failed", "ICE could not connect the two sides: neither a direct path nor the TURN relay worked.");
      this.fail(error, "connect", "failed");
    }
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
   * ending here without reading the session for its reason.
   */
  private peerCandidatesChanged(raw: RawDocument): void {
    if (raw === undefined) {
      this.apply({ type: "ended", reason: "hangup" });
      return;
    }
    const all = raw.candidates;
    if (!Array.isArray(all)) {
      this.warn("peer-candidates", new CallError("invalid-data", "The other side's ICE candidates document has no candidates array; its candidates were skipped."));
      return;
    }
    const { usable, skipped } = this.inbox.fresh(all as unknown[]);
    for (const { index, problem } of skipped) this.skipped(index, problem);
    this.addRemoteCandidates(usable);
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
    this.subscriptions.splice(0).forEach((unsubscribe) => unsubscribe());
    if (this.role === "caller") this.store.callEnded(this.sessionId);
    this.pc.close();
  }
}
