// Runs every test tier this machine can run, in one mocha process (one summary line).
// The Firestore tier needs the Firestore emulator (Java 21+); where it cannot start, it is
// skipped here, in this one place, with a line that says why.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const tiers = ["test/unit", "test/callable", "test/turn", "test/browser"];

const java = javaMajorVersion();
if (java !== undefined && java >= 21) {
  tiers.push("test/firestore");
} else {
  const reason =
    `the Firestore emulator needs Java 21 or newer (this machine has ${java === undefined ? "no Java" : `Java ${java}`}) ` +
    "and downloads its JAR from a host that may not be reachable";
  if (process.env.REQUIRE_FIRESTORE_EMULATOR === "1") {
    console.error(`test: the firestore tier must run here (REQUIRE_FIRESTORE_EMULATOR=1) but cannot: ${reason}.`);
    process.exit(1);
  }
  console.log(
    `\n!!! SKIPPED: firestore tier (rules, triggers, sweep): ${reason}. ` +
      "It runs wherever the emulator starts, e.g. the GitHub Actions workflow .github/workflows/ci.yml. !!!\n",
  );
}

const specs = tiers.filter((tier) => existsSync(tier) && readdirSync(tier).length > 0).map((tier) => `${tier}/**/*.test.ts`);
const result = spawnSync("mocha", [...specs, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);

function javaMajorVersion() {
  const probe = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (probe.error) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(probe.stderr + probe.stdout);
  if (!match) return undefined;
  // Java 8 and older report "1.8"; everything since reports its major first.
  return match[1] === "1" ? Number(match[2]) : Number(match[1]);
}
