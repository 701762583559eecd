// "What this snapshot means" for each listener of docs/signaling.md: the incoming-calls query,
// the caller's session listener and each side's peer-candidates listener. Pure: the call
// classes feed them snapshots and carry out the actions.
import { MAX_GENERATION, type Role } from "./constants";
import { receiveEntry, type EntryProblem } from "./entries";
import { ringForMs } from "./ring";

/** A document of the incoming-calls query, timestamps in epoch ms (estimated for pending server times). */
export interface IncomingDocument {
  answer: unknown;
  end_request: unknown;
  status?: unknown;
  created_at: number;
  ring_seconds: number;
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
  if (document.answer !== null || document.end_request !== null || document.status === "ended") return { action: "not-ringing" };
  const ms = ringForMs({ createdAtMillis: document.created_at, ringSeconds: document.ring_seconds, inFirstServerSnapshot: given.firstServerSnapshot, deviceNowMillis: given.deviceNowMillis });
  return ms > 0 ? { action: "ring", ringForMs: ms } : { action: "not-ringing" };
}

/** What the caller's session listener does with a snapshot. */
export type SessionAction = { action: "ignore-snapshot" } | { action: "wait" } | { action: "apply-answer"; sdp: string } | { action: "ended"; reason: string };

/**
 * Caller step 4: a session with an end request (or recorded ended) has ended; a missing one
 * too (the sweep deleted it), but only when the server says so; an answer is applied.
 */
export function sessionAction(given: { fromCache: boolean; exists: boolean; document?: Record<string, unknown> }): SessionAction {
  if (given.fromCache) return { action: "ignore-snapshot" };
  if (!given.exists || !given.document) return { action: "ended", reason: "gone" };
  const { end_request: endRequest, status, ended_reason: endedReason, answer } = given.document;
  if (endRequest !== null && endRequest !== undefined) {
    const reason = (endRequest as { reason?: unknown }).reason;
    return { action: "ended", reason: typeof reason === "string" ? reason : "ended" };
  }
  if (status === "ended") return { action: "ended", reason: typeof endedReason === "string" ? endedReason : "ended" };
  if (answer !== null && answer !== undefined) return { action: "apply-answer", sdp: String((answer as { sdp?: unknown }).sdp) };
  return { action: "wait" };
}

/** What a side remembers of the peer's candidates document between snapshots. */
export interface PeerState {
  /** How many entries of the current generation were handled. */
  handled: number;
  /** The peer document's generation whose entries are being handled (its description applied). */
  generation: number;
  /** Caller only: its own current generation (what a restart answer must match). */
  ownGeneration?: number;
}

/** One thing to do for a peer-candidates snapshot, in order. */
export type PeerAction =
  | { type: "ignore-snapshot" }
  | { type: "ended" }
  | { type: "add"; index: number; entry: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null } }
  | { type: "skip"; index: number; reason: EntryProblem }
  | { type: "end-of-candidates"; index: number }
  | { type: "apply-restart-offer"; generation: number; sdp: string }
  | { type: "apply-restart-answer"; generation: number; sdp: string }
  | { type: "restart"; generation: number };

function generationOf(data: Record<string, unknown>): number {
  return typeof data.generation === "number" ? data.generation : 0;
}

/**
 * The peer-candidates listener ("Receiving candidates", "One entry at a time", "ICE restart"):
 * a cache snapshot is ignored, a missing document ends the call; a larger generation starts
 * over (the callee answers the restart offer; the caller applies the answer to its current
 * generation, an answer to an older one is ignored); each new entry is added, taken as
 * end-of-candidates or skipped with its reason; a restart request beyond the caller's
 * generation asks it to restart.
 */
export function peerSnapshot(role: Role, state: PeerState, snapshot: { fromCache: boolean; exists: boolean; data?: Record<string, unknown> }): { actions: PeerAction[]; state: PeerState } {
  if (snapshot.fromCache) return { actions: [{ type: "ignore-snapshot" }], state };
  if (!snapshot.exists || !snapshot.data) return { actions: [{ type: "ended" }], state };
  const data = snapshot.data;
  const actions: PeerAction[] = [];
  let next = { ...state };
  const generation = generationOf(data);
  const description = data.description as { sdp?: unknown } | undefined;
  if (generation > state.generation) {
    const wanted = role === "callee" || generation === (state.ownGeneration ?? 0);
    if (!wanted || typeof description?.sdp !== "string") {
      // An answer to a restart this caller has moved past: its entries are not for this negotiation.
      return { actions, state: next };
    }
    actions.push({ type: role === "callee" ? "apply-restart-offer" : "apply-restart-answer", generation, sdp: description.sdp });
    next = { ...next, generation, handled: 0 };
  } else if (generation < state.generation) {
    return { actions, state: next };
  }
  if (role === "caller" || generation === next.generation) {
    const entries: unknown[] = Array.isArray(data.candidates) ? data.candidates : [];
    for (let index = next.handled; index < entries.length; index += 1) {
      const receipt = receiveEntry(entries[index]);
      if (receipt.action === "skip") actions.push({ type: "skip", index, reason: receipt.reason });
      else if (receipt.action === "end-of-candidates") actions.push({ type: "end-of-candidates", index });
      else actions.push({ type: "add", index, entry: receipt.entry });
    }
    next = { ...next, handled: Math.max(next.handled, entries.length) };
  }
  const own = state.ownGeneration ?? 0;
  if (role === "caller" && typeof data.restart_request === "number" && data.restart_request > own && own < MAX_GENERATION) {
    actions.push({ type: "restart", generation: own + 1 });
  }
  return { actions, state: next };
}
