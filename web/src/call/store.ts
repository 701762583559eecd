import type {
  CandidateEntry,
  EndRequestReason,
  Role,
  SessionCreateInput,
  SessionDescription,
} from "../../../functions/src/sessions/model";

/** Stops a listener. */
export type Unsubscribe = () => void;

/** A session or candidates document as read, unchecked; `undefined` when it does not exist (or is not visible yet). */
export type RawDocument = Record<string, unknown> | undefined;

/** A ringing session from the callee's query, unchecked. */
export interface RawRingingSession {
  id: string;
  data: Record<string, unknown>;
}

/**
 * The Firestore operations of the signaling protocol (docs/signaling.md), one method per
 * read or write the protocol names. `firestore.ts` implements it with the web SDK; the unit
 * tests with an in-memory fake.
 */
export interface SignalingStore {
  /** Creates the session with the offer; returns its id. */
  createSession(input: SessionCreateInput): Promise<string>;
  /** Q1: the caller's view of its session once it is `offered`, `answered` or `ended`. */
  watchOutgoing(sessionId: string, callerId: string, onChange: (session: RawDocument) => void, onError: (error: unknown) => void): Unsubscribe;
  /** Q0: sessions ringing for `calleeId`, newest first. */
  watchRinging(calleeId: string, onChange: (sessions: RawRingingSession[]) => void, onError: (error: unknown) => void): Unsubscribe;
  /** L2/L3: one side's candidates document; `undefined` once it is deleted (the call ended). */
  watchCandidates(sessionId: string, sender: Role, onChange: (document: RawDocument) => void, onError: (error: unknown) => void): Unsubscribe;
  /** Reads the session once (e.g. for `ended_reason` after the candidates document went away). */
  readSession(sessionId: string): Promise<RawDocument>;
  /** The callee's answer. */
  writeAnswer(sessionId: string, answer: SessionDescription<"answer">): Promise<void>;
  /** Appends a batch to this side's candidates document. */
  appendCandidates(sessionId: string, sender: Role, entries: CandidateEntry[]): Promise<void>;
  /** Reports that ICE connected on this side. */
  reportConnected(sessionId: string, by: Role): Promise<void>;
  /** Asks the server to end the call. */
  requestEnd(sessionId: string, by: Role, reason: EndRequestReason): Promise<void>;
}
