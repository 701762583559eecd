import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { TurnClient, TurnErrorResponse } from "@webrtc-lite/turn/client";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

const run = promisify(execFile);
const KIT_FAIL2BAN = join(__dirname, "..", "..", "turn", "fail2ban");
const FILTER = "webrtc-lite-coturn.conf";

/** Addresses fail2ban-regex reports as failures in `log` (one per counted failure). */
async function failuresIn(dir: string, log: string): Promise<string[]> {
  const logPath = join(dir, `${randomUUID()}.log`);
  await writeFile(logPath, log);
  const { stdout } = await run("fail2ban-regex", ["-o", "ip", logPath, join(dir, "filter.d", FILTER)]);
  return stdout.split("\n").filter((line) => line.length > 0);
}

/** One TCP session that ends (coturn logs "closed … remote <address>") after `action`. */
async function tcpSession(coturn: TestCoturn, credential: { username: string; credential: string }, action: (client: TurnClient) => Promise<void>): Promise<void> {
  const client = await TurnClient.connect({ transport: "tcp", host: "127.0.0.1", port: coturn.port }, credential);
  try {
    await action(client);
  } finally {
    client.close();
  }
}

describe("the fail2ban filter on coturn's real log", function () {
  this.timeout(60_000);
  const secret = newSecret();
  let dir: string;
  let coturn: TestCoturn;
  let failedLog: string;
  let successLog: string;
  const failures = 3;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "webrtc-lite-fail2ban-"));
    // The filter includes fail2ban's common.conf, as it does once installed in /etc/fail2ban.
    await mkdir(join(dir, "filter.d"));
    await cp(join(KIT_FAIL2BAN, "filter.d", FILTER), join(dir, "filter.d", FILTER));
    await symlink("/etc/fail2ban/filter.d/common.conf", join(dir, "filter.d", "common.conf"));

    coturn = await startCoturn([secret]);
    // Sessions with a username (the helper's readiness check opens one without).
    const closedSessions = (): number => coturn.output().split("\n").filter((line) => / closed \(2nd stage\), user <[^>]+>/.test(line)).length;
    for (let index = 0; index < 2; index += 1) {
      await tcpSession(coturn, mintTurnCredential(secret, `good-${index}`, 300, Date.now()), async (client) => {
        await client.allocate();
        await client.release();
      });
    }
    await waitFor("coturn to log the closed good sessions", () => (closedSessions() === 2 ? true : undefined), 10_000);
    successLog = coturn.output();
    for (let index = 0; index < failures; index += 1) {
      await tcpSession(coturn, mintTurnCredential(newSecret(), `mallory-${index}`, 300, Date.now()), async (client) => {
        await assert.rejects(client.allocate(), (error: unknown) => error instanceof TurnErrorResponse && error.code === 401);
      });
    }
    await waitFor("coturn to log the closed failed sessions", () => (closedSessions() === 2 + failures ? true : undefined), 10_000);
    failedLog = coturn.output();
  });
  after(async () => {
    await coturn?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("counts each session that failed authentication once, with the client's address", async () => {
    assert.deepEqual(await failuresIn(dir, failedLog), Array<string>(failures).fill("127.0.0.1"));
  });

  it("counts nothing for successful sessions, whose first request is always challenged with 401", async () => {
    assert.match(successLog, /user <>: incoming packet \S+ processed, error 401: Unauthorized/);
    assert.deepEqual(await failuresIn(dir, successLog), []);
  });

  it("matches the same lines behind a journald/syslog prefix", async () => {
    const prefixed = failedLog
      .split("\n")
      .map((line) => `Nov 24 06:40:09 turn turnserver[4242]: ${line}`)
      .join("\n");
    assert.deepEqual(await failuresIn(dir, prefixed), Array<string>(failures).fill("127.0.0.1"));
  });

  it("passes fail2ban's own configuration test with the kit's jail", async () => {
    const confdir = join(dir, "etc-fail2ban");
    await cp("/etc/fail2ban", confdir, { recursive: true });
    await cp(join(KIT_FAIL2BAN, "filter.d", FILTER), join(confdir, "filter.d", FILTER));
    await cp(join(KIT_FAIL2BAN, "jail.d", FILTER), join(confdir, "jail.d", FILTER));
    // Debian enables the sshd jail, whose log does not exist in a container.
    await writeFile(join(confdir, "jail.d", "zz-test.local"), "[sshd]\nenabled = false\n");
    const { stdout, stderr } = await run("fail2ban-client", ["-c", confdir, "-t"]);
    assert.match(stdout + stderr, /OK: configuration test is successful/);
    const { stdout: dump } = await run("fail2ban-client", ["-c", confdir, "-d"]);
    assert.match(dump, /\['add', 'webrtc-lite-coturn', 'systemd'\]/);
    assert.match(dump, /\['set', 'webrtc-lite-coturn', 'maxretry', 10\]/);
  });
});
