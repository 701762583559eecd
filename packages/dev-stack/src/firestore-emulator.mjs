// Finds a way to run the Firestore emulator on a machine whose default Java is too old or that
// cannot download firebase-tools' emulator JAR: a Java 21+ installed beside the default one
// (e.g. /usr/lib/jvm/temurin-25-jdk-amd64) and the emulator that the Debian package
// google-cloud-cli-firestore-emulator installs. That JAR has no Main-Class, so a one-line
// launcher JAR that names it is written to a cache folder; firebase-tools runs the launcher
// through FIRESTORE_EMULATOR_BINARY_PATH.
//
//   node packages/dev-stack/src/firestore-emulator.mjs          prints `export …` lines for a shell (eval them)
//   import { firestoreEmulatorEnv } from …        the same as an object, for scripts/test.mjs
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const MIN_JAVA = 21;
const GCLOUD_JAR = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";
const MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";
const CACHE = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "node_modules", ".cache", "webrtc-lite");

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
 * it cannot: `{ env }` (possibly empty: nothing needed) or `{ reason }`.
 */
export function firestoreEmulatorEnv() {
  const javaBin = findJavaBin();
  if (javaBin === null) return { reason: `no Java ${MIN_JAVA} or newer on PATH or in /usr/lib/jvm` };
  const env = {};
  if (javaBin) env.PATH = `${javaBin}:${process.env.PATH ?? ""}`;
  if (!process.env.FIRESTORE_EMULATOR_BINARY_PATH && existsSync(GCLOUD_JAR)) {
    env.FIRESTORE_EMULATOR_BINARY_PATH = launcherFor(GCLOUD_JAR, javaBin ? join(javaBin, "jar") : "jar");
  }
  return { env };
}

function launcherFor(jar, jarTool) {
  const launcher = join(CACHE, "firestore-emulator-launcher.jar");
  if (existsSync(launcher)) return launcher;
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "firestore-launcher-"));
  try {
    const manifest = join(work, "MANIFEST.MF");
    writeFileSync(manifest, `Manifest-Version: 1.0\nMain-Class: ${MAIN_CLASS}\nClass-Path: ${jar}\n`);
    mkdirSync(join(work, "empty"));
    const made = spawnSync(jarTool, ["--create", "--file", launcher, "--manifest", manifest, "-C", join(work, "empty"), "."], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`could not write ${launcher}: ${made.stderr}`);
    return launcher;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const found = firestoreEmulatorEnv();
  if (found.reason) {
    console.error(`firestore-emulator: ${found.reason}`);
    process.exit(1);
  }
  for (const [key, value] of Object.entries(found.env)) console.log(`export ${key}=${JSON.stringify(value)}`);
}
