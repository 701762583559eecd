// A sample app of an app team, built outside the repository from what `npm pack` publishes:
// the packed @webrtc-lite/contract and @webrtc-lite/client, and firebase, esbuild, typescript
// and @roamhq/wrtc from the registry. Its sources are the two-browser call page (web/selftest)
// and a Node script (test/fixtures/consumer/call.mjs); it type-checks, bundles and runs them
// with its own tools, so nothing of the workspace (links, the "@webrtc-lite/source" condition,
// the repo's node_modules) can stand in for a file the tarballs lack.
import { cp, copyFile, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { startProcess, tail } from "@webrtc-lite/dev-stack/processes";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";

/** The workspace packages an app installs, in the order `npm pack` packs them. */
export const PUBLISHED_PACKAGES = ["@webrtc-lite/contract", "@webrtc-lite/client"] as const;

/** What the app takes from the registry besides the tarballs (the client's peer, its tools, libwebrtc for Node). */
export const REGISTRY_PACKAGES = ["firebase@^12", "esbuild", "typescript@~5.9", "@roamhq/wrtc"] as const;

/** One packed tarball. */
export interface PackedPackage {
  name: (typeof PUBLISHED_PACKAGES)[number];
  file: string;
  bytes: number;
}

/** A command run to its end, with what it printed. */
interface Finished {
  output: string;
  ms: number;
}

/**
 * The environment of every command run for the app: npm's `npm_*` variables (set when the
 * tests run under `npm test`, e.g. `npm_config_local_prefix`, which would point an install at
 * the repository) and `NODE_OPTIONS` (a loader or the "@webrtc-lite/source" condition would
 * reach the app) are left out, and this Node comes first on PATH so that npm and the app's
 * scripts run on it.
 */
function appEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === "NODE_OPTIONS" || key === "NODE_PATH" || key === "INIT_CWD") continue;
    env[key] = value;
  }
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ""}`;
  return { ...env, NO_UPDATE_NOTIFIER: "1", ...extra };
}

/**
 * Runs `command` in a process group of its own to its end and resolves with its output if it
 * exits with 0. On a timeout the whole group is killed (and on the test process' exit, by the
 * dev stack's exit hooks), so nothing it started outlives the test.
 */
async function runToEnd(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; exitCodes?: number[] },
): Promise<Finished> {
  const started = performance.now();
  const running = startProcess(command, args, { cwd: options.cwd, env: options.env ?? appEnvironment() });
  // `close`, not `exit`: the output is complete only once both pipes are closed.
  const closed = new Promise<number | null>((resolve) => running.child.once("close", (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), options.timeoutMs);
  });
  try {
    const code = await Promise.race([closed, late]);
    const what = `${command} ${args.join(" ")} (in ${options.cwd})`;
    if (code === "late") throw new Error(`${what} did not finish within ${options.timeoutMs} ms:\n${tail(running.output())}`);
    if (!(options.exitCodes ?? [0]).includes(code ?? -1)) throw new Error(`${what} exited with ${code}:\n${tail(running.output())}`);
    return { output: running.output(), ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
    await running.stop(1_000);
  }
}

/**
 * `npm pack`s the contract and the client into `destination` (their `prepack` builds dist
 * first) and returns the two tarballs.
 */
export async function packPublishedPackages(destination: string): Promise<PackedPackage[]> {
  const workspaces = PUBLISHED_PACKAGES.flatMap((name) => ["--workspace", name]);
  await runToEnd("npm", ["pack", ...workspaces, "--pack-destination", destination], { cwd: REPO_ROOT, timeoutMs: 120_000 });
  const files = await readdir(destination);
  return Promise.all(
    PUBLISHED_PACKAGES.map(async (name) => {
      const version = (JSON.parse(await readFile(join(REPO_ROOT, "packages", name.split("/")[1], "package.json"), "utf8")) as { version: string }).version;
      const file = `${name.slice(1).replace("/", "-")}-${version}.tgz`;
      if (!files.includes(file)) throw new Error(`npm pack wrote ${files.join(", ")} but not ${file}`);
      return { name, file: join(destination, file), bytes: (await stat(join(destination, file))).size };
    }),
  );
}

/** The sample app, installed. */
export interface ConsumerApp {
  dir: string;
  /** The bundle's folder (the call page, its script and chunks), which Hosting serves. */
  publicDir: string;
  installMs: number;
  /** How many packages `npm install` said it added. */
  added: number;
}

/** The app's tsconfig: what an app team's bundler setup typically says, strict, checking the packages' .d.ts too. */
const APP_TSCONFIG = {
  compilerOptions: {
    target: "es2022",
    module: "esnext",
    moduleResolution: "bundler",
    lib: ["es2022", "dom", "dom.iterable"],
    types: [],
    strict: true,
    noEmit: true,
    isolatedModules: true,
    // As apps set it: firebase 12's own .d.ts name `Temporal`, which TypeScript 5.9's libs lack.
    // The test checks the packages' .d.ts anyway (typecheckApp).
    skipLibCheck: true,
  },
  include: ["src"],
};

/** The app's own build: the call page and the TURN self-test, bundled for the browser as web/selftest is in the repo. */
const BUILD_SCRIPT =
  "esbuild selftest=src/main.ts call=src/call.ts --bundle --splitting --format=esm --platform=browser --target=es2022 " +
  "--chunk-names=chunks/[name]-[hash] --minify --sourcemap --outdir=public --metafile=meta.json --log-level=warning";

/**
 * Creates the app in `dir` (outside the repository): the call page's sources from web/selftest
 * under src/, the Node script, then one `npm install` of the tarballs and the registry packages.
 */
export async function createConsumerApp(dir: string, tarballs: PackedPackage[]): Promise<ConsumerApp> {
  const publicDir = join(dir, "public");
  await mkdir(publicDir, { recursive: true });
  await cp(join(REPO_ROOT, "web", "selftest"), join(dir, "src"), { recursive: true });
  await copyFile(join(REPO_ROOT, "test", "fixtures", "consumer", "call.mjs"), join(dir, "call.mjs"));
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify(APP_TSCONFIG, null, 2) + "\n");
  const manifest = {
    name: "webrtc-lite-consumer-app",
    private: true,
    type: "module",
    scripts: { typecheck: "tsc -p tsconfig.json --strict --noEmit", build: BUILD_SCRIPT },
  };
  await writeFile(join(dir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  const install = await runToEnd(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", ...tarballs.map((tarball) => tarball.file), ...REGISTRY_PACKAGES],
    { cwd: dir, timeoutMs: 180_000 },
  );
  const added = /added (\d+) packages?/.exec(install.output);
  if (!added) throw new Error(`npm install did not say what it added:\n${tail(install.output)}`);
  return { dir, publicDir, installMs: install.ms, added: Number(added[1]) };
}

/** What the app's lockfile says it installed. */
export interface InstalledPackage {
  path: string;
  version: string;
  /** A `file:` path for a tarball; a registry package has its URL here unless npm is set to omit it (`omit-lockfile-registry-resolved`). */
  resolved: string | undefined;
  integrity: string | undefined;
  link: boolean;
}

/** Every package in the app's package-lock.json (`node_modules/...` entries). */
export async function installedPackages(app: ConsumerApp): Promise<InstalledPackage[]> {
  const lock = JSON.parse(await readFile(join(app.dir, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string; resolved?: string; integrity?: string; link?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path]) => path !== "")
    .map(([path, entry]) => ({ path, version: entry.version ?? "", resolved: entry.resolved, integrity: entry.integrity, link: entry.link === true }));
}

/** What the app's type check read and reported. */
export interface TypeCheck {
  /** Every file tsc read, relative to the app. */
  files: string[];
  /** Each error as `file(line,col): error TS…: message` (the file relative to the app), or tsc's line for an error of no file. */
  errors: string[];
}

/**
 * Runs the app's `typecheck` script with `--skipLibCheck false`, so that the packages' .d.ts
 * are checked too, and returns what tsc read and every error it reported (the caller tells
 * the packages' from other libraries'); tsc's own exit code only says that some error exists.
 */
export async function typecheckApp(app: ConsumerApp): Promise<TypeCheck> {
  const { output } = await runToEnd("npm", ["run", "--silent", "typecheck", "--", "--skipLibCheck", "false", "--listFiles"], {
    cwd: app.dir,
    timeoutMs: 120_000,
    // 2: errors reported (no output is emitted anyway).
    exitCodes: [0, 2],
  });
  const lines = output.split("\n");
  const files = lines.filter((line) => line.startsWith("/")).map((file) => relative(app.dir, file));
  const errors = lines.filter((line) => /(^|: )error TS\d+:/.test(line));
  if (files.length === 0) throw new Error(`tsc listed no file:\n${tail(output)}`);
  return { files, errors };
}

/**
 * Runs the app's `build` script and copies the pages beside the bundle, as the repo's own
 * build does; returns every input esbuild read, relative to the app.
 */
export async function bundleApp(app: ConsumerApp): Promise<string[]> {
  await runToEnd("npm", ["run", "--silent", "build"], { cwd: app.dir, timeoutMs: 60_000 });
  for (const file of ["index.html", "call.html", "selftest.css"]) await copyFile(join(app.dir, "src", file), join(app.publicDir, file));
  const meta = JSON.parse(await readFile(join(app.dir, "meta.json"), "utf8")) as { inputs: Record<string, unknown> };
  // esbuild names inputs relative to its working directory, the app.
  return Object.keys(meta.inputs).map((input) => relative(app.dir, resolve(app.dir, input)));
}

/** What call.mjs is told: where the emulators are and each side's TURN servers. */
export interface NodeCallConfig {
  projectId: string;
  authUrl: string;
  firestore: { host: string; port: number };
  iceServers: { caller: RTCIceServer[]; callee: RTCIceServer[] };
  stepTimeoutMs: number;
}

/** What call.mjs printed (`CONSUMER_RESULT <json>`). */
export interface NodeCallResult {
  ok: boolean;
  error?: string;
  callerUid?: string;
  calleeUid?: string;
  sessionId?: string;
  incomingSessionId?: string;
  phases: { caller: string[]; callee: string[] };
  paths?: { caller: string; callee: string };
  received?: { callee: string; caller: string };
  ended?: { caller: string; callee: string };
  errors?: { caller: string | null; callee: string | null };
  warnings: string[];
  /** Times the Firestore SDK's Listen stream broke on the emulator (the script reconnects at once). */
  streamBreaks: number;
  /** The Firestore SDK's first warnings and errors. */
  firestoreLog: string[];
  sides: Record<"caller" | "callee", SideTrace>;
  ms: Record<string, number>;
}

/** What one side of call.mjs did with ICE. */
export interface SideTrace {
  /** Its peer connection's `connectionState`s, in order. */
  states: string[];
  /** What libwebrtc's `icecandidate` events brought, in order: `c` a candidate, `e` the end of gathering. */
  gathering: string;
  /** Entries of its own candidates document that the server acknowledged. */
  written: number;
  /** The most entries of the other side's candidates document that one snapshot brought. */
  seen: number;
  /** Candidates handed to `addIceCandidate`. */
  added: number;
}

/**
 * Runs the app's call.mjs on this Node (the repo's), with no loader or condition of the
 * workspace, and returns its result, also of a call that failed (`ok: false`, `error`, `sides`);
 * the child is killed if it outlives `timeoutMs`.
 */
export async function runNodeCall(app: ConsumerApp, config: NodeCallConfig, timeoutMs: number): Promise<NodeCallResult> {
  const { output } = await runToEnd(process.execPath, ["call.mjs"], {
    cwd: app.dir,
    env: appEnvironment({ CONSUMER_CALL: JSON.stringify(config) }),
    timeoutMs,
    // 1: the call failed, and the result says how.
    exitCodes: [0, 1],
  });
  const line = /^CONSUMER_RESULT (.*)$/m.exec(output);
  if (!line) throw new Error(`call.mjs printed no result:\n${tail(output)}`);
  return JSON.parse(line[1]) as NodeCallResult;
}
