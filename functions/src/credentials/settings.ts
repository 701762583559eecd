import type { IceServer } from "@webrtc-lite/contract/credentials";
import { parseTurnHosts } from "./hosts";
import { resolveStunUris, sharedSecretProblem } from "@webrtc-lite/contract/turn-rest";

/** The raw configuration values, as the params hold them. */
export interface RawTurnSettings {
  secret: string;
  turnUris: string;
  stunUris: string;
}

/** One coturn host of `TURN_URIS` and what a credential naming it hands out. */
export interface TurnHostSettings {
  /** What the host pick knows it by: the distinct host parts of its URIs, lower-cased, sorted (hosts.ts). */
  host: string;
  turnUris: readonly string[];
  /** The credential-free STUN entry, or `undefined` when there is no STUN URI. */
  stunServer: Readonly<IceServer> | undefined;
}

/** Configuration checked and ready to sign with. */
export interface TurnSettings {
  secret: string;
  /** Every host of `TURN_URIS`, in the order each first appears (at least one). */
  hosts: readonly TurnHostSettings[];
}

/** Checked settings, or every problem found (secret-free sentences, safe to log). */
export type TurnSettingsCheck = { ok: true; settings: TurnSettings } | { ok: false; problems: string[] };

let lastRaw: RawTurnSettings | undefined;
let lastCheck: TurnSettingsCheck | undefined;

/**
 * Checks the raw settings. The result is cached for identical input because params do not
 * change within an instance, and parsing on every call would dominate the cost of minting.
 */
export function resolveTurnSettings(raw: RawTurnSettings): TurnSettingsCheck {
  if (
    lastCheck &&
    lastRaw &&
    lastRaw.secret === raw.secret &&
    lastRaw.turnUris === raw.turnUris &&
    lastRaw.stunUris === raw.stunUris
  ) {
    return lastCheck;
  }
  lastRaw = { ...raw };
  lastCheck = checkTurnSettings(raw);
  return lastCheck;
}

function checkTurnSettings(raw: RawTurnSettings): TurnSettingsCheck {
  const problems: string[] = [];
  const secretProblem = sharedSecretProblem(raw.secret);
  if (secretProblem) problems.push(secretProblem);

  const turn = parseTurnHosts(raw.turnUris);
  if (!turn.ok) problems.push(...turn.problems.map((p) => (p.startsWith("TURN_URIS") ? p : `TURN_URIS ${p}`)));

  const stun = resolveStunUris(raw.stunUris, turn.ok ? turn.hosts.flatMap((host) => host.turnUris) : []);
  if (!stun.ok) problems.push(...stun.problems.map((p) => `STUN_URIS ${p}`));

  if (problems.length > 0 || !turn.ok || !stun.ok) return { ok: false, problems };
  // STUN is resolved per host as well: derived entries name only the host the credential is
  // for (a single host gets exactly the list it always got); an explicit STUN_URIS or `none`
  // is the same for every host.
  const hosts = turn.hosts.map(({ host, turnUris }): TurnHostSettings => {
    const hostStun = resolveStunUris(raw.stunUris, turnUris);
    const stunUrls = hostStun.ok ? hostStun.uris : [];
    return Object.freeze({
      host,
      turnUris: Object.freeze(turnUris),
      stunServer: stunUrls.length > 0 ? Object.freeze({ urls: stunUrls }) : undefined,
    });
  });
  return { ok: true, settings: { secret: raw.secret, hosts: Object.freeze(hosts) } };
}
