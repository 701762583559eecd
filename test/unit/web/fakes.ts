import type { CandidateEntry, Role, SessionCreateInput } from "../../../functions/src/sessions/model";
import type { IceCandidateFields, PeerConnection } from "../../../web/src/call/call";
import type { RawDocument, RawRingingSession, SignalingStore, Unsubscribe } from "../../../web/src/call/store";

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

/** A Firestore timestamp stand-in. */
export function timestamp(ms: number): { toMillis(): number } {
  return { toMillis: () => ms };
}

/** A relay candidate line; `n` makes it unique. */
export function candidateLine(n: number): string {
  return `candidate:${n} 1 udp 16785407 127.0.0.1 ${50000 + n} typ relay raddr 0.0.0.0 rport 0`;
}

/** A session document as the server would have it. */
export function sessionDocument(status: string, fields: Record<string, unknown> = {}, updatedAtMs = 1_000): Record<string, unknown> {
  return {
    caller_id: "alice",
    callee_id: "bob",
    status,
    offer: { type: "offer", sdp: sdp("offer") },
    created_at: timestamp(1_000),
    updated_at: timestamp(updatedAtMs),
    ...fields,
  };
}

/** One side's candidates document. */
export function candidatesDocument(sender: Role, candidates: CandidateEntry[]): Record<string, unknown> {
  return { sender, caller_id: "alice", callee_id: "bob", candidates, created_at: timestamp(1_000), expire_at: timestamp(9_000) };
}

/**
 * An in-memory SignalingStore: records every write, hands the listeners to the test so it can
 * play the server's part, and fails a method once when told to.
 */
export class FakeSignalingStore implements SignalingStore {
  readonly log: string[] = [];
  readonly appended: Record<Role, CandidateEntry[][]> = { caller: [], callee: [] };
  created: SessionCreateInput | undefined;
  answer: string | undefined;
  session: RawDocument;
  outgoing: ((session: RawDocument) => void) | undefined;
  ringing: ((sessions: RawRingingSession[]) => void) | undefined;
  readonly candidates = new Map<Role, (document: RawDocument) => void>();
  readonly failures = new Map<string, unknown>();

  private listen<T>(name: string, set: (listener: T | undefined) => void, listener: T): Unsubscribe {
    this.log.push(`listen ${name}`);
    set(listener);
    return () => {
      this.log.push(`stop ${name}`);
      set(undefined);
    };
  }

  private async write(entry: string): Promise<void> {
    const method = entry.split(" ")[0];
    const failure = this.failures.get(method);
    if (failure !== undefined) {
      this.failures.delete(method);
      throw failure;
    }
    this.log.push(entry);
  }

  async createSession(input: SessionCreateInput): Promise<string> {
    await this.write("createSession");
    this.created = input;
    return "session-1";
  }
  watchOutgoing(sessionId: string, callerId: string, onChange: (session: RawDocument) => void): Unsubscribe {
    return this.listen(`outgoing ${sessionId} ${callerId}`, (listener) => (this.outgoing = listener), onChange);
  }
  watchRinging(calleeId: string, onChange: (sessions: RawRingingSession[]) => void): Unsubscribe {
    return this.listen(`ringing ${calleeId}`, (listener) => (this.ringing = listener), onChange);
  }
  watchCandidates(sessionId: string, sender: Role, onChange: (document: RawDocument) => void): Unsubscribe {
    return this.listen(
      `candidates ${sessionId} ${sender}`,
      (listener) => (listener ? this.candidates.set(sender, listener) : this.candidates.delete(sender)),
      onChange,
    );
  }
  async readSession(): Promise<RawDocument> {
    this.log.push("readSession");
    return this.session;
  }
  async writeAnswer(sessionId: string, answer: { sdp: string }): Promise<void> {
    await this.write(`writeAnswer ${sessionId}`);
    this.answer = answer.sdp;
  }
  async appendCandidates(sessionId: string, sender: Role, entries: CandidateEntry[]): Promise<void> {
    await this.write(`appendCandidates ${sessionId} ${sender} ${entries.length}`);
    this.appended[sender].push(entries);
  }
  async reportConnected(sessionId: string, by: Role): Promise<void> {
    await this.write(`reportConnected ${sessionId} ${by}`);
  }
  async requestEnd(sessionId: string, by: Role, reason: string): Promise<void> {
    await this.write(`requestEnd ${sessionId} ${by} ${reason}`);
  }
}

/** RTCPeerConnection is absent in Node: a stand-in that records what the call does to it. */
export class FakePeerConnection implements PeerConnection {
  connectionState: RTCPeerConnectionState = "new";
  local: RTCSessionDescriptionInit | undefined;
  remote: RTCSessionDescriptionInit | undefined;
  readonly added: RTCIceCandidateInit[] = [];
  closed = false;
  offerSdp = sdp("offer");
  private readonly iceListeners: Array<(event: { candidate: IceCandidateFields | null }) => void> = [];
  private readonly stateListeners: Array<() => void> = [];

  async createOffer(): Promise<RTCSessionDescriptionInit> {
    return { type: "offer", sdp: this.offerSdp };
  }
  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    return { type: "answer", sdp: sdp("answer") };
  }
  /** Candidates a browser fires as soon as the local description is set (played then). */
  gatherOnSetLocal: Array<IceCandidateFields | null> = [];
  async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.local = description;
    this.gatherOnSetLocal.splice(0).forEach((candidate) => this.gather(candidate));
  }
  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.remote = description;
  }
  async addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    if (!this.remote) throw new Error("InvalidStateError: no remote description");
    this.added.push(candidate);
  }
  close(): void {
    this.closed = true;
  }
  addEventListener(type: "icecandidate" | "connectionstatechange", listener: ((event: { candidate: IceCandidateFields | null }) => void) | (() => void)): void {
    if (type === "icecandidate") this.iceListeners.push(listener);
    else this.stateListeners.push(listener as () => void);
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
