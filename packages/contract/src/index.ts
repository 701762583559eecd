// The WebRTC-Lite contract: the names, shapes and bounds that the Cloud Functions, the
// Firestore rules, the clients and native apps share. Platform-neutral (browser, Node, React
// Native); the TURN REST scheme for Node is in "@webrtc-lite/contract/turn-rest".
export * from "./sessions/model.js";
export * from "./sessions/validation.js";
export * from "./sessions/received.js";
export * from "./sessions/limits.js";
export * from "./sessions/timeouts.js";
export * from "./sessions/cost.js";
export * from "./credentials/index.js";
export { iceServerSchema, turnCredentialsSchema } from "./credentials/response.js";
export * from "./push/index.js";
