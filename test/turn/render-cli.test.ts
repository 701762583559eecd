import { strict as assert } from "node:assert";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTurnCommand, type CliRun } from "../helpers/turn-cli";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";

describe("npm run turn:config", function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "webrtc-lite-render-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const assertSecretsOnlyInConfig = async (run: CliRun, secrets: string[], configName?: string): Promise<void> => {
    for (const secret of secrets) {
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), "the secret was printed");
    }
    // Nothing else lands on disk: no temporary file left behind, no second copy.
    assert.deepEqual(await readdir(dir), configName ? [configName] : []);
  };

  it("writes the config with mode 0600, both secrets during a rotation window, and prints one line", async () => {
    const current = newSecret();
    const previous = newSecret();
    const out = join(dir, "turnserver.conf");
    const env = { TURN_DOMAIN: "turn.example.com", TURN_SHARED_SECRET: current, TURN_PREVIOUS_SHARED_SECRET: previous };
    const run = await runTurnCommand("config", ["--out", out], env);
    assert.deepEqual(run, { code: 0, stdout: `turn:config: wrote ${out} (2 static-auth-secret lines, mode 0600)\n`, stderr: "" });
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const config = await readFile(out, "utf8");
    assert.deepEqual(config.match(/^static-auth-secret=.*$/gm), [`static-auth-secret=${current}`, `static-auth-secret=${previous}`]);
    assert.match(config, /^realm=turn\.example\.com$/m);
    assert.match(config, /^cert=\/etc\/letsencrypt\/live\/turn\.example\.com\/fullchain\.pem$/m);
    // Debian's coturn 4.6.1 has no exporter, so `auto` leaves the line out.
    assert.match(config, /^# prometheus: off/m);
    await assertSecretsOnlyInConfig(run, [current, previous], "turnserver.conf");

    const again = await runTurnCommand("config", ["--out", out], env);
    assert.deepEqual(again, { code: 0, stdout: `turn:config: ${out} is up to date (2 static-auth-secret lines)\n`, stderr: "" });
  });

  it("renders the 1:1 NAT lines and hands the file to the coturn user with --owner", async () => {
    const out = join(dir, "turnserver.conf");
    const run = await runTurnCommand("config", ["--out", out, "--owner", "nobody"], {
      TURN_DOMAIN: "turn.example.com",
      TURN_SHARED_SECRET: newSecret(),
      TURN_PUBLIC_IP: "203.0.113.10",
      TURN_PRIVATE_IP: "10.0.0.5",
    });
    assert.equal(run.code, 0, run.stderr);
    const config = await readFile(out, "utf8");
    assert.deepEqual(config.match(/^(listening-ip|relay-ip|external-ip)=.*$/gm), ["listening-ip=10.0.0.5", "relay-ip=10.0.0.5", "external-ip=203.0.113.10/10.0.0.5"]);
    assert.equal((await stat(out)).uid, 65534);
  });

  const refused: Array<[string, Record<string, string>, number, string]> = [
    ["a missing secret", { TURN_DOMAIN: "turn.example.com" }, 1, "turn:config: no shared secret: set TURN_SECRET_NAME (Secret Manager) or TURN_SHARED_SECRET (environment)\n"],
    ["a short secret", { TURN_DOMAIN: "turn.example.com", TURN_SHARED_SECRET: "tooshort-but-secret" }, 1, "turn:config: TURN_SHARED_SECRET is shorter than 32 characters: generate one with `openssl rand -hex 32`\n"],
    ["a secret with a space", { TURN_DOMAIN: "turn.example.com", TURN_SHARED_SECRET: `${"a".repeat(20)} ${"b".repeat(20)}` }, 1, "turn:config: TURN_SHARED_SECRET contains whitespace, control or non-ASCII characters, which a coturn config line cannot carry\n"],
    ["a weak previous secret", { TURN_DOMAIN: "turn.example.com", TURN_SHARED_SECRET: "c".repeat(64), TURN_PREVIOUS_SHARED_SECRET: "old-and-short" }, 1, "turn:config: the previous shared secret is unusable: TURN_SHARED_SECRET is shorter than 32 characters: generate one with `openssl rand -hex 32`\n"],
    ["two sources at once", { TURN_DOMAIN: "turn.example.com", TURN_SHARED_SECRET: "d".repeat(64), TURN_SECRET_NAME: "projects/p/secrets/TURN_SHARED_SECRET" }, 1, "turn:config: both TURN_SECRET_NAME and TURN_SHARED_SECRET are set: keep one source of truth and unset the other\n"],
    ["a missing domain", { TURN_SHARED_SECRET: "e".repeat(64) }, 2, "turn:config: cannot render: TURN_DOMAIN is not set: set it to the TURN server's DNS name, e.g. turn.example.com\n"],
  ];
  for (const [name, env, code, stderr] of refused) {
    it(`refuses ${name} with a clear error, writes nothing and prints no secret`, async () => {
      const run = await runTurnCommand("config", ["--out", join(dir, "turnserver.conf")], env);
      assert.deepEqual(run, { code, stdout: "", stderr });
      await assertSecretsOnlyInConfig(run, [env.TURN_SHARED_SECRET, env.TURN_PREVIOUS_SHARED_SECRET].filter((value): value is string => value !== undefined));
    });
  }
});
