// Finds a way to run the Firestore emulator on a machine whose default Java is too old or that
// cannot download firebase-tools' emulator JAR: a Java 21+ installed beside the default one
// (e.g. /usr/lib/jvm/temurin-25-jdk-amd64) and the emulator that the Debian package
// google-cloud-cli-firestore-emulator installs. That JAR has no Main-Class, so a small launcher
// JAR that names it is written to a cache folder; firebase-tools runs the launcher through
// FIRESTORE_EMULATOR_BINARY_PATH (`java -jar`). On Java 24+ the launcher also carries the agent
// in packages/dev-stack/java, which fixes the emulator's Listen streams breaking under load
// (the agent's comment says how); below 24 the emulator runs without it, with a warning.
//
//   node packages/dev-stack/src/firestore-emulator.mjs          prints `export …` lines for a shell (eval them)
//   import { firestoreEmulatorEnv } from …        the same as an object, for scripts/test.mjs
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const MIN_JAVA = 21;
const GCLOUD_JAR = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";
const MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";
const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE = resolve(HERE, "..", "..", "..", "node_modules", ".cache", "webrtc-lite");
const AGENT_SOURCE = resolve(HERE, "..", "java", "SerializedStreamResponses.java");
const AGENT_CLASS = "webrtclite.emulator.SerializedStreamResponses";
/** java.lang.classfile, which the agent rewrites a class with, is final from Java 24 on. */
const AGENT_MIN_JAVA = 24;
const UNSERIALIZED = "under load a client's Listen stream can break, and its listeners go silent for up to a minute";
/** The launcher's file name says whether it carries the agent, for a process that finds it already chosen. */
const LAUNCHER_PREFIX = "firestore-emulator-launcher-";
const WITH_AGENT_SUFFIX = "-agent.jar";

/** The major version `java -version` reports for `javaBinary`, or undefined. */
function javaMajorVersion(javaBinary = "java") {
  const probe = spawnSync(javaBinary, ["-version"], { encoding: "utf8" });
  if (probe.error) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(probe.stderr + probe.stdout);
  if (!match) return undefined;
  // Java 8 and older report "1.8"; everything since reports its major first.
  return match[1] === "1" ? Number(match[2]) : Number(match[1]);
}

/** A JDK bin folder with Java 21 or newer: the one on PATH, else the newest in /usr/lib/jvm. */
function findJavaBin() {
  if ((javaMajorVersion() ?? 0) >= MIN_JAVA) return undefined;
  if (!existsSync("/usr/lib/jvm")) return null;
  const candidates = readdirSync("/usr/lib/jvm")
    .map((name) => join("/usr/lib/jvm", name, "bin"))
    .map((bin) => ({ bin, version: javaMajorVersion(join(bin, "java")) ?? 0 }))
    .filter(({ bin, version }) => version >= MIN_JAVA && existsSync(join(bin, "jar")))
    .sort((a, b) => b.version - a.version);
  return candidates[0]?.bin ?? null;
}

/**
 * The environment that lets firebase-tools start the Firestore emulator here, or the reason
 * it cannot: `{ env }` (possibly empty: nothing needed) or `{ reason }`; `warning` says when
 * the emulator runs without the agent that keeps its Listen streams whole.
 */
export function firestoreEmulatorEnv() {
  const javaBin = findJavaBin();
  if (javaBin === null) return { reason: `no Java ${MIN_JAVA} or newer on PATH or in /usr/lib/jvm` };
  const env = {};
  if (javaBin) env.PATH = `${javaBin}:${process.env.PATH ?? ""}`;
  const chosen = process.env.FIRESTORE_EMULATOR_BINARY_PATH;
  if (chosen) {
    if (basename(chosen).startsWith(LAUNCHER_PREFIX) && chosen.endsWith(WITH_AGENT_SUFFIX)) return { env };
    return { env, warning: `FIRESTORE_EMULATOR_BINARY_PATH=${chosen} runs the emulator without the agent that serializes its stream responses: ${UNSERIALIZED}` };
  }
  if (!existsSync(GCLOUD_JAR)) return { env, warning: `firebase-tools runs the emulator JAR it downloads, without the agent that serializes its stream responses (it wraps ${GCLOUD_JAR} only): ${UNSERIALIZED}` };
  const tool = (name) => (javaBin ? join(javaBin, name) : name);
  const javaVersion = javaMajorVersion(tool("java")) ?? 0;
  const withAgent = javaVersion >= AGENT_MIN_JAVA;
  env.FIRESTORE_EMULATOR_BINARY_PATH = launcherFor(GCLOUD_JAR, tool, withAgent);
  if (withAgent) return { env };
  return {
    env,
    warning:
      `Java ${javaVersion} runs the Firestore emulator without the agent that serializes its stream responses (it needs Java ${AGENT_MIN_JAVA}+): ${UNSERIALIZED}`,
  };
}

/** The launcher JAR, built once per emulator JAR, agent source and agent choice. */
function launcherFor(jar, tool, withAgent) {
  const agentSource = readFileSync(AGENT_SOURCE, "utf8");
  const key = createHash("sha256").update(`${jar}\n${withAgent ? agentSource : "no agent"}`).digest("hex").slice(0, 12);
  const launcher = join(CACHE, `${LAUNCHER_PREFIX}${key}${withAgent ? WITH_AGENT_SUFFIX : ".jar"}`);
  if (existsSync(launcher)) return launcher;
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "firestore-launcher-"));
  // Written beside it (the same file system) and renamed, so that a suite starting in parallel never runs half a JAR.
  const partial = `${launcher}.${process.pid}.partial`;
  const run = (name, args) => {
    const done = spawnSync(tool(name), args, { encoding: "utf8" });
    if (done.status !== 0) throw new Error(`could not build ${launcher}: ${name} ${args.join(" ")}: ${done.error?.message ?? done.stderr}`);
  };
  try {
    const classes = join(work, "classes");
    mkdirSync(classes);
    const lines = ["Manifest-Version: 1.0", `Main-Class: ${MAIN_CLASS}`, `Class-Path: ${jar}`];
    if (withAgent) {
      run("javac", ["--release", String(AGENT_MIN_JAVA), "-d", classes, AGENT_SOURCE]);
      lines.push(`Launcher-Agent-Class: ${AGENT_CLASS}`);
    }
    const manifest = join(work, "MANIFEST.MF");
    writeFileSync(manifest, `${lines.join("\n")}\n`);
    run("jar", ["--create", "--file", partial, "--manifest", manifest, "-C", classes, "."]);
    renameSync(partial, launcher);
    return launcher;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const found = firestoreEmulatorEnv();
  if (found.reason) {
    console.error(`firestore-emulator: ${found.reason}`);
    process.exit(1);
  }
  if (found.warning) console.error(`firestore-emulator: ${found.warning}`);
  for (const [key, value] of Object.entries(found.env)) console.log(`export ${key}=${JSON.stringify(value)}`);
}
