// What one snapshot of the session listener or of a peer-candidates listener means, as pure
// functions of the snapshot and of what the side remembers: the decisions of docs/signaling.md
// ("Client protocol", "A first snapshot that is already past the step you wait for", "ICE
// restart"), free of Firestore and of the peer connection, so that the conformance vectors
// (packages/contract/conformance/session-listener.json, peer-candidates.json) check them and a
// Kotlin or Swift port can write the same table. session.ts and caller.ts carry the actions out.
import { generationOf, peerOf, readReceivedEntry, type EndedReason, type EntrySkipReason, type Role } from "@webrtc-lite/contract";
import type { ListenedSnapshot } from "./store.js";

/** What the caller does with one snapshot of its session listener. */
export type SessionListenerAction =
  /** A cache snapshot without the document: it proves nothing (the device may never have had it). */
  | { action: "ignore-snapshot" }
  /** Nobody has answered or ended the call yet. */
  | { action: "wait" }
  /** Set the answer as the remote description, stop the session listener, attach the peer-candidates listener. */
  | { action: "apply-answer" }
  /**
   * The call has ended, with `reason`; stop the listener. `deleteOwnCandidates`: delete this
   * side's candidates document (a participant's end request, or the session gone; when the
   * server has recorded the end, its trigger deleted both).
   */
  | { action: "ended"; reason: EndedReason; deleteOwnCandidates: boolean };

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * What a snapshot of the session listener means. `data` is read field by field (`status`,
 * `ended_reason`, `end_request`, `answer`); the caller has checked the whole document against
 * the data model first. An end comes before an answer: a first snapshot may already be past
 * both (answered, then hung up).
 */
export function sessionListenerStep(snapshot: ListenedSnapshot): SessionListenerAction {
  if (!snapshot.exists) {
    if (snapshot.fromCache) return { action: "ignore-snapshot" };
    // The sweep deletes a session an hour after its end; its reason is gone with it.
    return { action: "ended", reason: "error", deleteOwnCandidates: true };
  }
  const session = snapshot.data ?? {};
  if (session.status === "ended") {
    return { action: "ended", reason: (session.ended_reason as EndedReason | undefined) ?? "error", deleteOwnCandidates: false };
  }
  // Any participant's end request ends the call: the callee's, or the caller's written by
  // another device of the same user (its limits batch ends the call it replaces).
  if (isMap(session.end_request)) {
    return { action: "ended", reason: session.end_request.reason as EndedReason, deleteOwnCandidates: true };
  }
  if (isMap(session.answer)) return { action: "apply-answer" };
  return { action: "wait" };
}

/** What a side remembers of the other side's candidates document between snapshots. */
export interface PeerCandidatesState {
  /** How many entries of the peer's current generation have been handled (added, taken as end-of-candidates, or skipped). */
  handled: number;
  /** The peer's generation whose description this side applies or has applied, and whose entries it takes (0: the call's first negotiation). */
  peerGeneration: number;
  /** This side's generation: the caller's latest restart offer (set locally); the callee's latest restart offer it answers. */
  generation: number;
  /** Caller: a restart offer is being made (from the decision until its write is sent); always false for the callee. */
  offering: boolean;
}

/** Before the first snapshot. */
export const INITIAL_PEER_CANDIDATES_STATE: PeerCandidatesState = Object.freeze({ handled: 0, peerGeneration: 0, generation: 0, offering: false });

/** One thing a side does with a snapshot of the other side's candidates document, in the order given. */
export type PeerCandidatesAction =
  /** A cache snapshot without the document: it proves nothing. */
  | { type: "ignore-snapshot" }
  /** The document is gone: the peer hung up or the server ended the call. End with `hangup` and delete your own document. */
  | { type: "ended" }
  /** Caller: the callee asks for a restart; make the restart offer of `generation` (yours + 1). */
  | { type: "restart"; generation: number }
  /** Callee: the caller's restart offer of `generation`: set it, answer it, write the answer as `generation`. */
  | { type: "apply-restart-offer"; generation: number }
  /** Caller: the callee's answer to your current restart: set it as the remote description. */
  | { type: "apply-restart-answer"; generation: number }
  /** The document moved to `generation` without a description this side can apply: its entries are not taken. */
  | { type: "skip-generation"; generation: number; reason: "bad-description" }
  /** `candidates` is not an array: nothing in it is taken. */
  | { type: "skip-candidates"; reason: "not-an-array" }
  /** Hand `candidates[index]` to `addIceCandidate` (once the remote description of this generation is set; until then keep it). */
  | { type: "add"; index: number }
  /** `candidates[index]` is the end-of-candidates entry: browsers take it with `addIceCandidate`; Android and iOS skip it. */
  | { type: "end-of-candidates"; index: number }
  /** `candidates[index]` is skipped, for `reason`; report it (once: it is never looked at again). */
  | { type: "skip"; index: number; reason: EntrySkipReason };

/** The actions for one snapshot, and what to remember for the next. */
export interface PeerCandidatesStep {
  actions: PeerCandidatesAction[];
  state: PeerCandidatesState;
}

/** Whether `description` is the other side's offer (to the callee) or answer (to the caller), with an SDP to set. */
function usableDescription(role: Role, description: unknown): boolean {
  const expected = peerOf(role) === "caller" ? "offer" : "answer";
  return isMap(description) && description.type === expected && typeof description.sdp === "string";
}

/**
 * What a snapshot of the other side's candidates document means to `role`, given `state`. In
 * order: the end (a server snapshot without the document); a new generation (the callee answers
 * every restart offer; the caller applies the answer to its current restart only; an older
 * generation than the one taken changes nothing); the caller's restart when the callee's
 * `restart_request` is past its generation, after the answer the snapshot may also hold; then
 * each entry past `handled`, on its own, if the entries are of the generation taken.
 */
export function peerCandidatesStep(role: Role, state: PeerCandidatesState, snapshot: ListenedSnapshot): PeerCandidatesStep {
  if (!snapshot.exists) return { actions: [{ type: snapshot.fromCache ? "ignore-snapshot" : "ended" }], state };
  const data = snapshot.data ?? {};
  const actions: PeerCandidatesAction[] = [];
  let next = state;
  const generation = generationOf(data);
  let takeEntries = generation === state.peerGeneration;
  if (generation > state.peerGeneration) {
    if (!usableDescription(role, data.description)) {
      actions.push({ type: "skip-generation", generation, reason: "bad-description" });
    } else if (role === "callee") {
      actions.push({ type: "apply-restart-offer", generation });
      next = { ...next, generation, peerGeneration: generation, handled: 0 };
      takeEntries = true;
    } else if (generation === state.generation) {
      actions.push({ type: "apply-restart-answer", generation });
      next = { ...next, peerGeneration: generation, handled: 0 };
      takeEntries = true;
    }
    // Otherwise an answer to an older restart: this side has offered again since, and waits for
    // the answer to that; the older answer's entries are not taken.
  }

  // A request the offer being made already answers (the callee asked while it was on its way) starts nothing.
  const request = data.restart_request;
  if (role === "caller" && typeof request === "number" && request > next.generation && !next.offering) {
    actions.push({ type: "restart", generation: next.generation + 1 });
    next = { ...next, offering: true };
  }
  if (!takeEntries) return { actions, state: next };

  const entries = data.candidates;
  if (!Array.isArray(entries)) {
    actions.push({ type: "skip-candidates", reason: "not-an-array" });
    return { actions, state: next };
  }
  for (let index = next.handled; index < entries.length; index += 1) {
    const verdict = readReceivedEntry(entries[index]);
    if (verdict.problem) actions.push({ type: "skip", index, reason: verdict.problem.reason });
    else if (verdict.entry.candidate === "") actions.push({ type: "end-of-candidates", index });
    else actions.push({ type: "add", index });
  }
  return { actions, state: { ...next, handled: Math.max(next.handled, entries.length) } };
}
