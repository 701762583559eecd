// The WebRTC-Lite web client: TURN credentials for RTCPeerConnection, and 1:1 calls signaled
// through Cloud Firestore (docs/signaling.md). Framework-free; needs the Firebase JS SDK v12.
export { createTurnClient, getIceServers, FUNCTIONS_REGION, type TurnClient, type TurnClientOptions } from "./turn";
export {
  createCredentialCache,
  parseTurnCredentials,
  refreshMarginSeconds,
  TurnCredentialsError,
  type CredentialCache,
  type TurnCredentials,
  type TurnCredentialsFailure,
} from "./credentials";
export {
  listenForCalls,
  startCall,
  type Call,
  type CallOptions,
  type IncomingCall,
  type Participants,
  type PeerConnection,
} from "./call/call";
export { firestoreSignaling } from "./call/firestore";
export { CallError, type CallErrorCode, type CallEvent, type CallPhase, type CallState } from "./call/state";
export type { SignalingStore, Unsubscribe } from "./call/store";
