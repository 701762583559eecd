import type { EndedReason } from "@webrtc-lite/contract";

/** What went wrong on this side of a call. */
export type CallErrorCode =
  /** The app passed something the signaling contract refuses (e.g. calling yourself). */
  | "invalid-argument"
  /** Firestore refused a read or write (rules): not signed in, not a participant, or the call had moved on. */
  | "permission-denied"
  /** The caller's limits refused a new call: too many live calls, or too many calls this minute. */
  | "resource-exhausted"
  /** Something read from Firestore does not match the signaling contract. */
  | "invalid-data"
  /** Firestore or the peer connection failed in a way the app may retry. */
  | "unavailable"
  /** ICE could not connect the two sides (no TURN, blocked ports). */
  | "ice-failed";

/** A failure on this side of a call, with a sentence a person can act on as its message. */
export class CallError extends Error {
  override readonly name = "CallError";
  constructor(
    readonly code: CallErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where a call is, seen from one side:
 * `ringing` (the session exists, so the callee's app can see it) → `connecting` (offer and
 * answer exchanged, ICE running) → `connected` ⇄ `reconnecting` (the path broke: a network
 * change, a TURN host restart; ICE is being restarted) → `ended`.
 */
export type CallState =
  | { phase: "ringing" }
  | { phase: "connecting" }
  | { phase: "connected" }
  | { phase: "reconnecting" }
  | { phase: "ended"; reason: EndedReason; error?: CallError };

/** The phase of a call. */
export type CallPhase = CallState["phase"];

/** What can happen to a call. */
export type CallEvent =
  /** The answer is in place: the caller applied it, or the callee wrote it. */
  | { type: "answered" }
  /** ICE connected (again, after a restart). */
  | { type: "ice-connected" }
  /** The path broke while connected: ICE is being restarted. */
  | { type: "ice-interrupted" }
  /** The session ended (on the server, or by this side's request). */
  | { type: "ended"; reason: EndedReason }
  /** This side failed; the call is over for it. */
  | { type: "failed"; error: CallError };

/**
 * The next state. Events that do not apply (a late `answered` once connected, anything after
 * `ended`) leave the state unchanged, because Firestore snapshots and ICE events arrive in no
 * guaranteed order relative to each other.
 */
export function nextCallState(state: CallState, event: CallEvent): CallState {
  if (state.phase === "ended") return state;
  switch (event.type) {
    case "answered":
      return state.phase === "ringing" ? { phase: "connecting" } : state;
    case "ice-connected":
      return state.phase === "connecting" || state.phase === "reconnecting" ? { phase: "connected" } : state;
    case "ice-interrupted":
      return state.phase === "connected" ? { phase: "reconnecting" } : state;
    case "ended":
      return { phase: "ended", reason: event.reason };
    case "failed":
      return { phase: "ended", reason: "error", error: event.error };
  }
}

/** Whether the call has not ended yet. */
export function isLive(state: CallState): boolean {
  return state.phase !== "ended";
}
