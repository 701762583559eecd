import { spawnSync } from "node:child_process";
import { chmod, chown, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { resolveSecrets, secretSourceFromEnvironment, type SecretManagerPort } from "./secrets";

/** The accepted shared secrets (newest first) from Secret Manager or the environment. */
export function loadSecrets(env: NodeJS.ProcessEnv, nowMillis = Date.now()): Promise<string[]> {
  // Loaded only for the Secret Manager path: the environment path needs no Google libraries.
  const client = async (): Promise<SecretManagerPort> => {
    const { SecretManagerServiceClient } = await import("@google-cloud/secret-manager");
    return new SecretManagerServiceClient();
  };
  return resolveSecrets(secretSourceFromEnvironment(env), client, nowMillis);
}

/** Whether the local coturn binary was built with the Prometheus exporter. */
export function coturnHasPrometheus(binary = "turnserver"): boolean {
  const help = spawnSync(binary, ["--help"], { encoding: "utf8" });
  return `${help.stdout ?? ""}${help.stderr ?? ""}`.includes("--prometheus");
}

/** Resolves `user[:group]` (names or numeric ids) to numeric ids with `id(1)`. */
export function resolveOwner(owner: string): { uid: number; gid: number } {
  const [user = "", group] = owner.split(":");
  const uid = /^\d+$/.test(user) ? Number(user) : idOf(["-u", user], `user ${JSON.stringify(user)}`);
  const gid =
    group === undefined
      ? /^\d+$/.test(user)
        ? uid
        : idOf(["-g", user], `user ${JSON.stringify(user)}`)
      : /^\d+$/.test(group)
        ? Number(group)
        : groupId(group);
  return { uid, gid };
}

function idOf(args: string[], what: string): number {
  const result = spawnSync("id", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`--owner names ${what}, which does not exist on this host`);
  return Number(result.stdout.trim());
}

function groupId(group: string): number {
  const result = spawnSync("getent", ["group", group], { encoding: "utf8" });
  const gid = result.status === 0 ? result.stdout.split(":")[2] : undefined;
  if (gid === undefined) throw new Error(`--owner names group ${JSON.stringify(group)}, which does not exist on this host`);
  return Number(gid);
}

/**
 * Writes through a temporary file in the same directory, created with `mode` (and owner) before
 * any byte is written, then renamed into place: readers never see half a file, and a secret is
 * never readable by others, not even for a moment.
 */
export async function writeAtomically(path: string, text: string, options: { mode: number; owner?: { uid: number; gid: number } }): Promise<void> {
  const temporary = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temporary, "wx", options.mode);
  try {
    // open() applies the umask; chmod makes the mode exact.
    await chmod(temporary, options.mode);
    if (options.owner) await chown(temporary, options.owner.uid, options.owner.gid);
    await handle.writeFile(text, "utf8");
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}
