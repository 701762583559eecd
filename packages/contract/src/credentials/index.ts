// The credentials contract without zod: what the callable needs at cold start (its request
// check is hand-written for that reason) and the response's type, which is erased at build.
export { TTL_LIMITS, MIN_SECRET_LENGTH } from "./policy.js";
export { parseCredentialRequest, type CredentialRequest, type ParsedCredentialRequest } from "./request.js";
export { FUNCTIONS_REGION, TURN_CREDENTIALS_CALLABLE } from "./region.js";
export type { IceServer, TurnCredentials } from "./response.js";
export { serverTimeOfCredential } from "./server-time.js";
