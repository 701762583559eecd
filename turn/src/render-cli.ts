// `webrtc-lite-turn-config [--out /etc/turnserver.conf] [--owner turnserver]` (from a checkout:
// `npm run turn:config -- …`): renders the coturn config from the environment and the shared
// secret. Prints one line; never prints a secret.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { coturnHasPrometheus, loadSecrets, resolveOwner, writeAtomically } from "./cli-support";
import { renderTurnConfig } from "./render";
import { settingsFromEnvironment } from "./settings";

const TEMPLATE = join(__dirname, "..", "turnserver.conf.template");

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: "/etc/turnserver.conf" },
      owner: { type: "string" },
    },
    strict: true,
  });
  const out = resolve(values.out);
  const check = settingsFromEnvironment(process.env);
  if (!check.ok) {
    console.error(`turn:config: cannot render: ${check.problems.join("; ")}`);
    return 2;
  }
  const settings = { ...check.settings, prometheus: check.prometheus === "on" || (check.prometheus === "auto" && coturnHasPrometheus()) };
  const owner = values.owner === undefined ? undefined : resolveOwner(values.owner);
  const secrets = await loadSecrets(process.env);
  const config = renderTurnConfig(await readFile(TEMPLATE, "utf8"), settings, secrets);
  const lines = `${secrets.length} static-auth-secret line${secrets.length === 1 ? "" : "s"}`;
  const existing = await readFile(out, "utf8").catch(() => undefined);
  if (existing === config) {
    console.log(`turn:config: ${out} is up to date (${lines})`);
    return 0;
  }
  // Mode 0600 from the first byte: the file holds the shared secret.
  await writeAtomically(out, config, { mode: 0o600, ...(owner ? { owner } : {}) });
  console.log(`turn:config: wrote ${out} (${lines}, mode 0600)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`turn:config: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
