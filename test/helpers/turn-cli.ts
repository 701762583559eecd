import { execFile } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

/** What one run of a kit command printed and how it exited. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `npm run -s turn:<command> -- …args` from the repository root, as an operator would,
 * with exactly `env` (plus PATH and HOME) so nothing from the test's own environment leaks in.
 */
export function runTurnCommand(command: "config" | "probe", args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["run", "-s", `turn:${command}`, "--", ...args],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", CI: "1", METADATA_SERVER_DETECTION: "none", ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The built probe, as a TURN host runs it (`webrtc-lite-turn-probe`). */
export const TURN_PROBE_BIN = join(ROOT, "turn", "dist", "turn-probe.js");

/** Builds the kit's tools into turn/dist, as `npm pack` does for a TURN host. */
export function buildTurnKit(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, "turn", "build.mjs")], { timeout: 60_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`building the TURN kit failed: ${stderr || error.message}`)) : resolve(),
    );
  });
}
