// TURN credentials from `getTurnCredentials`, cached so that a call still relays while the
// function cannot be reached. The rule, on the device clock:
//   - a credential is good from the moment its request was SENT for its `ttl` seconds
//     (`expiresAt` is the server's clock: not compared with the device's);
//   - it is fetched again once less than a fifth of its ttl is left (at most 5 minutes before its end);
//   - if that fetch fails, the cached credential is used while it is still good; with none
//     good, the failure is an error that says what to do.
import { CREDENTIAL_REFRESH_FRACTION, CREDENTIAL_REFRESH_MAX_MS } from "./constants";

/** The parts of the callable's answer a peer connection needs. */
export interface TurnCredentials {
  username: string;
  credential: string;
  ttl: number;
  expiresAt: number;
  uris: string[];
  iceServers: RTCIceServer[];
}

/** The callable could not give a credential and none is cached: the app shows `message`. */
export class CredentialsUnavailable extends Error {
  override readonly name = "CredentialsUnavailable";
}

/** Checks the callable's answer field by field (a bad answer is an error, not a crash later). */
export function readCredentials(data: unknown): TurnCredentials {
  const map = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  const strings = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === "string");
  if (typeof map.username !== "string" || typeof map.credential !== "string" || !Number.isInteger(map.ttl) || (map.ttl as number) <= 0 || !Number.isInteger(map.expiresAt) || !strings(map.uris) || !Array.isArray(map.iceServers)) {
    throw new CredentialsUnavailable("getTurnCredentials answered with something this app cannot use (username, credential, ttl, expiresAt, uris and iceServers are required).");
  }
  return map as unknown as TurnCredentials;
}

/** Milliseconds before the end of a `ttl`-second credential at which it is fetched again. */
export function refreshMarginMs(ttlSeconds: number): number {
  return Math.min(CREDENTIAL_REFRESH_MAX_MS, ttlSeconds * 1_000 * CREDENTIAL_REFRESH_FRACTION);
}

interface Cached {
  credentials: TurnCredentials;
  /** The server's clock minus the device's: minted at expiresAt − ttl (server), taken as the middle of its request (device). */
  serverOffsetMs: number;
  refreshAtMillis: number;
  goodUntilMillis: number;
}

/** The cache: `get(validForMs)` returns a credential good for at least that long, fetched only when needed. */
export class CredentialsCache {
  private cached: Cached | undefined;
  private inflight: Promise<TurnCredentials> | undefined;
  /** How many times the callable was asked (and answered or failed). */
  fetches = 0;

  constructor(
    private readonly fetch: () => Promise<unknown>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A credential: the cached one while no refresh is due (and, if `validForMs` is given, it
   * stays good that long: an ICE restart allocates again, and coturn refuses an expired one).
   */
  get(validForMs = 0): Promise<TurnCredentials> {
    const cached = this.cached;
    const now = this.now();
    if (cached && now < cached.refreshAtMillis && now + validForMs < cached.goodUntilMillis) return Promise.resolve(cached.credentials);
    this.inflight ??= this.refresh(validForMs).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async refresh(validForMs: number): Promise<TurnCredentials> {
    const sentAt = this.now();
    this.fetches += 1;
    let credentials: TurnCredentials;
    try {
      credentials = readCredentials(await this.fetch());
    } catch (error) {
      const cached = this.cached;
      if (cached && this.now() + validForMs < cached.goodUntilMillis) return cached.credentials;
      throw error instanceof CredentialsUnavailable ? error : new CredentialsUnavailable(describeFailure(error));
    }
    const lifetime = credentials.ttl * 1_000;
    const serverOffsetMs = (credentials.expiresAt - credentials.ttl) * 1_000 - (sentAt + this.now()) / 2;
    this.cached = { credentials, serverOffsetMs, refreshAtMillis: sentAt + lifetime - refreshMarginMs(credentials.ttl), goodUntilMillis: sentAt + lifetime };
    return credentials;
  }

  /**
   * The server's clock now, to about a second, as the cached credential tells it: minted at its
   * `expiresAt` minus its `ttl` (server time) in the middle of its request (device time), carried
   * forward on the device's clock. Undefined with nothing cached.
   */
  serverNowMillis(): number | undefined {
    return this.cached && this.now() + this.cached.serverOffsetMs;
  }

  /** Forgets the credential (sign-out: it names the previous user). */
  clear(): void {
    this.cached = undefined;
  }
}

/** A sentence for a callable failure: unreachable (network, not deployed) or refused (with the function's message). */
function describeFailure(error: unknown): string {
  const raw = (error as { code?: unknown } | null)?.code;
  const code = (typeof raw === "string" ? raw : "").replace(/^functions\//, "");
  const message = error instanceof Error ? error.message : String(error);
  if (code === "internal" || code === "unavailable" || code === "deadline-exceeded" || code === "") {
    return `No TURN credentials: getTurnCredentials could not be reached (${message}) and no earlier credential is still valid; calls need the network and the function deployed.`;
  }
  return `No TURN credentials: getTurnCredentials refused the request (${code}): ${message}`;
}
