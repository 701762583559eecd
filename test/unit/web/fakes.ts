import type { CandidateEntry, Role, SessionCreateInput } from "@webrtc-lite/contract";
import type { Call } from "@webrtc-lite/client/call/call";
import type { IceCandidateFields, PeerConnection } from "@webrtc-lite/client/call/peer";
import type { CallState } from "@webrtc-lite/client/call/state";
import type { PlacedCall } from "@webrtc-lite/client/call/limits";
import type { ListenedSnapshot, RawRingingSession, RingingSnapshot, SessionParticipants, SignalingStore, Unsubscribe } from "@webrtc-lite/client/call/store";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

/** A WebRTC session description that passes the contract's SDP checks. */
export function sdp(type: "offer" | "answer"): string {
  return [
    "v=0",
    `o=- ${type === "offer" ? 1 : 2} 2 IN IP4 127.0.0.1`,
    "s=-",
    "t=0 0",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    `a=ice-ufrag:${type}`,
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 AB:CD",
    "",
  ].join("\r\n");
}

/** A document's fields as the server shows them; `undefined` when it does not exist. */
export type RawDocument = Record<string, unknown> | undefined;

/** A snapshot the server confirmed of `document` (`undefined`: it does not exist). */
export function serverSnapshot(document: RawDocument): ListenedSnapshot {
  return document === undefined ? { fromCache: false, exists: false } : { fromCache: false, exists: true, data: document };
}

/** A Firestore timestamp stand-in. */
export function timestamp(ms: number): { toMillis(): number } {
  return { toMillis: () => ms };
}

/** A relay candidate line; `n` makes it unique. */
export function candidateLine(n: number): string {
  return `candidate:${n} 1 udp 16785407 127.0.0.1 ${50000 + n} typ relay raddr 0.0.0.0 rport 0`;
}

/** A session document as clients read it; `created_at` is `createdAtMs`, `ring_seconds` 60 unless given. */
export function sessionDocument(status: string, fields: Record<string, unknown> = {}, createdAtMs = 1_000): Record<string, unknown> {
  return {
    caller_id: "alice",
    callee_id: "bob",
    status,
    offer: { type: "offer", sdp: sdp("offer") },
    answer: null,
    end_request: null,
    ring_seconds: 60,
    created_at: timestamp(createdAtMs),
    updated_at: timestamp(createdAtMs),
    ...fields,
  };
}

/** One side's candidates document (entries unchecked, as Firestore may hold them). */
export function candidatesDocument(sender: Role, candidates: unknown[]): Record<string, unknown> {
  return { sender, caller_id: "alice", callee_id: "bob", candidates, created_at: timestamp(1_000), expire_at: timestamp(9_000) };
}

/**
 * An in-memory SignalingStore. It keeps what each batch wrote (the session input, each side's
 * candidates document, the answer), logs every batch as one line, hands the listeners to the
 * test so it can play the other side and the server, fails a method once when told to, and
 * holds a method's commit until the test releases it.
 */
export class FakeSignalingStore implements SignalingStore {
  readonly log: string[] = [];
  /** Each side's candidates document as written: the entries of its create, then every append. */
  readonly documents = new Map<Role, CandidateEntry[]>();
  /** Each side's writes to its candidates document, the create's entries first. */
  readonly writes: Record<Role, CandidateEntry[][]> = { caller: [], callee: [] };
  created: SessionCreateInput | undefined;
  /** The call `createCall` was handed, as a later redial would end it. */
  placed: PlacedCall | undefined;
  /** Sessions reported through `callEnded`, in order. */
  readonly endedHere: string[] = [];
  answer: string | undefined;
  /** Plays a server snapshot of the session, while its listener is attached. */
  session: ((session: RawDocument) => void) | undefined;
  /** Plays any snapshot of the session (from the cache too), while its listener is attached. */
  sessionSnapshot: ((snapshot: ListenedSnapshot) => void) | undefined;
  /** The incoming-calls listener: a server snapshot (the first one when `initial`), or one from the cache. */
  ringing: ((sessions: RawRingingSession[], initial: boolean, fromCache?: boolean) => void) | undefined;
  /** Plays a server snapshot of a side's candidates document, while the other side listens to it. */
  readonly candidates = new Map<Role, (document: RawDocument) => void>();
  /** Plays any snapshot of a side's candidates document (from the cache too), while the other side listens to it. */
  readonly candidatesSnapshot = new Map<Role, (snapshot: ListenedSnapshot) => void>();
  readonly failures = new Map<string, unknown>();
  private readonly holds = new Map<string, Promise<void>>();

  /** Keeps `method`'s next commit pending until the returned function is called. */
  hold(method: string): () => void {
    let release!: () => void;
    this.holds.set(method, new Promise<void>((resolve) => (release = resolve)));
    return release;
  }

  private listen<T>(name: string, set: (listener: T | undefined) => void, listener: T): Unsubscribe {
    this.log.push(`listen ${name}`);
    set(listener);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.log.push(`stop ${name}`);
      set(undefined);
    };
  }

  private async commit(entry: string): Promise<void> {
    const method = entry.split(" ")[0];
    const held = this.holds.get(method);
    this.holds.delete(method);
    if (held) await held;
    const failure = this.failures.get(method);
    if (failure !== undefined) {
      this.failures.delete(method);
      throw failure;
    }
    this.log.push(entry);
  }

  newSessionId(): string {
    return "session-1";
  }
  async createCall(sessionId: string, input: SessionCreateInput, candidates: CandidateEntry[], placed: PlacedCall): Promise<void> {
    await this.commit(`createCall ${sessionId} +caller-candidates:${candidates.length}`);
    this.created = input;
    this.placed = placed;
    this.documents.set("caller", [...candidates]);
    this.writes.caller.push(candidates);
  }
  callEnded(sessionId: string): void {
    this.endedHere.push(sessionId);
  }
  watchSession(sessionId: string, onChange: (snapshot: ListenedSnapshot) => void): Unsubscribe {
    return this.listen(
      `session ${sessionId}`,
      (listener) => {
        this.sessionSnapshot = listener;
        this.session = listener && ((document: RawDocument) => listener(serverSnapshot(document)));
      },
      onChange,
    );
  }
  watchRinging(calleeId: string, onChange: (sessions: RawRingingSession[], snapshot: RingingSnapshot) => void): Unsubscribe {
    return this.listen(
      `ringing ${calleeId}`,
      (listener) =>
        (this.ringing = listener && ((sessions, initial, fromCache = false) => listener(sessions, { fromCache, firstServerSnapshot: initial && !fromCache }))),
      onChange,
    );
  }
  watchCandidates(sessionId: string, sender: Role, onChange: (snapshot: ListenedSnapshot) => void): Unsubscribe {
    return this.listen(
      `candidates ${sessionId} ${sender}`,
      (listener) => {
        if (!listener) {
          this.candidates.delete(sender);
          this.candidatesSnapshot.delete(sender);
          return;
        }
        this.candidatesSnapshot.set(sender, listener);
        this.candidates.set(sender, (document) => listener(serverSnapshot(document)));
      },
      onChange,
    );
  }
  async answerCall(sessionId: string, session: SessionParticipants, answer: { sdp: string }, candidates: CandidateEntry[]): Promise<void> {
    await this.commit(`answerCall ${sessionId} ${session.caller_id}->${session.callee_id} +callee-candidates:${candidates.length}`);
    this.answer = answer.sdp;
    this.documents.set("callee", [...candidates]);
    this.writes.callee.push(candidates);
  }
  async appendCandidates(sessionId: string, sender: Role, entries: CandidateEntry[]): Promise<void> {
    await this.commit(`appendCandidates ${sessionId} ${sender} ${entries.length}`);
    this.documents.get(sender)?.push(...entries);
    this.writes[sender].push(entries);
  }
  async restartIce(sessionId: string, sender: Role, generation: number, description: { type: string; sdp: string }, entries: CandidateEntry[]): Promise<void> {
    await this.commit(`restartIce ${sessionId} ${sender} ${generation} ${description.type} +${entries.length}`);
    this.documents.set(sender, [...entries]);
    this.writes[sender].push(entries);
  }
  async requestRestart(sessionId: string, generation: number): Promise<void> {
    await this.commit(`requestRestart ${sessionId} ${generation}`);
  }
  async deleteOwnCandidates(sessionId: string, sender: Role): Promise<void> {
    await this.commit(`deleteOwnCandidates ${sessionId} ${sender}`);
    this.documents.delete(sender);
  }
  async reportConnected(sessionId: string, by: Role): Promise<void> {
    await this.commit(`reportConnected ${sessionId} ${by}`);
  }
  async requestEnd(sessionId: string, by: Role, reason: string, deleteOwnCandidates: boolean): Promise<void> {
    await this.commit(`requestEnd ${sessionId} ${by} ${reason}${deleteOwnCandidates ? ` +delete ${by}-candidates` : ""}`);
    if (deleteOwnCandidates) this.documents.delete(by);
  }
}

/** RTCPeerConnection is absent in Node: a stand-in that records what the call does to it. */
export class FakePeerConnection implements PeerConnection {
  connectionState: RTCPeerConnectionState = "new";
  iceConnectionState: RTCIceConnectionState = "new";
  configuration: RTCConfiguration = {};
  /** The options of each createOffer call, in order. */
  readonly offers: Array<RTCOfferOptions | undefined> = [];
  local: RTCSessionDescriptionInit | undefined;
  remote: RTCSessionDescriptionInit | undefined;
  readonly added: RTCIceCandidateInit[] = [];
  /** Every candidate handed to addIceCandidate, the refused ones too. */
  readonly attempted: RTCIceCandidateInit[] = [];
  /** Which candidates addIceCandidate refuses, as a browser refuses an unknown `sdpMid` or an m-line index past the end. */
  refuses: (candidate: RTCIceCandidateInit) => boolean = () => false;
  closed = false;
  offerSdp = sdp("offer");
  /** Candidates a browser fires as soon as the local description is set (played then). */
  gatherOnSetLocal: Array<IceCandidateFields | null> = [];
  private readonly iceListeners: Array<(event: { candidate: IceCandidateFields | null }) => void> = [];
  private readonly stateListeners: Array<() => void> = [];
  private readonly iceStateListeners: Array<() => void> = [];

  async createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit> {
    this.offers.push(options);
    // A restart offer carries new ICE credentials, as browsers make them.
    const restarts = this.offers.filter((offer) => offer?.iceRestart).length;
    return { type: "offer", sdp: restarts === 0 ? this.offerSdp : this.offerSdp.replace("a=ice-ufrag:offer", `a=ice-ufrag:offer${restarts}`) };
  }
  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    // An answer to a restart offer (new ufrag) gets new credentials too.
    const generation = /a=ice-ufrag:offer(\d+)/.exec(String(this.remote?.sdp ?? ""))?.[1];
    return { type: "answer", sdp: generation ? sdp("answer").replace("a=ice-ufrag:answer", `a=ice-ufrag:answer${generation}`) : sdp("answer") };
  }
  getConfiguration(): RTCConfiguration {
    return this.configuration;
  }
  setConfiguration(configuration: RTCConfiguration): void {
    this.configuration = configuration;
  }
  async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.local = description;
    this.gatherOnSetLocal.splice(0).forEach((candidate) => this.gather(candidate));
  }
  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    // Applied a turn later, as a browser does: listeners may deliver candidates meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.closed) throw new Error("InvalidStateError: the peer connection is closed");
    this.remote = description;
  }
  async addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    // As libwebrtc and browsers do: candidates need the remote description first.
    if (!this.remote) throw new Error("InvalidStateError: no remote description");
    this.attempted.push(candidate);
    if (this.refuses(candidate)) throw new DOMException("no m-line for this candidate", "OperationError");
    this.added.push(candidate);
  }
  close(): void {
    this.closed = true;
  }
  addEventListener(
    type: "icecandidate" | "connectionstatechange" | "iceconnectionstatechange",
    listener: ((event: { candidate: IceCandidateFields | null }) => void) | (() => void),
  ): void {
    if (type === "icecandidate") this.iceListeners.push(listener);
    else if (type === "connectionstatechange") this.stateListeners.push(listener as () => void);
    else this.iceStateListeners.push(listener as () => void);
  }

  /** Plays one `iceconnectionstatechange`. */
  iceBecomes(state: RTCIceConnectionState): void {
    this.iceConnectionState = state;
    this.iceStateListeners.forEach((listener) => listener());
  }

  /** Plays one `icecandidate` event; `null` ends gathering. */
  gather(candidate: IceCandidateFields | null): void {
    this.iceListeners.forEach((listener) => listener({ candidate }));
  }
  /** Plays one `connectionstatechange`. */
  becomes(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.stateListeners.forEach((listener) => listener());
  }
}

/** A relay candidate entry for m-line 0. */
export function entry(n: number): CandidateEntry {
  return { candidate: candidateLine(n), sdpMid: "0", sdpMLineIndex: 0 };
}

/** The end-of-candidates marker as the client writes it after `entry()`s: the last candidate's m-line. */
export const END_OF_CANDIDATES: CandidateEntry = { candidate: "", sdpMid: "0", sdpMLineIndex: 0 };

/** Firestore's refusal by the rules. */
export const denied = Object.assign(new Error("Missing or insufficient permissions."), { code: "permission-denied" });

/** Records a call's phases from now on (`ended:<reason>` for the end). */
export function phases(call: Call): string[] {
  const seen: string[] = [];
  call.onStateChange((state: CallState) => seen.push(state.phase === "ended" ? `ended:${state.reason}` : state.phase));
  return seen;
}

/** Waits (briefly) for promise callbacks the call chained to settle into `check`. */
export async function until(what: string, check: () => boolean): Promise<void> {
  await waitFor(what, () => (check() ? true : undefined), 2_000, 5);
}

/** Lets promise chains (the call's write and negotiation queues) run. */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}
