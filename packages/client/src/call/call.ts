// The public face of a call: what an app holds (`Call`, `IncomingCall`) and how it starts one.
// The protocol itself lives in caller.ts (placing a call), callee.ts (ringing and answering)
// and session.ts (what both sides share once a call exists).
import type { EndRequestReason, Role } from "@webrtc-lite/contract";
import type { PeerConnection } from "./peer.js";
import type { IceRestartOptions } from "./recovery.js";
import type { CallError, CallState } from "./state.js";
import type { Unsubscribe } from "./store.js";

export { startCall } from "./caller.js";
export { listenForCalls } from "./callee.js";
export { callErrorFrom } from "./session.js";
export type { IceCandidateFields, PeerConnection } from "./peer.js";
export type { IceRestartOptions } from "./recovery.js";

/** Choices of a call; every field is optional. */
export interface CallOptions {
  /** How long gathered candidates wait to be written together (default 250 ms); gathering's end flushes at once. */
  batchDelayMs?: number;
  /** Caller: how long the call rings, written to the session as `ring_seconds` (10–600, default 60); then the caller ends it with `timeout`. */
  ringSeconds?: number;
  /**
   * Fresh `iceServers` for an ICE restart, e.g. `() => turn.getIceServers()`: a restart makes
   * new TURN allocations, which coturn refuses with an expired credential. Without it a restart
   * reuses the peer connection's current ones.
   */
  iceServers?: () => Promise<RTCIceServer[]>;
  /** When to restart ICE after the path broke and when to give up (default 2 s / 10 s / 30 s); `false` ends the call when ICE fails, as before restarts existed. */
  iceRestart?: IceRestartOptions | false;
  /** Problems that do not end the call, each reported once: every entry of the other side's candidates that was skipped (named `candidates[i]`), a failed connectivity report. */
  onWarning?: (warning: CallError) => void;
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
  /** Ends the call: `cancel` while the caller's call still rings, `hangup` after. */
  hangUp(): Promise<void>;
  /**
   * Tells the call the network changed (an app's own monitor: Android `NetworkCallback`, iOS
   * `NWPathMonitor`, React Native NetInfo): it restarts ICE at once instead of waiting for ICE
   * to notice. Browsers' `online` and `navigator.connection` changes are watched already.
   */
  restartIce(): void;
}

/** Who is calling whom. */
export interface Participants {
  /** The signed-in user. */
  callerId: string;
  calleeId: string;
}

/** A call ringing for the signed-in user. */
export interface IncomingCall {
  readonly sessionId: string;
  readonly callerId: string;
  /** Answers on `pc` (with the app's tracks added and TURN in its `iceServers`) and returns the call, `connecting`. */
  answer(pc: PeerConnection): Promise<Call>;
  /** Declines the call (`reject`, or `busy` when the user is in another call); the caller sees that reason. */
  reject(reason?: Extract<EndRequestReason, "reject" | "busy">): Promise<void>;
}
