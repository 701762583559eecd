// `npm run turn:probe -- turn:host:3478?transport=udp turns:host:5349?transport=tcp …`: mints a
// short-lived credential from the shared secret and performs a real TURN Allocate on every URI.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { mintTurnCredential } from "../../functions/src/credentials/mint";
import { sharedSecretProblem } from "../../functions/src/credentials/secret";
import { loadSecrets, writeAtomically } from "./cli-support";
import { TurnClient, type TurnCredential } from "./client";
import { failureReason, formatResult, probeTargets, prometheusText, type ProbeResult, type ProbeTarget } from "./probe";

const PROBE_TTL_SECONDS = 300;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      "timeout-ms": { type: "string", default: "5000" },
      "prometheus-file": { type: "string" },
      ca: { type: "string" },
    },
    strict: true,
  });
  const timeoutMs = Number(values["timeout-ms"]);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
    console.error("turn:probe: --timeout-ms must be a whole number from 100 to 60000");
    return 2;
  }
  const parsed = probeTargets(positionals);
  if (!parsed.ok) {
    console.error(`turn:probe: ${parsed.problems.join("; ")}`);
    return 2;
  }
  const [secret = ""] = await loadSecrets(process.env);
  const problem = sharedSecretProblem(secret);
  if (problem) {
    console.error(`turn:probe: ${problem}`);
    return 2;
  }
  const { username, credential } = mintTurnCredential(secret, "turn-probe", PROBE_TTL_SECONDS, Date.now());
  const ca = values.ca === undefined ? undefined : readFileSync(values.ca);
  const results: ProbeResult[] = [];
  for (const target of parsed.targets) {
    const result = await probe(target, { username, credential }, timeoutMs, ca);
    console.log(formatResult(result));
    results.push(result);
  }
  // node_exporter may read the file at any moment, hence the atomic replace.
  if (values["prometheus-file"]) {
    await writeAtomically(resolve(values["prometheus-file"]), prometheusText(results, Date.now()), { mode: 0o644 });
  }
  const passed = results.filter((result) => result.ok).length;
  console.log(`turn:probe: ${passed} of ${results.length} URI${results.length === 1 ? "" : "s"} passed`);
  return passed === results.length ? 0 : 1;
}

async function probe(target: ProbeTarget, credential: TurnCredential, timeoutMs: number, ca?: Buffer): Promise<ProbeResult> {
  let client: TurnClient | undefined;
  try {
    client = await TurnClient.connect({ ...target.server, ...(ca ? { tls: { ca } } : {}) }, credential, timeoutMs);
    const allocation = await client.allocate();
    // Give the allocation back at once so probes never eat into the user quota.
    await client.release();
    return { uri: target.uri, ok: true, relayed: allocation.relayed, rttMs: allocation.rttMs };
  } catch (error) {
    return { uri: target.uri, ok: false, reason: failureReason(error, target, timeoutMs) };
  } finally {
    client?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`turn:probe: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
