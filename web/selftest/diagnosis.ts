import { TurnCredentialsError } from "@webrtc-lite/client";

/** One row of the candidate table. */
export interface CandidateRow {
  peer: "A" | "B";
  type: string;
  /** How the browser reaches the TURN server (`udp`, `tcp`, `tls`) for relay candidates, else the candidate's transport. */
  protocol: string;
  address: string;
  /** Milliseconds since ICE gathering started. */
  ms: number;
}

/** The fields of an `RTCIceCandidate` the table shows (`relayProtocol` is not in TypeScript's DOM types yet). */
export interface CandidateFields {
  type: string | null;
  protocol: string | null;
  address: string | null;
  port: number | null;
  relayProtocol?: string | null;
}

/** The table row for one gathered candidate. */
export function candidateRow(peer: "A" | "B", candidate: CandidateFields, ms: number): CandidateRow {
  const address = candidate.address ?? "(hidden)";
  return {
    peer,
    type: candidate.type ?? "unknown",
    protocol: candidate.relayProtocol ?? candidate.protocol ?? "unknown",
    address: candidate.port === null ? address : `${address.includes(":") ? `[${address}]` : address}:${candidate.port}`,
    ms,
  };
}

/** An `icecandidateerror` as the diagnosis needs it. */
export interface CandidateError {
  errorCode: number;
  url: string;
}

/** What ICE gathering produced when it stopped without a relay candidate. */
export interface GatheringOutcome {
  turnUris: string[];
  errors: CandidateError[];
  /** Gathering ended on its own (`complete`), rather than the self-test giving up waiting. */
  complete: boolean;
  timeoutMs: number;
}

/**
 * Why no relay candidate came, as a sentence. 401 is coturn refusing the credential's
 * MESSAGE-INTEGRITY: the functions and coturn do not share the same secret (or the clocks
 * disagree about the expiry). Anything else means no TURN server answered.
 */
export function noRelaySentence(outcome: GatheringOutcome): string {
  const refused = outcome.errors.filter((error) => error.errorCode === 401);
  if (refused.length > 0) {
    const rank = (url: string): number => (outcome.turnUris.includes(url) ? outcome.turnUris.indexOf(url) : outcome.turnUris.length);
    const urls = [...new Set(refused.map((error) => error.url))].sort((x, y) => rank(x) - rank(y)).join(", ");
    return (
      `The TURN server refused the credentials (401 Unauthorized from ${urls}). ` +
      "The secret coturn checks (static-auth-secret) is not the one the functions sign with (TURN_SHARED_SECRET), " +
      "or the TURN server's clock is far off."
    );
  }
  const servers = outcome.turnUris.join(", ");
  const how = outcome.complete ? "before ICE gathering ended" : `within ${outcome.timeoutMs / 1000} s`;
  return (
    `No TURN server answered ${how} (${servers}). ` +
    "Check that coturn is running and that these addresses and ports (TURN_URIS) are reachable from this browser."
  );
}

/** The sentence for a peer connection that gathered relay candidates but never connected. */
export function notConnectedSentence(state: RTCPeerConnectionState, timeoutMs: number): string {
  const how = state === "failed" ? "ICE failed" : `they were still ${state} after ${timeoutMs / 1000} s`;
  return (
    `Relay candidates were gathered but the two peers could not connect through the relay (${how}). ` +
    "coturn allocated relays but did not pass data between them: check its peer rules (denied-peer-ip, and allow-loopback-peers for a server on 127.0.0.1)."
  );
}

/** The candidate pair ICE selected, by candidate type. */
export interface SelectedPair {
  localType: string;
  remoteType: string;
  /** The local candidate's relay protocol (how the browser reaches the TURN server). */
  protocol: string;
  localAddress: string;
}

/** The verdict once connected: passes only when both ends of the selected pair are relay candidates. */
export function connectedVerdict(pair: SelectedPair | undefined, rttMs: number): { pass: boolean; sentence: string } {
  if (!pair) {
    return { pass: false, sentence: "The peers connected but the browser reported no selected candidate pair, so the path could not be checked." };
  }
  if (pair.localType !== "relay" || pair.remoteType !== "relay") {
    return {
      pass: false,
      sentence: `The peers connected, but not through the relay (${pair.localType} to ${pair.remoteType}); this self-test only counts relayed connections.`,
    };
  }
  return {
    pass: true,
    sentence:
      `TURN works: the two peers connected through the relay (${pair.localAddress}, ${pair.protocol} to the TURN server) ` +
      `and exchanged data with a round-trip time of ${rttMs.toFixed(1)} ms.`,
  };
}

/** A sentence for a failure to sign in with Firebase Auth. */
export function signInFailureSentence(error: unknown): string {
  const code = errorCode(error);
  if (code === "auth/operation-not-allowed" || code === "auth/admin-restricted-operation") {
    return "Anonymous sign-in is turned off for this project: turn it on in the Firebase console under Authentication → Sign-in method.";
  }
  if (code === "auth/network-request-failed") {
    return "Could not reach Firebase Authentication: the Auth emulator is not running or the network is down.";
  }
  return `Sign-in failed (${code || "no error code"}): ${error instanceof Error ? error.message : String(error)}`;
}

/** A sentence for a failure to get TURN credentials. */
export function credentialsFailureSentence(error: unknown): string {
  if (error instanceof TurnCredentialsError) return error.message;
  return `Getting TURN credentials failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** The median of a non-empty list of samples. */
export function median(samples: number[]): number {
  if (samples.length === 0) throw new RangeError("median of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function errorCode(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
}
