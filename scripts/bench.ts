// `npm run bench`: prints what minting costs, against baselines measured in the same run.
//  1. the handler in-process vs raw node:crypto HMAC-SHA1 (the floor);
//  2. cold import of the functions entry point vs firebase-functions alone;
//  3. the callable through the Functions + Auth emulators at concurrency 1 and 4;
//  4. call setup through the Auth + Firestore emulators vs a bare write→listen, and the recovery of
//     a call whose path breaks (coturn restart, an address change) vs a fresh connect (scripts/bench/);
//  5. one sweep run over a backlog of stale sessions vs bare guarded updates (scripts/bench/sweep.ts);
//  relay. coturn relaying call-like UDP vs a plain UDP echo, per CPU-second, and the relayed calls
//     per Always Free shape that follow (scripts/bench/turn-capacity.ts);
//  6. redial: dial → ring for a redial from memory and after a restart vs a plain dial (scripts/bench/redial.ts).
// Figures only: nothing here passes or fails on timing. Name sections to run only those:
// `npm run bench -- calls` (minting, imports, callable, calls, sweep, relay, redial; recovery is the
// second half of calls alone).
import { createHmac } from "node:crypto";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { handleGetTurnCredentials } from "#functions/credentials/handler";
import { callRaw, signUpUser } from "@webrtc-lite/dev-stack/callable";
import { REPO_ROOT, startEmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { callSetup } from "./bench/call-setup";
import { recovery } from "./bench/recovery";
import { redial } from "./bench/redial";
import { sweepBacklog } from "./bench/sweep";
import { turnCapacity } from "./bench/turn-capacity";
import { fmt, median, percentile } from "./bench/stats";

const secret = newSecret();
const config = {
  secret,
  turnUris: "turn:turn.example.com:3478?transport=udp,turn:turn.example.com:3478?transport=tcp,turns:turn.example.com:443?transport=tcp",
  stunUris: "",
  enforceAppCheck: false,
};

function opsPerSecond(iterations: number, operation: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(iterations, 20_000); i += 1) operation(i); // warm-up: JIT and caches
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) operation(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return iterations / seconds;
}

function inProcess(): void {
  const iterations = 300_000;
  const now = Date.now();
  const rounds = 5;
  const raw: number[] = [];
  const handler: number[] = [];
  // Interleaved rounds so that drift (thermal, GC, the other core) hits both alike.
  for (let round = 0; round < rounds; round += 1) {
    raw.push(opsPerSecond(iterations, (i) => createHmac("sha1", secret).update(`${1_700_000_000 + (i % 1000)}:bench-user`).digest("base64")));
    handler.push(
      opsPerSecond(iterations, (i) =>
        handleGetTurnCredentials({ auth: { uid: "bench-user", token: {} } as never, app: undefined, data: { ttl: 3600 } }, config, now + i),
      ),
    );
  }
  const rawMedian = median(raw);
  const handlerMedian = median(handler);
  console.log("\n1. Minting in-process (median of 5 rounds of 300,000)");
  console.log(`   raw HMAC-SHA1 (node:crypto) : ${fmt(rawMedian)} ops/s  (${fmt(1e6 / rawMedian, 2)} µs/op)`);
  console.log(`   handleGetTurnCredentials    : ${fmt(handlerMedian)} ops/s  (${fmt(1e6 / handlerMedian, 2)} µs/op)`);
  console.log(`   handler cost / raw HMAC     : ${fmt(rawMedian / handlerMedian, 2)}x  (goal: at most 3x)`);
}

/**
 * Section 3's series. The Functions emulator runs each request in a Node process of its own and
 * starts another process whenever none is idle (firebase-tools' RuntimeWorkerPool). Measured on
 * a 2-core machine: 8 requests at once on a cold emulator were answered after 6.2 s (8 runtimes
 * started); then 16 at once in 229 ms; then 32 at once: the 16 that found a warm runtime in
 * 1.7 s, the 16 that made it start new ones not within 120 s. The old concurrency-16 series
 * warmed up with 32 at once and died on undici's 5-minute header timeout. So a series keeps only
 * a few requests in flight and bounds each; production serves many requests per instance, which
 * no emulator series measures.
 */
const EMULATOR_SERIES = [
  { concurrency: 1, total: 200 },
  { concurrency: 4, total: 200 },
] as const;
/** A call the emulator has not answered by then counts as failed instead of stalling the run. */
const CALL_TIMEOUT_MS = 30_000;
/** A series stops starting calls after this long and reports what it measured. */
const SERIES_BUDGET_MS = 90_000;

async function throughEmulator(): Promise<void> {
  const stack = await startEmulatorStack({
    emulators: ["auth", "functions"],
    params: functionParams(config.turnUris.split(",")),
    secrets: { TURN_SHARED_SECRET: secret },
  });
  try {
    const user = await signUpUser(stack.ports.auth);
    const url = stack.functionUrl("getTurnCredentials");
    const failures = new Map<string, number>();
    const call = async (): Promise<number | undefined> => {
      const start = process.hrtime.bigint();
      try {
        const answer = await callRaw(url, { idToken: user.idToken, data: { ttl: 600 }, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
        if (answer.status === 200) return Number(process.hrtime.bigint() - start) / 1e6;
        const reason = `HTTP ${answer.status} ${answer.body.error?.status ?? ""}`.trim();
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      } catch (error) {
        const reason = error instanceof Error && error.name === "TimeoutError" ? `no answer within ${CALL_TIMEOUT_MS / 1000} s` : String(error);
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
      return undefined;
    };
    console.log("\n3. getTurnCredentials through the Functions + Auth emulators (raw callable protocol)");
    console.log("   the emulator runs one request per Node process: these figures are its HTTP path, not production's concurrency");
    for (const { concurrency, total } of EMULATOR_SERIES) {
      failures.clear();
      // Warm-up: as many requests at once as the series keeps in flight, so that the emulator's
      // runtime processes are started before the clock runs.
      await Promise.all(Array.from({ length: concurrency }, call));
      failures.clear();
      const latencies: number[] = [];
      let started = 0;
      const deadline = performance.now() + SERIES_BUDGET_MS;
      const start = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (started < total && performance.now() < deadline) {
            started += 1;
            const latency = await call();
            if (latency !== undefined) latencies.push(latency);
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const failed = [...failures].map(([reason, count]) => `${count}× ${reason}`).join(", ");
      const cut = started < total ? ` (stopped after ${SERIES_BUDGET_MS / 1000} s)` : "";
      console.log(
        `   concurrency ${String(concurrency).padStart(2)}: ${latencies.length} of ${started} calls answered${cut}` +
          (latencies.length > 0 ? `, p50 ${fmt(percentile(latencies, 50), 1)} ms, p99 ${fmt(percentile(latencies, 99), 1)} ms, ${fmt(latencies.length / seconds, 1)} calls/s` : "") +
          (failed ? `; failed: ${failed}` : ""),
      );
    }
  } finally {
    await stack.stop();
  }
}

function coldImports(): void {
  const functionsDir = join(REPO_ROOT, "functions");
  // The entry point is measured as a platform instance uses it: load the file, read the export.
  type ImportCost = { ms: number; modules: number; adminModules: number; firestoreModules: number; adminApps: number };
  const measure = (target: string, exportName?: string): ImportCost => {
    const script = `
      const t = process.hrtime.bigint();
      const loaded = require(${JSON.stringify(target)});
      ${exportName ? `if (typeof loaded[${JSON.stringify(exportName)}] !== "function") throw new Error("no export");` : ""}
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      const keys = Object.keys(require.cache);
      const adminModules = keys.filter((k) => k.includes("/node_modules/firebase-admin/")).length;
      const firestoreModules = keys.filter((k) => k.includes("/node_modules/@google-cloud/firestore/")).length;
      const adminApps = adminModules > 0 ? require("firebase-admin/app").getApps().length : 0;
      console.log(JSON.stringify({ ms, modules: keys.length, adminModules, firestoreModules, adminApps }));`;
    const run = spawnSync(process.execPath, ["-e", script], { cwd: functionsDir, encoding: "utf8" });
    if (run.status !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as ImportCost;
  };
  const sample = (target: string, exportName?: string) => {
    const runs = Array.from({ length: 9 }, () => measure(target, exportName));
    return { ...runs[0], ms: median(runs.map((r) => r.ms)) };
  };
  const sdk = sample("firebase-functions/v2/https");
  const entry = sample("./lib/index.js", "getTurnCredentials");
  const trigger = sample("./lib/index.js", "onSessionWritten");
  console.log("\n2. Cold import in a fresh Node process (median of 9)");
  console.log(`   firebase-functions/v2/https alone : ${fmt(sdk.ms, 1)} ms, ${sdk.modules} modules`);
  console.log(`   entry point → getTurnCredentials  : ${fmt(entry.ms, 1)} ms, ${entry.modules} modules`);
  console.log(`   entry point / SDK alone           : ${fmt(entry.ms / sdk.ms, 2)}x`);
  console.log(`   on that path: firebase-admin modules ${entry.adminModules} (loaded by firebase-functions' https), Firestore SDK modules ${entry.firestoreModules}, initialised apps ${entry.adminApps}`);
  console.log(`   for comparison, → onSessionWritten: ${fmt(trigger.ms, 1)} ms, ${trigger.modules} modules (Firestore SDK modules ${trigger.firestoreModules})`);
}

async function main(): Promise<void> {
  console.log(`WebRTC-Lite benchmark on Node ${process.version}, ${new Date().toISOString()}`);
  // `npm run bench -- calls` (or minting, imports, callable, sweep, relay, redial) runs only the sections named.
  const only = process.argv.slice(2);
  const wanted = (name: string): boolean => only.length === 0 || only.includes(name);
  if (wanted("minting")) inProcess();
  if (wanted("imports")) coldImports();
  if (wanted("callable")) await throughEmulator();
  if (wanted("calls")) await callSetup();
  // Section 4's recovery part alone (`calls` runs it too).
  else if (only.includes("recovery")) await recovery();
  if (wanted("sweep")) await sweepBacklog();
  if (wanted("relay")) await turnCapacity();
  if (wanted("redial")) await redial();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
