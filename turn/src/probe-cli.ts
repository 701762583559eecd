// `webrtc-lite-turn-probe turn:host:3478?transport=udp turns:host:5349?transport=tcp …` (from a
// checkout: `npm run turn:probe -- …`): mints a
// short-lived credential from the shared secret and performs a real TURN Allocate on every URI.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { mintTurnCredential, sharedSecretProblem } from "@webrtc-lite/contract/turn-rest";
import { loadSecrets, writeAtomically } from "./cli-support";
import { TurnClient, type TurnCredential } from "./client";
import { describeFailure, formatResult, formatSummary, probeTargets, prometheusText, type ProbeResult, type ProbeTarget } from "./probe";

const PROBE_TTL_SECONDS = 300;

const TIMEOUT_MESSAGE = "--timeout-ms must be a whole number from 100 to 60000";

const optionsSchema = z.object({
  "timeout-ms": z.coerce.number({ message: TIMEOUT_MESSAGE }).int({ message: TIMEOUT_MESSAGE }).min(100, { message: TIMEOUT_MESSAGE }).max(60_000, { message: TIMEOUT_MESSAGE }),
  // node_exporter's textfile collector reads only *.prom files and ignores the rest silently.
  "prometheus-file": z
    .string()
    .regex(/\.prom$/, { message: "--prometheus-file must end in .prom: node_exporter's textfile collector reads only *.prom files" })
    .optional(),
  ca: z.string().optional(),
});

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
  const options = optionsSchema.safeParse(values);
  if (!options.success) {
    console.error(`turn:probe: ${[...new Set(options.error.issues.map((issue) => issue.message))].join("; ")}`);
    return 2;
  }
  const { "timeout-ms": timeoutMs, "prometheus-file": prometheusFile } = options.data;
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
  const ca = options.data.ca === undefined ? undefined : readFileSync(options.data.ca);
  const results: ProbeResult[] = [];
  for (const target of parsed.targets) {
    const result = await probe(target, { username, credential }, timeoutMs, ca);
    console.log(formatResult(result));
    results.push(result);
  }
  // node_exporter may read the file at any moment, hence the atomic replace.
  if (prometheusFile) {
    await writeAtomically(resolve(prometheusFile), prometheusText(results, Date.now()), { mode: 0o644 });
  }
  for (const line of formatSummary(results)) console.log(line);
  return results.every((result) => result.ok) ? 0 : 1;
}

async function probe(target: ProbeTarget, credential: TurnCredential, timeoutMs: number, ca?: Buffer): Promise<ProbeResult> {
  const place = { uri: target.uri, host: target.server.host, transport: target.server.transport };
  let client: TurnClient | undefined;
  try {
    client = await TurnClient.connect({ ...target.server, ...(ca ? { tls: { ca } } : {}) }, credential, timeoutMs);
    const allocation = await client.allocate();
    // Give the allocation back at once so probes never eat into the user quota.
    await client.release();
    return { ...place, ...certificate(client), ok: true, relayed: allocation.relayed, rttMs: allocation.rttMs };
  } catch (error) {
    // A 401 after a good handshake still tells when the certificate expires.
    return { ...place, ...certificate(client), ok: false, ...describeFailure(error, target, timeoutMs) };
  } finally {
    client?.close();
  }
}

function certificate(client: TurnClient | undefined): { certificateNotAfterMs?: number } {
  const notAfter = client?.certificateNotAfterMs;
  return notAfter === undefined ? {} : { certificateNotAfterMs: notAfter };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`turn:probe: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
