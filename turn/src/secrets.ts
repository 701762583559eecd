/** The parts of `SecretManagerServiceClient` the kit uses, so tests can pass a fake. */
export interface SecretManagerPort {
  listSecretVersions(request: { parent: string; filter: string }): Promise<[SecretVersionRecord[], ...unknown[]]>;
  accessSecretVersion(request: { name: string }): Promise<[{ payload?: { data?: Uint8Array | string | null } | null }, ...unknown[]]>;
}

/** A secret version as Secret Manager lists it (protobuf timestamp: seconds may be a Long or string). */
export interface SecretVersionRecord {
  name?: string | null;
  createTime?: { seconds?: number | string | { toString(): string } | null } | null;
}

/** Where the shared secret comes from, decided from the environment. */
export type SecretSource =
  | { kind: "environment"; current: string; previous?: string }
  | { kind: "secret-manager"; secret: string; rotationWindowSeconds: number };

/** Default rotation window: the longest credential TTL (24 h) plus a day to redeploy the function. */
export const DEFAULT_ROTATION_WINDOW_SECONDS = 172_800;

const SECRET_NAME = /^projects\/[^/\s]+\/secrets\/[A-Za-z0-9_-]{1,255}$/;

/** Raised when the secret cannot be obtained; the message never contains a secret. */
export class SecretSourceError extends Error {
  override name = "SecretSourceError";
}

/**
 * Picks the source: `TURN_SECRET_NAME` (`projects/<project>/secrets/TURN_SHARED_SECRET`, the
 * secret the function uses) or `TURN_SHARED_SECRET` (+ optional `TURN_PREVIOUS_SHARED_SECRET`).
 */
export function secretSourceFromEnvironment(env: Record<string, string | undefined>): SecretSource {
  const name = env.TURN_SECRET_NAME?.trim();
  const current = env.TURN_SHARED_SECRET;
  if (name && current !== undefined) {
    throw new SecretSourceError("both TURN_SECRET_NAME and TURN_SHARED_SECRET are set: keep one source of truth and unset the other");
  }
  if (name) {
    if (!SECRET_NAME.test(name)) {
      throw new SecretSourceError("TURN_SECRET_NAME must look like projects/<project-id>/secrets/TURN_SHARED_SECRET");
    }
    const window = env.TURN_ROTATION_WINDOW_SECONDS ?? String(DEFAULT_ROTATION_WINDOW_SECONDS);
    if (!/^\d+$/.test(window)) throw new SecretSourceError("TURN_ROTATION_WINDOW_SECONDS must be a whole number of seconds");
    return { kind: "secret-manager", secret: name, rotationWindowSeconds: Number(window) };
  }
  if (current === undefined) {
    throw new SecretSourceError("no shared secret: set TURN_SECRET_NAME (Secret Manager) or TURN_SHARED_SECRET (environment)");
  }
  const previous = env.TURN_PREVIOUS_SHARED_SECRET;
  return { kind: "environment", current, ...(previous ? { previous } : {}) };
}

/**
 * The secrets coturn must accept, newest first. From Secret Manager: the newest enabled
 * version, plus each older enabled version whose successor is younger than the rotation
 * window (credentials signed with it may still be alive).
 */
export async function resolveSecrets(source: SecretSource, client: () => Promise<SecretManagerPort>, nowMillis: number): Promise<string[]> {
  if (source.kind === "environment") return source.previous ? [source.current, source.previous] : [source.current];
  const port = await client();
  let versions: SecretVersionRecord[];
  try {
    [versions] = await port.listSecretVersions({ parent: source.secret, filter: "state:ENABLED" });
  } catch (error) {
    throw new SecretSourceError(`could not list the versions of ${source.secret}: ${describe(error)}`);
  }
  const names = versionsInWindow(versions, nowMillis, source.rotationWindowSeconds);
  if (names.length === 0) throw new SecretSourceError(`${source.secret} has no enabled version: add one with \`firebase functions:secrets:set\``);
  const secrets: string[] = [];
  for (const name of names) {
    let payload: Uint8Array | string | null | undefined;
    try {
      const [response] = await port.accessSecretVersion({ name });
      payload = response.payload?.data;
    } catch (error) {
      throw new SecretSourceError(`could not read ${name}: ${describe(error)}`);
    }
    secrets.push(typeof payload === "string" ? payload : Buffer.from(payload ?? []).toString("utf8"));
  }
  return secrets;
}

/** Version names to accept, newest first (see `resolveSecrets`). */
export function versionsInWindow(versions: readonly SecretVersionRecord[], nowMillis: number, windowSeconds: number): string[] {
  const dated = versions
    .filter((version): version is SecretVersionRecord & { name: string } => typeof version.name === "string")
    .map((version) => ({ name: version.name, created: Number(String(version.createTime?.seconds ?? 0)) }))
    .sort((a, b) => b.created - a.created);
  const accepted: string[] = [];
  dated.forEach((version, index) => {
    const successor = dated[index - 1];
    if (!successor || nowMillis / 1000 - successor.created < windowSeconds) accepted.push(version.name);
  });
  return accepted;
}

function describe(error: unknown): string {
  // gax errors carry a gRPC status (e.g. 7 PERMISSION_DENIED) and a message without secrets.
  return error instanceof Error ? error.message : String(error);
}
