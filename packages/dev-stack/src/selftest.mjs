// Builds the browser self-test page (web/selftest) into a folder the Hosting emulator serves,
// and tells the page where the local emulators listen. Used by `npm start`, the browser tests
// and `npm run build:web`; running this file builds into SELFTEST_PUBLIC.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The folder firebase.json's `hosting.public` names, relative to the repository root. */
export const SELFTEST_PUBLIC = "web/dist";

/**
 * Bundles the pages into `outDir` (default: SELFTEST_PUBLIC): the TURN self-test (index.html)
 * and the two-browser call test (call.html), with their scripts. Returns the absolute folder.
 * @param {{ outDir?: string }} [options]
 * @returns {Promise<string>}
 */
export async function buildSelfTest(options = {}) {
  const outDir = resolve(repoRoot, options.outDir ?? SELFTEST_PUBLIC);
  const source = join(repoRoot, "web", "selftest");
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { selftest: join(source, "main.ts"), call: join(source, "call.ts") },
    outdir: outDir,
    bundle: true,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    format: "esm",
    target: "es2022",
    platform: "browser",
    minify: true,
    sourcemap: true,
    logLevel: "warning",
    // The workspace packages from their TypeScript source, like the tests.
    conditions: ["@webrtc-lite/source"],
  });
  for (const file of ["index.html", "call.html", "selftest.css"]) await copyFile(join(source, file), join(outDir, file));
  return outDir;
}

/**
 * Writes `emulators.json` beside the pages so that they connect to the Auth, Functions and
 * (for call.html) Firestore emulators on these ports; without the file they talk to the
 * deployed project.
 * @param {string} outDir
 * @param {{ auth: number, functions: number, firestore?: number, host?: string }} ports
 * @returns {Promise<void>}
 */
export async function writeSelfTestEmulators(outDir, ports) {
  const host = ports.host ?? "127.0.0.1";
  const addresses = {
    auth: { host, port: ports.auth },
    functions: { host, port: ports.functions },
    ...(ports.firestore === undefined ? {} : { firestore: { host, port: ports.firestore } }),
  };
  await writeFile(join(resolve(repoRoot, outDir), "emulators.json"), JSON.stringify(addresses, null, 2) + "\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // No top-level await: the tests load this module through tsx's require().
  buildSelfTest().then((outDir) => console.log(`selftest: built ${outDir}`));
}
