import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";

/**
 * Loads the built entry point (functions/lib, what `firebase deploy` uploads) in a fresh process,
 * reads `access` in order, reports what got loaded.
 */
function loadEntryPoint(access: string[]): { exports: string[]; types: string[]; firestoreModules: number; zodModules: number } {
  const script = `
    const entry = require("./functions/lib/index.js");
    const types = ${JSON.stringify(access)}.map((name) => typeof entry[name]);
    const firestoreModules = Object.keys(require.cache).filter((path) => path.includes("/@google-cloud/firestore/")).length;
    const zodModules = Object.keys(require.cache).filter((path) => path.includes("/node_modules/zod/")).length;
    console.log(JSON.stringify({ exports: Object.keys(entry), types, firestoreModules, zodModules }));`;
  const run = spawnSync(process.execPath, ["-e", script], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}");
}

describe("the functions entry point", function () {
  this.timeout(30_000);

  it("exports every function, so deploy discovery and the emulator find them all", () => {
    const loaded = loadEntryPoint(["getTurnCredentials", "onSessionWritten", "sweepStaleSessions", "notifyCallee"]);
    assert.deepEqual(loaded.exports, ["getTurnCredentials", "onSessionWritten", "sweepStaleSessions", "notifyCallee"]);
    assert.deepEqual(loaded.types, ["function", "function", "function", "function"]);
    assert.ok(loaded.firestoreModules > 0, "the triggers need the Firestore SDK");
  });

  it("serves getTurnCredentials without loading the Firestore SDK", () => {
    const loaded = loadEntryPoint(["getTurnCredentials"]);
    assert.deepEqual(loaded.types, ["function"]);
    assert.equal(loaded.firestoreModules, 0);
  });

  it("serves getTurnCredentials without loading zod (~95 modules of cold start; the request is checked by hand)", () => {
    const loaded = loadEntryPoint(["getTurnCredentials"]);
    assert.deepEqual(loaded.types, ["function"]);
    assert.equal(loaded.zodModules, 0);
    // The triggers still validate with zod: the count is not zero by accident of the path.
    assert.ok(loadEntryPoint(["onSessionWritten"]).zodModules > 0);
  });
});
