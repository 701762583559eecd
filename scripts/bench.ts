// `npm run bench`: prints what minting costs, against baselines measured in the same run.
//  1. the handler in-process vs raw node:crypto HMAC-SHA1 (the floor);
//  2. cold import of the functions entry point vs firebase-functions alone;
//  3. the callable through the Functions + Auth emulators at concurrency 1 and 16;
//  4. call setup through the Auth + Firestore emulators vs a bare write→listen (scripts/bench/).
// Figures only: nothing here passes or fails on timing. Name sections to run only those:
// `npm run bench -- calls` (minting, imports, callable, calls).
import { createHmac } from "node:crypto";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { handleGetTurnCredentials } from "#functions/credentials/handler";
import { callRaw, signUpUser } from "@webrtc-lite/dev-stack/callable";
import { REPO_ROOT, startEmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { callSetup } from "./bench/call-setup";
import { fmt, median, percentile } from "./bench/stats";

const secret = newSecret();
const config = {
  secret,
  turnUris: "turn:turn.example.com:3478?transport=udp,turn:turn.example.com:3478?transport=tcp,turns:turn.example.com:5349?transport=tcp",
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

async function throughEmulator(): Promise<void> {
  const stack = await startEmulatorStack({
    emulators: ["auth", "functions"],
    params: functionParams(config.turnUris.split(",")),
    secrets: { TURN_SHARED_SECRET: secret },
  });
  try {
    const user = await signUpUser(stack.ports.auth);
    const url = stack.functionUrl("getTurnCredentials");
    const call = async (): Promise<number> => {
      const start = process.hrtime.bigint();
      const answer = await callRaw(url, { idToken: user.idToken, data: { ttl: 600 } });
      if (answer.status !== 200) throw new Error(`callable answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    console.log("\n3. getTurnCredentials through the Functions + Auth emulators (raw callable protocol)");
    for (const [concurrency, total] of [
      [1, 200],
      [16, 400],
    ] as const) {
      // Warm-up: the emulator starts one runtime process per concurrent request.
      await Promise.all(Array.from({ length: concurrency * 2 }, call));
      const latencies: number[] = [];
      let next = 0;
      const start = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) {
            next += 1;
            latencies.push(await call());
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      console.log(
        `   concurrency ${String(concurrency).padStart(2)}: ${total} calls, p50 ${fmt(percentile(latencies, 50), 1)} ms, ` +
          `p99 ${fmt(percentile(latencies, 99), 1)} ms, ${fmt(total / seconds, 1)} calls/s`,
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
  // `npm run bench -- calls` (or minting, imports, callable) runs only the sections named.
  const only = process.argv.slice(2);
  const wanted = (name: string): boolean => only.length === 0 || only.includes(name);
  if (wanted("minting")) inProcess();
  if (wanted("imports")) coldImports();
  if (wanted("callable")) await throughEmulator();
  if (wanted("calls")) await callSetup();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
