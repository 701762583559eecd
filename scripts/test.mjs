// Runs every test tier this machine can run, in one mocha process (one summary line):
//   node scripts/test.mjs                 all tiers
//   node scripts/test.mjs unit turn       only these tiers (other arguments go to mocha)
// The Firestore tier needs the Firestore emulator (Java 21+ and its JAR); where it cannot
// start, it is skipped here, in this one place, with a line that says why.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { firestoreEmulatorEnv } from "@webrtc-lite/dev-stack/firestore-emulator";

const ALL_TIERS = ["unit", "callable", "turn", "browser", "firestore"];
const args = process.argv.slice(2);
const chosen = args.filter((arg) => ALL_TIERS.includes(arg));
const mochaArgs = args.filter((arg) => !ALL_TIERS.includes(arg));
const tiers = chosen.length > 0 ? chosen : ALL_TIERS;

const env = { ...process.env };
if (tiers.includes("firestore")) {
  const emulator = firestoreEmulatorEnv();
  if (emulator.env) {
    Object.assign(env, emulator.env);
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

const specs = tiers
  .map((tier) => `test/${tier}`)
  .filter((folder) => existsSync(folder) && readdirSync(folder).length > 0)
  .map((folder) => `${folder}/**/*.test.ts`);
const mocha = spawn("mocha", [...specs, ...mochaArgs], { stdio: "inherit", env });
// Ctrl-C reaches the whole process group, but `timeout` or a CI cancel signals only this
// process: pass the signal on, so mocha's helpers stop the emulators, coturn and browsers.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  // mocha's launcher forwards only SIGINT to the process that runs the tests.
  process.on(signal, () => mocha.kill("SIGINT"));
}
mocha.once("error", (error) => {
  console.error(`test: could not start mocha: ${error.message} (run through npm, which puts node_modules/.bin on PATH)`);
  process.exit(1);
});
mocha.once("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
