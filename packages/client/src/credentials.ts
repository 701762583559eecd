import { serverTimeOfCredential, turnCredentialsSchema, type TurnCredentials } from "@webrtc-lite/contract";
import type { z } from "zod";

export type { TurnCredentials };

/** Why getting TURN credentials failed: the callable said no, could not be reached, or answered nonsense. */
export type TurnCredentialsFailure = "refused" | "unreachable" | "invalid-response";

/** A failure to get TURN credentials, with a sentence a person can act on as its message. */
export class TurnCredentialsError extends Error {
  override readonly name = "TurnCredentialsError";
  constructor(
    readonly failure: TurnCredentialsFailure,
    message: string,
    /** The callable's error code (`unauthenticated`, `failed-precondition`, …) when it refused. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Checks a `getTurnCredentials` answer; anything else becomes an `invalid-response` error naming the first problem. */
export function parseTurnCredentials(data: unknown): TurnCredentials {
  const parsed = turnCredentialsSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.length > 0 ? issue.path.join(".") : "the answer";
  throw new TurnCredentialsError(
    "invalid-response",
    `getTurnCredentials answered with something this client cannot use: ${where} ${describeIssue(issue)}.`,
  );
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  object: "an object",
  array: "a list",
};

function entries(count: number | bigint): string {
  return `${count} ${count === 1 ? "entry" : "entries"}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "too_small":
      return issue.origin === "array" ? `must hold at least ${entries(issue.minimum)}` : `must be at least ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array" ? `must hold at most ${entries(issue.maximum)}` : `must be at most ${issue.maximum}`;
    default:
      return issue.message;
  }
}

/**
 * Turns whatever the callable threw into a `TurnCredentialsError`. The Firebase SDK appends the
 * HTTP status to the function's message (" [401]"), and reports a network failure as
 * `internal` with HTTP status 0, which is how an unreachable function is told apart from one
 * that answered.
 */
export function credentialsErrorFrom(error: unknown): TurnCredentialsError {
  if (error instanceof TurnCredentialsError) return error;
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  const raw = error instanceof Error ? error.message : String(error);
  const status = / \[(\d{1,3})\]$/.exec(raw);
  const message = status ? raw.slice(0, status.index) : raw;
  const shortCode = code.replace(/^functions\//, "");
  if (shortCode === "internal" && (status?.[1] === "0" || message === "internal")) {
    return new TurnCredentialsError(
      "unreachable",
      "Could not reach the getTurnCredentials function: it is not deployed, the emulator is not running, or the network is down.",
      shortCode,
    );
  }
  if (shortCode === "unavailable" || shortCode === "deadline-exceeded") {
    return new TurnCredentialsError(
      "unreachable",
      "The getTurnCredentials function did not answer in time; try again in a moment.",
      shortCode,
    );
  }
  if (shortCode === "") {
    return new TurnCredentialsError("unreachable", `Could not call getTurnCredentials: ${message}`);
  }
  return new TurnCredentialsError("refused", `getTurnCredentials refused the request (${shortCode}): ${message}`, shortCode);
}

/** Fetches one raw, unchecked `getTurnCredentials` answer. */
export type FetchTurnCredentials = () => Promise<unknown>;

/** Cached credentials that are fetched again before they expire. */
export interface CredentialCache {
  /** Valid credentials: the cached ones, or fresh ones once the cached ones are near their end. */
  get(): Promise<TurnCredentials>;
  /** Forgets the cached credentials (e.g. after sign-out: they name the previous user). */
  clear(): void;
  /**
   * The server's time now (epoch ms) as the last credentials imply it (`serverTimeOfCredential`,
   * carried forward on this device's clock from the middle of their request), to about a
   * second; `undefined` before any credentials arrived.
   */
  serverNowMillis(): number | undefined;
}

/** When cached credentials are replaced: once `fraction` of their lifetime is left, but never earlier than `maxMarginSeconds` before their end. */
export const CREDENTIAL_REFRESH = Object.freeze({ fraction: 0.2, maxMarginSeconds: 300 } as const);

/** How long before the end of its lifetime a credential is replaced: a fifth of the TTL, at most five minutes. */
export function refreshMarginSeconds(ttl: number): number {
  // Divided, not multiplied: 0.2 has no exact binary form but 1 / 0.2 is exactly 5, so a
  // whole-second TTL gets an exact margin (60 s → 12 s, not 12.000000000000002 s).
  return Math.min(CREDENTIAL_REFRESH.maxMarginSeconds, ttl / (1 / CREDENTIAL_REFRESH.fraction));
}

interface CacheEntry {
  credentials: TurnCredentials;
  refreshAtMs: number;
  expiresAtMs: number;
}

/**
 * Caches credentials from `fetch`. Deadlines are measured on this device's clock from the moment
 * the request was sent plus the granted `ttl`, not from the server's `expiresAt`, so a device
 * clock that is off does not make the cache refetch on every call or hand out expired
 * credentials. Concurrent callers share one request. If a refresh fails while the cached
 * credentials are still valid, those are returned; a failure with nothing valid is thrown.
 */
export function createCredentialCache(fetch: FetchTurnCredentials, now: () => number = Date.now): CredentialCache {
  let entry: CacheEntry | undefined;
  let inflight: Promise<TurnCredentials> | undefined;
  let generation = 0;
  /** The server's clock minus this device's, as the last credentials showed it. */
  let serverOffsetMs: number | undefined;

  const refresh = async (): Promise<TurnCredentials> => {
    const requestedAtMs = now();
    const started = generation;
    let credentials: TurnCredentials;
    try {
      credentials = parseTurnCredentials(await fetch());
    } catch (error) {
      if (entry && now() < entry.expiresAtMs) return entry.credentials;
      throw credentialsErrorFrom(error);
    }
    // A clear() while the request was in flight means its answer may belong to the previous user.
    if (started === generation) {
      const issuedAt = serverTimeOfCredential(credentials);
      if (issuedAt !== undefined) serverOffsetMs = issuedAt - (requestedAtMs + now()) / 2;
      entry = {
        credentials,
        refreshAtMs: requestedAtMs + (credentials.ttl - refreshMarginSeconds(credentials.ttl)) * 1000,
        expiresAtMs: requestedAtMs + credentials.ttl * 1000,
      };
    }
    return credentials;
  };

  return {
    get() {
      if (entry && now() < entry.refreshAtMs) return Promise.resolve(entry.credentials);
      if (inflight) return inflight;
      const pending = refresh().finally(() => {
        if (inflight === pending) inflight = undefined;
      });
      inflight = pending;
      return pending;
    },
    clear() {
      entry = undefined;
      inflight = undefined;
      generation += 1;
    },
    serverNowMillis() {
      return serverOffsetMs === undefined ? undefined : now() + serverOffsetMs;
    },
  };
}
