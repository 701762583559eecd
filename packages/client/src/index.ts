// The WebRTC-Lite web client: TURN credentials for RTCPeerConnection, and 1:1 calls signaled
// through Cloud Firestore (docs/signaling.md). Framework-free; needs the Firebase JS SDK v12.
export { createTurnClient, getIceServers, type TurnClient, type TurnClientOptions } from "./turn.js";
export { FUNCTIONS_REGION } from "@webrtc-lite/contract";
export {
  createCredentialCache,
  parseTurnCredentials,
  refreshMarginSeconds,
  TurnCredentialsError,
  type CredentialCache,
  type TurnCredentials,
  type TurnCredentialsFailure,
} from "./credentials.js";
export {
  listenForCalls,
  startCall,
  type Call,
  type CallOptions,
  type IncomingCall,
  type Participants,
  type PeerConnection,
} from "./call/call.js";
export { firestoreSignaling, incomingCallsQuery, type SignalingOptions, type SignalingWrite } from "./call/firestore.js";
export { CallError, type CallErrorCode, type CallEvent, type CallPhase, type CallState } from "./call/state.js";
export type { ListenedSnapshot, SignalingStore, Unsubscribe } from "./call/store.js";
export { parsePushPayload, registerPushTarget, unregisterPushTarget } from "./push.js";
export type { PushPayload, PushTargetInput } from "@webrtc-lite/contract";
