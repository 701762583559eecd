import type { MintedCredential } from "@webrtc-lite/contract/turn-rest";
import type { IceServer, TurnCredentials } from "@webrtc-lite/contract/credentials";
import type { TurnHostSettings } from "./settings";

/** Assembles the response from a minted credential and the one host it names. */
export function buildCredentialsResponse(
  minted: MintedCredential,
  ttl: number,
  settings: TurnHostSettings,
): TurnCredentials {
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
