// A test process that dies without running its exit handlers (a native module's crash, SIGKILL)
// leaves nothing running: the reaper of packages/dev-stack/src/leftovers.cjs kills the process
// groups it had started and not stopped.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

/** Whether a process with this pid exists (and is not a zombie). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed process whose parent has not reaped it yet is a zombie: gone for this purpose.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * Runs a Node process (with the tests' TypeScript loader) that starts `sleep` through
 * `startProcess`, stops it first if `stopFirst`, prints the sleep's pid, and waits to be killed.
 */
async function processWithAChild(stopFirst: boolean): Promise<{ owner: number; sleeper: number; kill: () => void }> {
  const script = `
    const { startProcess } = require(${JSON.stringify(join(REPO_ROOT, "packages", "dev-stack", "src", "processes.ts"))});
    const sleeper = startProcess("sleep", ["600"]);
    (async () => {
      if (${String(stopFirst)}) await sleeper.stop(0).catch(() => undefined);
      console.log("SLEEPER " + sleeper.child.pid);
      setInterval(() => undefined, 1000);
    })();
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--eval", script], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const sleeper = await waitFor("the child's SLEEPER line", () => {
    const match = /SLEEPER (\d+)/.exec(output);
    return match ? Number(match[1]) : undefined;
  }, 20_000, 20);
  return { owner: child.pid!, sleeper, kill: () => child.kill("SIGKILL") };
}

describe("leftovers of a test process that dies without its exit handlers", function () {
  this.timeout(60_000);

  it("are killed by its reaper: a process group it started is gone within seconds of a SIGKILL", async () => {
    const { owner, sleeper, kill } = await processWithAChild(false);
    try {
      assert.ok(running(sleeper), "the child's group runs while the child does");
      kill();
      await waitFor("the reaper to kill the dead process's group", () => (running(sleeper) ? undefined : true), 10_000, 50);
      await waitFor("the reaper to remove its registry", () => (existsSync(join(tmpdir(), `webrtc-lite-leftovers-${owner}.json`)) ? undefined : true), 5_000, 50);
    } finally {
      // Should the reaper fail, the test does not leave the sleeper behind either.
      kill();
      if (running(sleeper)) process.kill(-sleeper, "SIGKILL");
    }
  });

  it("are listed only while they run: a group the process stopped itself is off the reaper's list", async () => {
    const { owner, kill } = await processWithAChild(true);
    const registry = join(tmpdir(), `webrtc-lite-leftovers-${owner}.json`);
    assert.deepEqual(JSON.parse(readFileSync(registry, "utf8")), []);
    kill();
    await waitFor("the reaper to remove its registry", () => (existsSync(registry) ? undefined : true), 5_000, 50);
  });
});
