import type {
  CandidateEntry,
  EndRequestReason,
  Role,
  SessionCreateInput,
  SessionDescription,
} from "@webrtc-lite/contract";

/** Stops a listener. */
export type Unsubscribe = () => void;

/**
 * One snapshot of a document listener, unchecked: whether the server confirmed it or the
 * device's cache served it (`metadata.fromCache`), whether the document exists, and its fields.
 */
export interface ListenedSnapshot {
  /** Served from the device's cache, not (yet) confirmed by the server. */
  fromCache: boolean;
  /** Whether the document exists in this snapshot. */
  exists: boolean;
  /** The document's fields when it exists (pending server timestamps as the SDK estimates them). */
  data?: Record<string, unknown>;
}

/** A ringing session from the callee's query, unchecked. */
export interface RawRingingSession {
  id: string;
  data: Record<string, unknown>;
}

/** The two participants of a session, as its candidates documents repeat them. */
export interface SessionParticipants {
  caller_id: string;
  callee_id: string;
}

/**
 * The Firestore operations of the signaling protocol (docs/signaling.md), one method per
 * read or write the protocol names; each write is one batch (one round trip), and each is safe
 * to repeat: when the rules refuse a write because it already happened (the SDK resent it after
 * a lost acknowledgement), the method resolves as the first write did. `firestore.ts`
 * implements it with the web SDK; the unit tests with an in-memory fake.
 */
export interface SignalingStore {
  /** A fresh session id, made on the device (Firestore's auto-ids), so that the create can be one batch. */
  newSessionId(): string;
  /**
   * One batch: session `sessionId` with the offer, the caller's candidates document holding
   * `candidates` (0–6 entries gathered so far) and the caller's limits write. Once it has
   * committed, the call rings on the callee's side. Rejects with a `CallLimitError` when the
   * caller's limits stand in the way.
   */
  createCall(sessionId: string, input: SessionCreateInput, candidates: CandidateEntry[]): Promise<void>;
  /** A call of this user has ended on this device, so its entry in the limits document may be released. */
  callEnded(sessionId: string): void;
  /** The session listener: the caller's listener on its session document (only after the create has committed). */
  watchSession(sessionId: string, onChange: (snapshot: ListenedSnapshot) => void, onError: (error: unknown) => void): Unsubscribe;
  /**
   * The incoming-calls query: live sessions (`pending`/`offered`) of `calleeId`, newest first. `initial` is true
   * until the listener has delivered its first snapshot in sync with the server: sessions in
   * it may have rung for a while, later arrivals were created just now.
   */
  watchRinging(
    calleeId: string,
    onChange: (sessions: RawRingingSession[], initial: boolean) => void,
    onError: (error: unknown) => void,
  ): Unsubscribe;
  /** The peer-candidates listener: the other side's candidates document (its deletion ends the call). */
  watchCandidates(sessionId: string, sender: Role, onChange: (snapshot: ListenedSnapshot) => void, onError: (error: unknown) => void): Unsubscribe;
  /** One batch: the callee's answer and its candidates document holding `candidates` (0–6 entries). */
  answerCall(sessionId: string, session: SessionParticipants, answer: SessionDescription<"answer">, candidates: CandidateEntry[]): Promise<void>;
  /** Appends up to 6 entries to this side's candidates document. */
  appendCandidates(sessionId: string, sender: Role, entries: CandidateEntry[]): Promise<void>;
  /**
   * An ICE restart: moves this side's candidates document to `generation` with its offer
   * (caller) or answer (callee) and the first 0–6 entries of that generation.
   */
  restartIce(sessionId: string, sender: Role, generation: number, description: SessionDescription, entries: CandidateEntry[]): Promise<void>;
  /** The callee asks the caller to restart ICE into `generation`. */
  requestRestart(sessionId: string, generation: number): Promise<void>;
  /** Deletes this side's candidates document (the call ended; a missing one is fine). */
  deleteOwnCandidates(sessionId: string, sender: Role): Promise<void>;
  /** Reports that ICE connected (the caller does, once). */
  reportConnected(sessionId: string, by: Role): Promise<void>;
  /**
   * The end request; with `deleteOwnCandidates`, first the deletion of this side's candidates
   * document, which the other side's listener sees at once, then the request right behind it.
   */
  requestEnd(sessionId: string, by: Role, reason: EndRequestReason, deleteOwnCandidates: boolean): Promise<void>;
}
