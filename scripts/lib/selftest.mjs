// Builds the browser self-test page (web/selftest) into a folder the Hosting emulator serves,
// and tells the page where the local emulators listen. Used by `npm start`, the browser tests
// and `npm run build:web`; running this file builds into SELFTEST_PUBLIC.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The folder firebase.json's `hosting.public` names, relative to the repository root. */
export const SELFTEST_PUBLIC = "web/dist";

/**
 * Bundles the page into `outDir` (default: SELFTEST_PUBLIC): index.html, selftest.css,
 * selftest.js. Returns the absolute output folder.
 * @param {{ outDir?: string }} [options]
 * @returns {Promise<string>}
 */
export async function buildSelfTest(options = {}) {
  const outDir = resolve(repoRoot, options.outDir ?? SELFTEST_PUBLIC);
  const source = join(repoRoot, "web", "selftest");
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(source, "main.ts")],
    outfile: join(outDir, "selftest.js"),
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    minify: true,
    sourcemap: true,
    logLevel: "warning",
  });
  await copyFile(join(source, "index.html"), join(outDir, "index.html"));
  await copyFile(join(source, "selftest.css"), join(outDir, "selftest.css"));
  return outDir;
}

/**
 * Writes `emulators.json` beside the page so that it connects to the Auth and Functions
 * emulators on these ports; without the file the page talks to the deployed project.
 * @param {string} outDir
 * @param {{ auth: number, functions: number, host?: string }} ports
 * @returns {Promise<void>}
 */
export async function writeSelfTestEmulators(outDir, ports) {
  const host = ports.host ?? "127.0.0.1";
  const addresses = { auth: { host, port: ports.auth }, functions: { host, port: ports.functions } };
  await writeFile(join(resolve(repoRoot, outDir), "emulators.json"), JSON.stringify(addresses, null, 2) + "\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // No top-level await: the tests load this module through tsx's require().
  buildSelfTest().then((outDir) => console.log(`selftest: built ${outDir}`));
}
