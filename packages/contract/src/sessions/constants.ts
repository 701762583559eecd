// Names, bounds and defaults of the signaling contract, without zod: the callable and the
// timeouts load this at cold start, the schemas in model.ts build on it.
import { MAX_CANDIDATE_LENGTH, MAX_SDP_LENGTH, MAX_SDP_MID_LENGTH, MAX_UID_LENGTH, MAX_USERNAME_FRAGMENT_LENGTH } from "./validation.js";

/** Top-level collection of call sessions. */
export const SESSIONS_COLLECTION = "webrtc_sessions";
/** Subcollection of a session holding the two batched ICE-candidate documents. */
export const CANDIDATES_COLLECTION = "ice_candidates";

/** A session's states, in the order a call goes through them. */
export const SESSION_STATUSES = ["pending", "offered", "answered", "connected", "ended"] as const;
/** A session's state; only the server writes it after the create. */
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** States in which a call is still alive. */
export const LIVE_STATUSES = ["pending", "offered", "answered", "connected"] as const;
/** A state in which a call is still alive. */
export type LiveStatus = (typeof LIVE_STATUSES)[number];

/** The two participants; also the ids of their candidate documents and the `sender` field. */
export const ROLES = ["caller", "callee"] as const;
/** Which side of the call someone is on. */
export type Role = (typeof ROLES)[number];

/** Reasons a participant may give when asking to end a call (see transitions.ts for who may use which). */
export const END_REQUEST_REASONS = ["cancel", "reject", "busy", "hangup", "failed", "timeout"] as const;
/** A reason a participant gives in an end request. */
export type EndRequestReason = (typeof END_REQUEST_REASONS)[number];
/** Every `ended_reason`: a participant's reason, or `timeout`/`error` set by the server. */
export const ENDED_REASONS = ["cancel", "reject", "busy", "hangup", "failed", "timeout", "error"] as const;
/** Why a session ended. */
export type EndedReason = (typeof ENDED_REASONS)[number];

/** Field names of `webrtc_sessions/{sessionId}` (snake_case: native apps share this contract). */
export const SESSION_FIELDS = Object.freeze({
  callerId: "caller_id",
  calleeId: "callee_id",
  status: "status",
  offer: "offer",
  answer: "answer",
  connectivity: "connectivity",
  endRequest: "end_request",
  createdAt: "created_at",
  updatedAt: "updated_at",
  endedAt: "ended_at",
  endedReason: "ended_reason",
  error: "error",
  expireAt: "expire_at",
  ringSeconds: "ring_seconds",
} as const);

/** Field names of `webrtc_sessions/{sessionId}/ice_candidates/{caller|callee}`. */
export const CANDIDATE_FIELDS = Object.freeze({
  sender: "sender",
  callerId: "caller_id",
  calleeId: "callee_id",
  candidates: "candidates",
  createdAt: "created_at",
  expireAt: "expire_at",
  /** Which ICE negotiation `candidates` belong to: absent (0) for the first, 1… for each ICE restart. */
  generation: "generation",
  /** The restart's offer (caller) or answer (callee) for `generation` ≥ 1. */
  description: "description",
  /** Callee only: the generation it asks the caller to restart ICE into. */
  restartRequest: "restart_request",
} as const);

/** Keys of one entry in a candidates document's `candidates` array (RTCIceCandidateInit names). */
export const CANDIDATE_ENTRY_FIELDS = Object.freeze({
  candidate: "candidate",
  sdpMid: "sdpMid",
  sdpMLineIndex: "sdpMLineIndex",
  usernameFragment: "usernameFragment",
} as const);

/** Size limits; `firestore.rules` enforces the same numbers (a unit test keeps them in step). */
export const LIMITS = Object.freeze({
  /** Longest `sdp` string, in characters (a browser's audio+video offer is 4–10 k). */
  maxSdpLength: MAX_SDP_LENGTH,
  /** Longest `candidate:` line, in characters. */
  maxCandidateLength: MAX_CANDIDATE_LENGTH,
  /** Most entries (candidates plus end-of-candidates markers) in one side's document. */
  maxCandidatesPerSide: 20,
  /** Most entries one write may append (rules evaluate at most 1000 expressions per request). */
  maxCandidatesPerWrite: 6,
  /** Longest `sdpMid`. */
  maxSdpMidLength: MAX_SDP_MID_LENGTH,
  /** Largest `sdpMLineIndex`. */
  maxSdpMLineIndex: 63,
  /** Longest Firebase Auth uid. */
  maxUidLength: MAX_UID_LENGTH,
  /** Largest `limit()` a client query may ask for. */
  maxQueryLimit: 20,
  /** Longest `usernameFragment` (RFC 8839: ice-ufrag is 4–256 ice-chars). */
  maxUsernameFragmentLength: MAX_USERNAME_FRAGMENT_LENGTH,
} as const);

/**
 * ICE restart: when a call's path breaks (a network change, a TURN host restart), the caller
 * makes a new offer with `iceRestart` and writes it, with a generation number, into its own
 * candidates document; the callee answers it in its own. Only the caller offers, so two sides
 * that notice the break at once converge on one negotiation; the callee asks for a restart
 * with `restart_request`. The rules bound the generations per call; the timings are the
 * client's defaults (`CallOptions.iceRestart`).
 */
export const ICE_RESTART = Object.freeze({
  /** Most ICE restarts per call: the highest `generation` the rules accept. */
  maxGeneration: 10,
  /** How long `iceConnectionState` may stay `disconnected` before a restart (libwebrtc may recover on its own within that). */
  disconnectedGraceMs: 2_000,
  /** How long a restart may go without connecting before the caller tries another one. */
  attemptMs: 10_000,
  /** How long a broken call may take to come back before the side ends it with `failed`. */
  giveUpMs: 30_000,
} as const);

/**
 * How long a call rings, chosen by the caller in `ring_seconds` at create (the rules bound it),
 * so that every app reads the deadline from the document instead of a server param.
 */
export const RING_SECONDS = Object.freeze({ min: 10, max: 600, default: 60 } as const);

/**
 * How a callee's device reads the ring deadline (`created_at + ring_seconds`, server time) with
 * its own clock: a call found already ringing (in the incoming-calls query's first server
 * snapshot) rings until the deadline plus `clockToleranceMs` by the device clock, and a call
 * counts as lapsed (`callHasLapsed`) from that moment on. The tolerance is added, never
 * subtracted: a device clock up to that far ahead of the server's hides nothing early.
 */
export const RING_DEADLINE = Object.freeze({ clockToleranceMs: 5_000 } as const);

/**
 * `expire_at` that a client writes at create (session and candidates documents): its own clock
 * plus `clientSeconds`. The rules accept anything between `minSeconds` and `maxSeconds` after
 * the server's time, so a device clock a day off still works, while a document no function
 * ever touched is still removed by the TTL policy.
 */
export const CREATE_EXPIRY = Object.freeze({ clientSeconds: 25 * 3_600, minSeconds: 3_600, maxSeconds: 2 * 86_400 } as const);

/** Defaults of the timeouts and the TTL (the functions' params can change them within TIMEOUT_BOUNDS). */
export const DEFAULT_TIMEOUTS = Object.freeze({
  /** `pending` lasts only until the trigger runs; longer means the trigger failed. */
  pendingSeconds: 60,
  /** How long `offered` rings before the server ends the call with `timeout`. */
  ringSeconds: 60,
  /** How long `answered` may wait for ICE to connect. */
  answerSeconds: 60,
  /** Longest call (`connected`) before the server ends it. */
  maxCallSeconds: 86_400,
  /** How long an ended session stays readable before it is deleted. */
  sessionTtlSeconds: 3_600,
} as const);

/** The timeouts and the TTL, in seconds. */
export interface Timeouts {
  pendingSeconds: number;
  ringSeconds: number;
  answerSeconds: number;
  maxCallSeconds: number;
  sessionTtlSeconds: number;
}

/**
 * The incoming-calls query: the calls ringing for one callee, which the callee's app keeps open
 * while it runs. Every client builds it from this spec (`where` each filter, then `orderBy` and
 * `limit`), `firestore.indexes.json` holds its composite index, and the rules allow a listing only
 * with `callee_id` equal to the caller's own uid and `limit` at most `LIMITS.maxQueryLimit`. An
 * answer or an end request takes a call out of it at once, whatever the server has recorded.
 */
export const INCOMING_CALLS_QUERY = Object.freeze({
  collection: SESSIONS_COLLECTION,
  /** `callee_id == <the signed-in callee's uid>`. */
  calleeField: SESSION_FIELDS.calleeId,
  /** `status in [...]`: the states of a call that may still ring. */
  statusField: SESSION_FIELDS.status,
  statuses: ["pending", "offered"] as const,
  /** Fields that must be `null`: not answered, not asked to end. */
  nullFields: [SESSION_FIELDS.answer, SESSION_FIELDS.endRequest] as const,
  /** Newest first. */
  orderBy: { field: SESSION_FIELDS.createdAt, direction: "desc" } as const,
  limit: 10,
});
