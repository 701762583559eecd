import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pickPorts } from "./ports";
import { killOnExit, startProcess, type RunningProcess } from "./processes";
import { FUNCTIONS_REGION } from "@webrtc-lite/contract/credentials";

/** The repository root (this file lives in test/helpers). */
export const REPO_ROOT = resolve(__dirname, "..", "..", "..");
/** The demo project id: the emulators never touch real resources for a `demo-` project. */
export const PROJECT_ID = "demo-webrtc-lite";
/** The functions region, as the functions deploy to it. */
export const REGION = FUNCTIONS_REGION;

/** Which emulators a suite needs. */
export type EmulatorName = "auth" | "functions" | "firestore" | "hosting";

/** What a suite runs the functions with: params (`.env.local`) and secrets (`.secret.local`). */
export interface EmulatorStackOptions {
  emulators: EmulatorName[];
  params: Record<string, string>;
  secrets: Record<string, string>;
  /** Folder the Hosting emulator serves, when `hosting` is among the emulators. */
  hostingPublic?: string;
  /** Ports to use when they are free (the local stack prefers firebase.json's); others are picked at random. */
  preferredPorts?: Partial<Record<PortName, number>>;
}

/** The file firebase-tools writes the Firestore emulator's own output to, in the folder it runs in. */
const FIRESTORE_LOG = "firestore-debug.log";

const PORT_NAMES = ["hub", "auth", "functions", "firestore", "hosting", "logging", "eventarc", "tasks", "websocket"] as const;
/** Every port an emulator stack listens on. */
export type PortName = (typeof PORT_NAMES)[number];

/** A running emulator stack on its own ports. */
export interface EmulatorStack {
  readonly ports: Record<PortName, number>;
  /** `http://127.0.0.1:<port>/<project>/<region>/<name>`, the callable's URL. */
  functionUrl(name: string): string;
  output(): string;
  /** What the Firestore emulator's JVM has printed so far (firebase-tools' firestore-debug.log), or "" before it printed. */
  firestoreLog(): string;
  stop(): Promise<void>;
}

/**
 * Starts the Firebase emulators for the functions in this repository, with configuration of
 * the suite's own. The functions run from a throw-away project folder whose `functions/lib`
 * and `node_modules` link to the real ones, so a suite's params and secrets never touch the
 * developer's `functions/.env.local` or `.secret.local`.
 */
export async function startEmulatorStack(options: EmulatorStackOptions): Promise<EmulatorStack> {
  const dir = await mkdtemp(join(tmpdir(), "webrtc-lite-emulators-"));
  const ports = await pickPorts(PORT_NAMES, options.preferredPorts);
  const { hub, auth, functions, firestore, hosting, logging, eventarc, tasks, websocket } = ports;

  await mkdir(join(dir, "functions"));
  for (const entry of ["lib", "node_modules", "package.json"]) {
    await symlink(join(REPO_ROOT, "functions", entry), join(dir, "functions", entry));
  }
  for (const entry of ["firestore.rules", "firestore.indexes.json"]) {
    await symlink(join(REPO_ROOT, entry), join(dir, entry));
  }
  if (options.hostingPublic) {
    // Superstatic joins (does not resolve) the project folder and `public`, so link the folder in.
    await symlink(resolve(options.hostingPublic), join(dir, "public"));
  }
  await writeFile(join(dir, "functions", ".env.local"), envFile(options.params));
  await writeFile(join(dir, "functions", ".secret.local"), envFile({ ...SECRETS_WITHOUT_VALUE, ...options.secrets }), { mode: 0o600 });
  const host = "127.0.0.1";
  const config = {
    functions: [{ source: "functions", codebase: "default", runtime: "nodejs22" }],
    firestore: { rules: "firestore.rules", indexes: "firestore.indexes.json" },
    ...(options.hostingPublic ? { hosting: { public: "public" } } : {}),
    emulators: {
      hub: { host, port: hub },
      auth: { host, port: auth },
      functions: { host, port: functions },
      firestore: { host, port: firestore, websocketPort: websocket },
      hosting: { host, port: hosting },
      logging: { host, port: logging },
      eventarc: { host, port: eventarc },
      tasks: { host, port: tasks },
      ui: { enabled: false },
      singleProjectMode: true,
    },
  };
  await writeFile(join(dir, "firebase.json"), JSON.stringify(config, null, 2));

  const firebase = join(REPO_ROOT, "node_modules", ".bin", "firebase");
  // firebase-tools starts the Firestore emulator in a process group of its own: kill it by port
  // if this process is interrupted before the stack is stopped.
  const forgetJava = killOnExit(() => killFirestoreEmulator(firestore));
  const emulators: RunningProcess = startProcess(
    firebase,
    ["emulators:start", "--only", options.emulators.join(","), "--project", PROJECT_ID],
    { cwd: dir, env: emulatorEnvironment() },
  );
  try {
    await emulators.waitForOutput(/All emulators ready/, 90_000);
    if (options.emulators.includes("functions")) {
      await emulators.waitForOutput(/function initialized/, 30_000);
    }
  } catch (error) {
    await stopStack(emulators, dir, ports.firestore);
    forgetJava();
    throw error;
  }

  return {
    ports,
    functionUrl: (name) => `http://${host}:${ports.functions}/${PROJECT_ID}/${REGION}/${name}`,
    output: () => emulators.output(),
    firestoreLog: () => (existsSync(join(dir, FIRESTORE_LOG)) ? readFileSync(join(dir, FIRESTORE_LOG), "utf8") : ""),
    stop: async () => {
      await stopStack(emulators, dir, ports.firestore);
      forgetJava();
    },
  };
}

async function stopStack(emulators: RunningProcess, dir: string, firestorePort: number): Promise<void> {
  await emulators.stop();
  killFirestoreEmulator(firestorePort);
  await rm(dir, { recursive: true, force: true });
}

/**
 * firebase-tools starts the Firestore emulator (Java) detached, in a process group of its own,
 * and an interrupted CLI does not always stop it: left running, it would outlive the suite and
 * keep CI's output open. Kills the process serving this stack's Firestore port, if any
 * (synchronously, so that it can run from an exit handler).
 */
function killFirestoreEmulator(port: number): void {
  const marker = `\0--port\0${port}\0`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // It exited while we looked.
    }
    if (!(cmdline.split("\0")[0] ?? "").endsWith("java") || !cmdline.includes(marker)) continue;
    try {
      process.kill(Number(entry), "SIGKILL");
    } catch {
      // It exited on its own meanwhile.
    }
  }
}

/**
 * The environment for firebase-tools, so that nothing leaves loopback (tests send traffic
 * to loopback only): `CI` turns off its message-of-the-day fetch, `METADATA_SERVER_DETECTION=none` stops
 * google-auth-library probing the cloud metadata address, and `npm_config_offline` keeps the
 * Functions emulator's `npm show firebase-functions` version check off the registry.
 */
function emulatorEnvironment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CI: "1",
    METADATA_SERVER_DETECTION: "none",
    NO_UPDATE_NOTIFIER: "1",
    npm_config_offline: "true",
  };
}

/**
 * Secrets a stack has unless its suite gives them: a secret missing from `.secret.local` sends
 * the Functions emulator to Secret Manager, off this machine. `none` turns the push
 * function's APNs side off (functions/src/push/settings.ts).
 */
const SECRETS_WITHOUT_VALUE: Readonly<Record<string, string>> = Object.freeze({ APNS_AUTH_KEY: "none" });

function envFile(values: Record<string, string>): string {
  return Object.entries(values)
    // A value over several lines (a PEM key) goes in double quotes, its line breaks escaped.
    .map(([key, value]) => `${key}=${value.includes("\n") ? `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"` : value}`)
    .join("\n")
    .concat("\n");
}
