// What the docs' TypeScript snippets take as given: the app's own objects and functions, which a
// snippet uses without making them. A snippet may shadow any of them with its own declaration.
// A name a snippet needs that is not here is a compile error naming the Markdown line: either
// the snippet should make it, or it is part of the app and belongs here, typed.
import type { FirebaseApp, FirebaseOptions } from "firebase/app";
import type { Auth } from "firebase/auth";
import type { Firestore } from "firebase/firestore";
import type { CandidateEntry, EndedReason, Role, RingPayload } from "@webrtc-lite/contract";
import type { IncomingCall } from "@webrtc-lite/client";
import type { CallLimitsTracker, PlacedCall } from "@webrtc-lite/client/call/limits";

declare global {
  // The app's Firebase objects and the signed-in user.
  const firebaseConfig: FirebaseOptions;
  const app: FirebaseApp;
  const auth: Auth;
  const db: Firestore;
  /** The signed-in user's uid. */
  const uid: string;

  // Calls: the other person, the media, the user interface.
  /** The uid of the person being called. */
  const friendUid: string;
  /** The same, in the snippets that spell the session's fields. */
  const callee_id: string;
  const stream: MediaStream;
  /** Shows the calls ringing right now (the incoming-calls listener's callback). */
  function showRinging(calls: IncomingCall[]): void;
  /** The call the user picked among those `showRinging` showed. */
  const incoming: IncomingCall;

  // The protocol by hand (docs/signaling.md): the peer connection and the caller's state.
  const pc: RTCPeerConnection;
  /** The local offer, set as the local description. */
  const offer: RTCSessionDescriptionInit;
  /** Gathered candidates not written yet. */
  const outbox: CandidateEntry[];
  /** One per signed-in user: its limits document as far as this device knows it. */
  const limits: CallLimitsTracker;
  /** The call being placed, as the tracker asks after it (answered yet? replaced by a redial?). */
  const thisCall: PlacedCall;
  /** Adds the candidates held back until the remote description was set. */
  function flushBuffered(): void;
  /** Attaches the listener of the other side's candidates document. */
  function listenToPeer(peer: Role): void;
  /** Ends the call on this side, for this reason. */
  function ended(reason: EndedReason): void;

  // Push (docs/push.md).
  const VAPID_KEY: string;
  const serviceWorkerRegistration: ServiceWorkerRegistration;
  function alreadyShowing(sessionId: string): boolean;
  function showIncomingCall(push: RingPayload): void;
  function dismissIncomingCall(sessionId: string): void;
}
