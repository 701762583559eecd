// "What this snapshot means" for each listener of docs/signaling.md: the incoming-calls query,
// the caller's session listener and each side's peer-candidates listener. Pure: the call
// classes feed them snapshots and carry out the actions.
import { MAX_GENERATION, RING_SECONDS_DEFAULT, type Role } from "./constants";
import { receiveEntry, type Entry, type EntryProblem } from "./entries";
import { ringForMs } from "./ring";

/** A document of the incoming-calls query, timestamps in epoch ms (estimated for pending server times). */
export interface IncomingDocument {
  answer: unknown;
  end_request: unknown;
  status?: unknown;
  created_at: number;
  ring_seconds?: unknown;
}

/** What a document of the incoming-calls query means now. */
export type IncomingAction = { action: "ignore-snapshot" } | { action: "ring"; ringForMs: number } | { action: "not-ringing" };

/**
 * Callee step 1 and "The ring deadline": cache snapshots are ignored; a call with an answer or
 * an end request does not ring; else it rings for `ringForMs` (0: not at all).
 */
export function incomingAction(given: { fromCache: boolean; firstServerSnapshot: boolean; document: IncomingDocument; deviceNowMillis: number }): IncomingAction {
  if (given.fromCache) return { action: "ignore-snapshot" };
  const { document } = given;
  const set = (value: unknown) => value !== undefined && value !== null;
  // A status past offered, an answer or an end request: the query drops it (this device may see its own write first).
  if (!["pending", "offered"].includes(String(document.status)) || set(document.answer) || set(document.end_request)) return { action: "not-ringing" };
  const ms = ringForMs({ createdAtMillis: document.created_at, ringSeconds: typeof document.ring_seconds === "number" ? document.ring_seconds : RING_SECONDS_DEFAULT, inFirstServerSnapshot: given.firstServerSnapshot, deviceNowMillis: given.deviceNowMillis });
  return ms > 0 ? { action: "ring", ringForMs: ms } : { action: "not-ringing" };
}

/** What the caller's session listener does with a snapshot. */
export type SessionAction =
  | { action: "ignore-snapshot" }
  | { action: "wait" }
  | { action: "apply-answer"; sdp: string }
  | { action: "ended"; reason: string; deleteOwnCandidates: boolean };

/**
 * Caller step 4, in this order: missing from the server = ended (the sweep deleted the session,
 * its reason with it: `error`); missing from the cache = nothing known; recorded ended = ended
 * with `ended_reason` (the trigger deleted both candidates documents); any end request = ended
 * with its reason (this side deletes its own document); an answer = apply it; else wait.
 */
export function sessionAction(snapshot: { fromCache: boolean; exists: boolean; data?: Record<string, unknown> }): SessionAction {
  const data = snapshot.data;
  if (!snapshot.exists || !data) return snapshot.fromCache ? { action: "ignore-snapshot" } : { action: "ended", reason: "error", deleteOwnCandidates: true };
  const { end_request: endRequest, status, ended_reason: endedReason, answer } = data;
  if (status === "ended") return { action: "ended", reason: typeof endedReason === "string" ? endedReason : "error", deleteOwnCandidates: false };
  if (endRequest !== null && endRequest !== undefined) {
    const reason = (endRequest as { reason?: unknown }).reason;
    return { action: "ended", reason: typeof reason === "string" ? reason : "error", deleteOwnCandidates: true };
  }
  if (answer !== null && answer !== undefined) return { action: "apply-answer", sdp: String((answer as { sdp?: unknown }).sdp) };
  return { action: "wait" };
}

/** What a side remembers of the peer's candidates document between snapshots. */
export interface PeerState {
  /** How many entries of the peer's current generation were handled. */
  handled: number;
  /** The peer's generation whose description this side applies (0: the first negotiation) and whose entries it takes. */
  peerGeneration: number;
  /** This side's own generation: the caller's latest restart offer, the callee's latest answered one. */
  generation: number;
  /** Caller: a restart offer is being made (from the decision until its write is sent). */
  offering: boolean;
}

/** Before the first snapshot. */
export const FIRST_PEER_STATE: PeerState = { handled: 0, peerGeneration: 0, generation: 0, offering: false };

/** One thing to do for a peer-candidates snapshot, in order. */
export type PeerAction =
  | { type: "ignore-snapshot" }
  | { type: "ended" }
  | { type: "apply-restart-offer"; generation: number; sdp: string }
  | { type: "apply-restart-answer"; generation: number; sdp: string }
  | { type: "skip-generation"; generation: number; reason: "bad-description" }
  | { type: "restart"; generation: number }
  | { type: "skip-candidates"; reason: "not-an-array" }
  | { type: "add"; index: number; entry: Entry }
  | { type: "end-of-candidates"; index: number }
  | { type: "skip"; index: number; reason: EntryProblem };

/** The description of a generation if it is the kind this role applies (the callee applies offers, the caller answers). */
function descriptionFor(role: Role, description: unknown): string | undefined {
  const wanted = role === "callee" ? "offer" : "answer";
  const { type, sdp } = (typeof description === "object" && description !== null ? description : {}) as { type?: unknown; sdp?: unknown };
  return type === wanted && typeof sdp === "string" ? sdp : undefined;
}

/**
 * The peer-candidates listener ("Receiving candidates", "One entry at a time", "ICE restart").
 * A missing document ends the call, but only the server's word counts. A newer generation
 * starts over, its entries counted from 0: the callee answers any newer restart offer; the
 * caller applies the answer to its own current generation and ignores an answer to an older
 * one (with its entries); a generation without a description this side can apply is reported
 * and its entries not taken. A restart request past the caller's generation makes it restart
 * one generation up, unless an offer is being made. Then each new entry of the generation taken
 * is added, taken as end-of-candidates, or skipped with its reason.
 */
export function peerSnapshot(role: Role, state: PeerState, snapshot: { fromCache: boolean; exists: boolean; data?: Record<string, unknown> }): { actions: PeerAction[]; state: PeerState } {
  if (!snapshot.exists || !snapshot.data) return { actions: [snapshot.fromCache ? { type: "ignore-snapshot" } : { type: "ended" }], state };
  const data = snapshot.data;
  const actions: PeerAction[] = [];
  let next = { ...state };
  const generation = typeof data.generation === "number" ? data.generation : 0;
  if (generation > state.peerGeneration) {
    // The caller takes only the answer to its own latest offer; an older one is past.
    if (role === "caller" && generation < state.generation) return { actions, state };
    const sdp = descriptionFor(role, data.description);
    if (sdp === undefined) return { actions: [{ type: "skip-generation", generation, reason: "bad-description" }], state };
    actions.push(role === "callee" ? { type: "apply-restart-offer", generation, sdp } : { type: "apply-restart-answer", generation, sdp });
    next = { ...next, peerGeneration: generation, handled: 0, generation: role === "callee" ? generation : next.generation };
  } else if (generation < state.peerGeneration) {
    return { actions, state };
  }
  const request = data.restart_request;
  if (role === "caller" && typeof request === "number" && request > next.generation && !next.offering && next.generation < MAX_GENERATION) {
    actions.push({ type: "restart", generation: next.generation + 1 });
    next = { ...next, offering: true };
  }
  if (!Array.isArray(data.candidates)) {
    actions.push({ type: "skip-candidates", reason: "not-an-array" });
    return { actions, state: next };
  }
  const entries: unknown[] = data.candidates;
  for (let index = next.handled; index < entries.length; index += 1) {
    const receipt = receiveEntry(entries[index]);
    if (receipt.action === "skip") actions.push({ type: "skip", index, reason: receipt.reason });
    else if (receipt.action === "end-of-candidates") actions.push({ type: "end-of-candidates", index });
    else actions.push({ type: "add", index, entry: receipt.entry });
  }
  return { actions, state: { ...next, handled: Math.max(next.handled, entries.length) } };
}
