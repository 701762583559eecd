import type { MintedCredential } from "@webrtc-lite/contract/turn-rest";
import type { IceServer, TurnCredentials } from "@webrtc-lite/contract/credentials";
import type { TurnHostSettings } from "./settings";

/**
 * Assembles the response from a minted credential and the hosts it names, in preference order
 * (the uid's own host, then its fallbacks). One `iceServers` entry per host, in that order:
 * libwebrtc prefers relay candidates of earlier TURN servers, so the first host carries the call
 * whenever it is up. STUN URIs of all named hosts share one entry, without repeats.
 */
export function buildCredentialsResponse(
  minted: MintedCredential,
  ttl: number,
  host: TurnHostSettings,
  ...fallbacks: readonly TurnHostSettings[]
): TurnCredentials {
  const hosts = [host, ...fallbacks];
  const uris = hosts.flatMap((host) => [...host.turnUris]);
  const turnServers: IceServer[] = hosts.map((host) => ({ urls: [...host.turnUris], username: minted.username, credential: minted.credential }));
  const stunUrls = [...new Set(hosts.flatMap((host) => host.stunServer?.urls ?? []))];
  return {
    username: minted.username,
    credential: minted.credential,
    ttl,
    expiresAt: minted.expiresAt,
    uris,
    iceServers: stunUrls.length > 0 ? [{ urls: stunUrls }, ...turnServers] : turnServers,
  };
}
