import type { MintedCredential } from "./mint";
import type { IceServer, TurnHostSettings } from "./settings";

/** What `getTurnCredentials` returns (DESIGN.md). */
export interface TurnCredentialsResponse {
  username: string;
  credential: string;
  /** Seconds the credential is valid for, as granted. */
  ttl: number;
  /** Unix seconds after which coturn refuses the credential. */
  expiresAt: number;
  /** The TURN URIs of the one host the credential names (it is valid on every host sharing the secret). */
  uris: string[];
  /** Ready for `new RTCPeerConnection({ iceServers })`. */
  iceServers: IceServer[];
}

/** Assembles the response from a minted credential and the one host it names. */
export function buildCredentialsResponse(
  minted: MintedCredential,
  ttl: number,
  settings: TurnHostSettings,
): TurnCredentialsResponse {
  const uris = [...settings.turnUris];
  const turnServer: IceServer = { urls: uris, username: minted.username, credential: minted.credential };
  return {
    username: minted.username,
    credential: minted.credential,
    ttl,
    expiresAt: minted.expiresAt,
    uris,
    iceServers: settings.stunServer ? [{ urls: [...settings.stunServer.urls] }, turnServer] : [turnServer],
  };
}
