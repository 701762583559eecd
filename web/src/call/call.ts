import {
  DEFAULT_TIMEOUTS,
  answerSchema,
  candidateDocumentSchema,
  describeIssues,
  peerOf,
  sessionCreateInputSchema,
  sessionSchema,
  type CandidateEntry,
  type EndRequestReason,
  type EndedReason,
  type Role,
  type Session,
} from "../../../functions/src/sessions/model";
import { CandidateInbox, CandidateOutbox } from "./outbox";
import { CallError, nextCallState, type CallEvent, type CallState } from "./state";
import type { RawDocument, SignalingStore, Unsubscribe } from "./store";

/** The fields of an ICE candidate the protocol sends (`RTCIceCandidate` has them). */
export interface IceCandidateFields {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** Hands every `icecandidate` of a peer connection, including those fired before it was called, to one sink. */
type GatheredCandidates = (sink: (candidate: IceCandidateFields | null) => void) => void;

/**
 * Starts listening for gathered candidates now and keeps those that arrive before a sink is
 * given: the caller's browser gathers while the session is still being created.
 */
function collectGatheredCandidates(pc: PeerConnection): GatheredCandidates {
  const early: Array<IceCandidateFields | null> = [];
  let sink: ((candidate: IceCandidateFields | null) => void) | undefined;
  pc.addEventListener("icecandidate", (event) => (sink ? sink(event.candidate) : early.push(event.candidate)));
  return (deliver) => {
    sink = deliver;
    early.splice(0).forEach(deliver);
  };
}

/** The part of `RTCPeerConnection` a call uses; pass the app's own, with its tracks added. */
export interface PeerConnection {
  readonly connectionState: RTCPeerConnectionState;
  createOffer(): Promise<RTCSessionDescriptionInit>;
  createAnswer(): Promise<RTCSessionDescriptionInit>;
  setLocalDescription(description: RTCSessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void>;
  addIceCandidate(candidate: RTCIceCandidateInit): Promise<void>;
  close(): void;
  addEventListener(type: "icecandidate", listener: (event: { candidate: IceCandidateFields | null }) => void): void;
  addEventListener(type: "connectionstatechange", listener: () => void): void;
}

/** Timing choices of a call. */
export interface CallOptions {
  /** How long gathered candidates wait to be written together (default 250 ms); gathering's end flushes at once. */
  batchDelayMs?: number;
  /** How long a call may ring before the caller gives up with `timeout` (default: the server's ring timeout). */
  ringTimeoutMs?: number;
  /** The clock, in milliseconds; tests replace it. */
  now?: () => number;
}

/** One call, from this side. */
export interface Call {
  readonly sessionId: string;
  readonly role: Role;
  /** The other participant's uid. */
  readonly peerId: string;
  readonly state: CallState;
  /** Calls `listener` on every state change; returns the function that stops it. */
  onStateChange(listener: (state: CallState) => void): Unsubscribe;
  /** Ends the call: `cancel` while the caller still waits for an answer, `hangup` after. */
  hangUp(): Promise<void>;
}

const DEFAULT_BATCH_DELAY_MS = 250;
/** Waits between connectivity reports refused because the session was not `answered` yet. */
const CONNECTIVITY_RETRY_MS = [100, 250, 500, 1_000, 2_000, 4_000];

/** Turns a Firestore or WebRTC failure into a `CallError` that says what was being done. */
export function callErrorFrom(error: unknown, doing: string): CallError {
  if (error instanceof CallError) return error;
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

function readSessionOrFail(raw: RawDocument, sessionId: string): Session {
  const parsed = sessionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CallError("invalid-data", `Session ${sessionId} in Firestore does not match the signaling contract: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** The state machine of one call, wired to its peer connection and its Firestore documents. */
class CallSession implements Call {
  private current: CallState;
  private readonly listeners = new Set<(state: CallState) => void>();
  private readonly subscriptions: Unsubscribe[] = [];
  private readonly outbox = new CandidateOutbox();
  private readonly inbox = new CandidateInbox();
  private readonly waitingForRemote: CandidateEntry[] = [];
  private canSend = false;
  private remoteReady = false;
  private sawPeerCandidates = false;
  private reportedConnected = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private ringTimer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: SignalingStore,
    private readonly pc: PeerConnection,
    readonly role: Role,
    readonly sessionId: string,
    readonly peerId: string,
    initial: CallState,
    private readonly options: CallOptions,
    candidates: GatheredCandidates,
  ) {
    this.current = initial;
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
    await this.requestEnd(this.hangUpReason());
  }

  /** Applies an event; on `ended` it stops every listener and timer and closes the peer connection. */
  apply(event: CallEvent): void {
    const before = this.current;
    this.current = nextCallState(before, event);
    if (this.current === before) return;
    if (this.current.phase === "ended") this.release();
    this.listeners.forEach((listener) => listener(this.current));
  }

  /** Ends the call here with `error`, and tells the other side through the server (best effort). */
  fail(error: unknown, doing: string, reason: EndRequestReason = this.hangUpReason()): void {
    if (this.current.phase === "ended") return;
    this.apply({ type: "failed", error: callErrorFrom(error, doing) });
    this.sendEnd(reason).catch(() => undefined);
  }

  /** Ends the call here and asks the server to end it. */
  async requestEnd(reason: EndRequestReason): Promise<void> {
    const ended: EndedReason = reason;
    this.apply({ type: "ended", reason: ended });
    await this.sendEnd(reason);
  }

  /** Writes the end request; a refusal means the call had ended already, which is what was asked. */
  private async sendEnd(reason: EndRequestReason): Promise<void> {
    try {
      await this.store.requestEnd(this.sessionId, this.role, reason);
    } catch (error) {
      const failure = callErrorFrom(error, "end the call");
      if (failure.code !== "permission-denied") throw failure;
    }
  }

  private hangUpReason(): EndRequestReason {
    return this.role === "caller" && (this.current.phase === "starting" || this.current.phase === "ringing") ? "cancel" : "hangup";
  }

  /** Starts writing this side's candidates (its candidates document exists from `offered` on). */
  enableSending(): void {
    this.canSend = true;
    this.scheduleFlush();
  }

  /** The remote description is set: candidates from the other side can be added now. */
  markRemoteReady(): void {
    this.remoteReady = true;
    this.addRemoteCandidates(this.waitingForRemote.splice(0));
  }

  /** Listens to the other side's candidates document until it is deleted, which ends the call. */
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

  /** Gives up with `timeout` if nobody answered within the ring timeout. */
  startRingTimer(): void {
    const ringMs = this.options.ringTimeoutMs ?? DEFAULT_TIMEOUTS.ringSeconds * 1000;
    this.ringTimer = setTimeout(() => {
      if (this.current.phase === "starting" || this.current.phase === "ringing") {
        this.requestEnd("timeout").catch((error: unknown) => this.fail(error, "end the unanswered call"));
      }
    }, ringMs);
  }

  private gathered(candidate: IceCandidateFields | null): void {
    if (candidate === null || candidate.candidate === "") {
      this.outbox.end(candidate?.sdpMid ?? null, candidate?.sdpMLineIndex ?? null);
      this.flush();
      return;
    }
    const { sdpMid, sdpMLineIndex } = candidate;
    if (this.outbox.add({ candidate: candidate.candidate, sdpMid, sdpMLineIndex })) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.canSend || this.flushTimer !== undefined) return;
    if (this.outbox.complete) {
      this.flush();
      return;
    }
    this.flushTimer = setTimeout(() => this.flush(), this.options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.canSend || this.current.phase === "ended") return;
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
      if (!this.reportedConnected) {
        this.reportedConnected = true;
        this.reportConnectivity().catch((error: unknown) => this.fail(error, "report that the call connected"));
      }
    } else if (state === "failed") {
      const error = new CallError("ice-failed", "ICE could not connect the two sides: neither a direct path nor the TURN relay worked.");
      this.fail(error, "connect", "failed");
    }
  }

  /**
   * The rules accept a connectivity report only while the session is `answered`. ICE can
   * connect before the trigger has moved it there (still `offered`): then try again a little
   * later. Any other refusal is fine: `connected` means the other side reported first, and an
   * ended call announces itself through the candidates document.
   */
  private async reportConnectivity(): Promise<void> {
    for (const waitMs of [...CONNECTIVITY_RETRY_MS, undefined]) {
      try {
        await this.store.reportConnected(this.sessionId, this.role);
        return;
      } catch (error) {
        const failure = callErrorFrom(error, "report that the call connected");
        if (failure.code !== "permission-denied") throw failure;
      }
      const session = readSessionOrFail(await this.store.readSession(this.sessionId), this.sessionId);
      if (session.status !== "offered" || waitMs === undefined || this.current.phase === "ended") return;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  private peerCandidatesChanged(raw: RawDocument): void {
    if (raw === undefined) {
      this.peerCandidatesMissing();
      return;
    }
    const parsed = candidateDocumentSchema.safeParse(raw);
    if (!parsed.success) {
      this.fail(
        new CallError("invalid-data", `The other side's ICE candidates do not match the signaling contract: ${describeIssues(parsed.error)}`),
        "read ICE candidates",
      );
      return;
    }
    this.sawPeerCandidates = true;
    this.addRemoteCandidates(this.inbox.fresh(parsed.data.candidates));
  }

  /**
   * The server deletes both candidates documents when a call ends, so their absence is the
   * end signal; before this side has seen the document, absence may only mean "not created
   * yet", which the session itself settles.
   */
  private peerCandidatesMissing(): void {
    this.store
      .readSession(this.sessionId)
      .then((raw) => {
        if (raw === undefined) {
          this.apply({ type: "ended", reason: "hangup" });
          return;
        }
        const session = readSessionOrFail(raw, this.sessionId);
        if (session.status === "ended") this.apply({ type: "ended", reason: session.ended_reason ?? "hangup" });
        else if (this.sawPeerCandidates) this.apply({ type: "ended", reason: "error" });
      })
      .catch((error: unknown) => this.fail(error, "read the session after its candidates went away"));
  }

  private addRemoteCandidates(entries: CandidateEntry[]): void {
    if (!this.remoteReady) {
      this.waitingForRemote.push(...entries);
      return;
    }
    for (const entry of entries) {
      // One unusable candidate must not end the call; ICE simply has one pair fewer to try.
      this.pc.addIceCandidate(entry).catch(() => undefined);
    }
  }

  private release(): void {
    clearTimeout(this.flushTimer);
    clearTimeout(this.ringTimer);
    this.subscriptions.splice(0).forEach((unsubscribe) => unsubscribe());
    this.pc.close();
  }
}

/** Who is calling whom. */
export interface Participants {
  /** The signed-in user. */
  callerId: string;
  calleeId: string;
}

/**
 * Calls `calleeId`: makes the offer on `pc`, creates the session, and follows the protocol of
 * docs/signaling.md until the call ends. Rejects with a `CallError` if the session cannot be
 * created; later failures end the call with `reason: "error"` and the error in its state.
 */
export async function startCall(
  store: SignalingStore,
  pc: PeerConnection,
  participants: Participants,
  options: CallOptions = {},
): Promise<Call> {
  // Gathering starts with setLocalDescription, long before the session exists.
  const candidates = collectGatheredCandidates(pc);
  let offer: RTCSessionDescriptionInit;
  try {
    offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
  } catch (error) {
    throw callErrorFrom(error, "create the offer");
  }
  const input = sessionCreateInputSchema.safeParse({
    caller_id: participants.callerId,
    callee_id: participants.calleeId,
    offer: { type: "offer", sdp: offer.sdp ?? "" },
  });
  if (!input.success) throw new CallError("invalid-argument", `Cannot start this call: ${describeIssues(input.error)}`);
  let sessionId: string;
  try {
    sessionId = await store.createSession(input.data);
  } catch (error) {
    throw callErrorFrom(error, "create the call session");
  }

  const call = new CallSession(store, pc, "caller", sessionId, participants.calleeId, { phase: "starting" }, options, candidates);
  let answerApplied = false;
  const stopOutgoing = store.watchOutgoing(
    sessionId,
    participants.callerId,
    (raw) => {
      if (raw === undefined || answerApplied) return;
      let session: Session;
      try {
        session = readSessionOrFail(raw, sessionId);
      } catch (error) {
        call.fail(error, "read the session");
        return;
      }
      if (session.status === "ended") {
        call.apply({ type: "ended", reason: session.ended_reason ?? "error" });
        return;
      }
      call.apply({ type: "offered" });
      call.enableSending();
      if (!session.answer) return;
      answerApplied = true;
      stopOutgoing();
      pc.setRemoteDescription(session.answer).then(
        () => {
          call.apply({ type: "answered" });
          call.markRemoteReady();
          call.watchPeerCandidates();
        },
        (error: unknown) => call.fail(error, "apply the callee's answer"),
      );
    },
    (error) => call.fail(error, "listen to the call session"),
  );
  call.track(stopOutgoing);
  call.startRingTimer();
  return call;
}

/** A call ringing for the signed-in user. */
export interface IncomingCall {
  readonly sessionId: string;
  readonly callerId: string;
  /** Answers on `pc` (with the app's tracks added) and returns the call, `connecting`. */
  answer(pc: PeerConnection): Promise<Call>;
  /** Declines the call; the caller sees `reject`. */
  reject(): Promise<void>;
}

/**
 * Listens for calls ringing for `calleeId` (Q0 of docs/signaling.md) and reports the current
 * list on every change. Sessions that fail validation or rang longer than the ring timeout
 * are left out; invalid ones are reported to `onError`.
 */
export function listenForCalls(
  store: SignalingStore,
  calleeId: string,
  onCalls: (calls: IncomingCall[]) => void,
  onError: (error: CallError) => void,
  options: CallOptions = {},
): Unsubscribe {
  const now = options.now ?? Date.now;
  const ringMs = options.ringTimeoutMs ?? DEFAULT_TIMEOUTS.ringSeconds * 1000;
  return store.watchRinging(
    calleeId,
    (sessions) => {
      const calls: IncomingCall[] = [];
      for (const { id, data } of sessions) {
        let session: Session;
        try {
          session = readSessionOrFail(data, id);
        } catch (error) {
          onError(callErrorFrom(error, "read a ringing call"));
          continue;
        }
        if (session.status !== "offered" || session.callee_id !== calleeId || !session.offer) continue;
        if (now() - session.updated_at.toMillis() > ringMs) continue;
        calls.push(incomingCall(store, id, session, options));
      }
      onCalls(calls);
    },
    (error) => onError(callErrorFrom(error, "listen for incoming calls")),
  );
}

function incomingCall(store: SignalingStore, sessionId: string, session: Session, options: CallOptions): IncomingCall {
  const offer = session.offer!;
  return {
    sessionId,
    callerId: session.caller_id,
    async answer(pc) {
      const call = new CallSession(store, pc, "callee", sessionId, session.caller_id, { phase: "ringing" }, options, collectGatheredCandidates(pc));
      call.watchPeerCandidates();
      try {
        await pc.setRemoteDescription(offer);
        call.markRemoteReady();
        const local = await pc.createAnswer();
        await pc.setLocalDescription(local);
        const answer = answerSchema.safeParse({ type: "answer", sdp: local.sdp ?? "" });
        if (!answer.success) throw new CallError("invalid-argument", `This browser's answer cannot be sent: ${describeIssues(answer.error)}`);
        await store.writeAnswer(sessionId, answer.data);
      } catch (error) {
        const failure = callErrorFrom(error, "answer the call");
        call.fail(failure, "answer the call");
        throw failure;
      }
      call.apply({ type: "answered" });
      call.enableSending();
      return call;
    },
    async reject() {
      try {
        await store.requestEnd(sessionId, "callee", "reject");
      } catch (error) {
        const failure = callErrorFrom(error, "reject the call");
        if (failure.code !== "permission-denied") throw failure;
      }
    },
  };
}
