// Runs every test tier this machine can run, and ends with one summary line:
//   node scripts/test.mjs                 all tiers
//   node scripts/test.mjs unit turn       only these tiers (other arguments go to mocha)
// The turn tier (coturn, Prometheus, fail2ban: mostly waiting on those processes), the callable
// tier (mostly an npm install of the deployable folder and a Functions emulator) and the browser
// tier run in a mocha of their own beside the unit and Firestore tiers, the longest; the side's
// output is held back and printed after theirs, so the two logs do not interleave.
// TEST_SERIAL=1 runs everything in one mocha instead.
// The Firestore tier needs the Firestore emulator (Java 21+ and its JAR); where it cannot
// start, it is skipped here, in this one place, with a line that says why.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { firestoreEmulatorEnv } from "@webrtc-lite/dev-stack/firestore-emulator";

const ALL_TIERS = ["unit", "callable", "turn", "browser", "firestore"];
/** Tiers that run in the second mocha, beside the Firestore tier (together about as long as it). */
const SIDE_TIERS = ["turn", "callable", "browser"];
const args = process.argv.slice(2);
const chosen = args.filter((arg) => ALL_TIERS.includes(arg));
const mochaArgs = args.filter((arg) => !ALL_TIERS.includes(arg));
const tiers = chosen.length > 0 ? chosen : ALL_TIERS;

const env = { ...process.env };
if (tiers.includes("firestore")) {
  const emulator = firestoreEmulatorEnv();
  if (emulator.env) {
    Object.assign(env, emulator.env);
    if (emulator.warning) console.log(`\n!!! ${emulator.warning} !!!\n`);
  } else {
    const reason = `${emulator.reason}, so the Firestore emulator cannot start (firebase-tools 15 needs Java 21+)`;
    if (process.env.REQUIRE_FIRESTORE_EMULATOR === "1") {
      console.error(`test: the firestore tier must run here (REQUIRE_FIRESTORE_EMULATOR=1) but cannot: ${reason}.`);
      process.exit(1);
    }
    tiers.splice(tiers.indexOf("firestore"), 1);
    console.log(
      `\n!!! SKIPPED: firestore tier (rules, triggers, sweep, cost, two-browser call): ${reason}. ` +
        "It runs wherever the emulator starts, e.g. the GitHub Actions workflow .github/workflows/ci.yml. !!!\n",
    );
  }
}

const specsOf = (names) =>
  names
    .map((tier) => `test/${tier}`)
    .filter((folder) => existsSync(folder) && readdirSync(folder).length > 0)
    .map((folder) => `${folder}/**/*.test.ts`);

const side = process.env.TEST_SERIAL === "1" ? [] : tiers.filter((tier) => SIDE_TIERS.includes(tier));
const main = tiers.filter((tier) => !side.includes(tier));
const children = [];
const runs = [];
if (main.length > 0) runs.push(runMocha(specsOf(main), { live: true }));
if (side.length > 0) runs.push(runMocha(specsOf(side), { live: main.length === 0, label: side.join(", ") }));

// Ctrl-C reaches the whole process group, but `timeout` or a CI cancel signals only this
// process: pass the signal on, so mocha's helpers stop the emulators, coturn and browsers.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  // mocha's launcher forwards only SIGINT to the process that runs the tests.
  process.on(signal, () => children.forEach((child) => child.kill("SIGINT")));
}

const results = await Promise.all(runs);
for (const result of results) {
  if (!result.live) {
    process.stdout.write(`\n──── ${result.label} tier (ran beside the others) ────\n`);
    process.stdout.write(result.output);
  }
}
// A CI log is often read from its tail: repeat each mocha's failures there, so the tail names them.
for (const result of results) {
  const failures = /^\s*\d+ failing\b[\s\S]*/m.exec(result.output)?.[0];
  if (failures) process.stdout.write(`\n──── failures again, ${result.label ?? main.join(", ")} ────\n${failures}`);
  if (result.died) process.stdout.write(`\n!!! the mocha of ${result.label ?? main.join(", ")} ended (${result.died}) before its summary: its test process died during the last test it printed !!!\n`);
}
const sum = (key) => results.reduce((total, result) => total + result[key], 0);
// One closing line for the whole run, whichever mocha each test ran in.
console.log(`\ntests: ${sum("passed")} passed, ${sum("failed")} failed${sum("pending") > 0 ? `, ${sum("pending")} skipped` : ""}`);
process.exit(results.some((result) => result.code !== 0) ? 1 : 0);

/**
 * Runs one mocha over `specs`. Live, its output streams through; otherwise it is kept for the
 * end. Either way the counts of its summary are read from it.
 * @param {string[]} specs
 * @param {{ live: boolean, label?: string }} options
 * @returns {Promise<{ code: number, died?: string, live: boolean, label?: string, output: string, passed: number, failed: number, pending: number }>}
 */
function runMocha(specs, options) {
  return new Promise((resolve) => {
    const mocha = spawn("mocha", [...specs, ...mochaArgs], { stdio: ["inherit", "pipe", "pipe"], env });
    children.push(mocha);
    let output = "";
    const take = (stream, target) =>
      mocha[stream].on("data", (chunk) => {
        output += chunk;
        if (options.live) target.write(chunk);
      });
    take("stdout", process.stdout);
    take("stderr", process.stderr);
    mocha.once("error", (error) => {
      console.error(`test: could not start mocha: ${error.message} (run through npm, which puts node_modules/.bin on PATH)`);
      process.exit(1);
    });
    mocha.once("close", (code, signal) => {
      const count = (word) => Number(new RegExp(`^\\s*(\\d+) ${word}\\b`, "m").exec(output)?.[1] ?? 0);
      // A test process that dies (a native module's crash, an OOM kill) prints no summary at all.
      const died = /^\s*\d+ passing\b/m.test(output) ? undefined : signal ? `signal ${signal}` : `exit code ${code}`;
      resolve({ code: (code ?? (signal ? 1 : 0)) || (died ? 1 : 0), died, live: options.live, label: options.label, output, passed: count("passing"), failed: count("failing"), pending: count("pending") });
    });
  });
}
