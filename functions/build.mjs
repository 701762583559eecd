// Builds lib/ for the Functions runtime and `firebase deploy`. One CommonJS bundle per entry:
// index.js, which loads each function's module on first access, and those modules. The
// workspace's @webrtc-lite/contract is bundled in, since Cloud Build installs this folder's
// package.json alone from the npm registry; the dependencies of package.json stay external
// and are installed there.
import { build } from "esbuild";
import { readFile, rm } from "node:fs/promises";

const here = new URL(".", import.meta.url).pathname;
const { dependencies } = JSON.parse(await readFile(new URL("./package.json", import.meta.url), "utf8"));

await rm(new URL("./lib", import.meta.url), { recursive: true, force: true });
await build({
  absWorkingDir: here,
  entryPoints: ["src/index.ts", "src/credentials/callable.ts", "src/sessions/trigger.ts", "src/sessions/sweep.ts", "src/push/trigger.ts"],
  outbase: "src",
  outdir: "lib",
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  conditions: ["@webrtc-lite/source"],
  // "zod/v4" and "firebase-functions/v2/https": a dependency's subpaths are external too.
  external: Object.keys(dependencies).flatMap((name) => [name, `${name}/*`]),
  sourcemap: true,
  logLevel: "warning",
});
