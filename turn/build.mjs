// Builds the kit's two tools into dist/ as plain JavaScript for Node 22: the contract and zod
// are bundled in, so a TURN host installs only the runtime dependencies of package.json.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";

const { dependencies } = JSON.parse(await readFile(new URL("./package.json", import.meta.url), "utf8"));

await build({
  entryPoints: { "turn-config": "src/render-cli.ts", "turn-probe": "src/probe-cli.ts" },
  absWorkingDir: new URL(".", import.meta.url).pathname,
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  conditions: ["@webrtc-lite/source"],
  external: Object.keys(dependencies),
  banner: { js: "#!/usr/bin/env node" },
  sourcemap: true,
  logLevel: "warning",
});
