import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { freePort } from "@webrtc-lite/dev-stack/ports";
import { runTurnCommand, type CliRun } from "../helpers/turn-cli";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";

describe("npm run turn:probe against a real coturn", function () {
  this.timeout(90_000);
  const secret = newSecret();
  let coturn: TestCoturn;
  let dir: string;
  let caPath: string;
  let uris: string[];

  before(async () => {
    coturn = await startCoturn([secret]);
    dir = await mkdtemp(join(tmpdir(), "webrtc-lite-probe-"));
    caPath = join(dir, "ca.pem");
    await writeFile(caPath, coturn.certificate);
    uris = [
      `turn:127.0.0.1:${coturn.port}?transport=udp`,
      `turn:127.0.0.1:${coturn.port}?transport=tcp`,
      `turns:127.0.0.1:${coturn.tlsPort}?transport=tcp`,
    ];
  });
  after(async () => {
    await coturn?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const assertNoSecret = (run: CliRun, value: string): void => {
    assert.ok(!run.stdout.includes(value) && !run.stderr.includes(value), "the probe printed the shared secret");
  };

  it("allocates on every URI (udp, tcp, tls) and prints the relayed address and round-trip time", async () => {
    const metrics = join(dir, "turn.prom");
    const run = await runTurnCommand("probe", ["--ca", caPath, "--prometheus-file", metrics, ...uris], { TURN_SHARED_SECRET: secret });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.length, 5, run.stdout);
    uris.forEach((uri, index) => {
      assert.match(lines[index] ?? "", new RegExp(`^ok    ${escape(uri)}  relayed 127\\.0\\.0\\.1:\\d+  rtt \\d+\\.\\d ms$`));
    });
    assert.deepEqual(lines.slice(3), ["turn:probe: host 127.0.0.1: 3 of 3 URIs passed", "turn:probe: 3 of 3 URIs passed"]);
    assert.equal(run.stderr, "");
    assertNoSecret(run, secret);
    const text = await readFile(metrics, "utf8");
    const transports = ["udp", "tcp", "tls"];
    uris.forEach((uri, index) => {
      assert.ok(text.includes(`turn_probe_success{host="127.0.0.1",transport="${transports[index]}",uri="${uri}"} 1\n`), text);
    });
    assert.equal(text.match(/^turn_probe_rtt_seconds\{/gm)?.length, 3);
    assert.equal(text.match(/^turn_probe_failure\{/gm), null);
    // The certificate the test made is valid for one day: its notAfter, read from the handshake.
    const notAfter = new X509Certificate(coturn.certificate).validToDate.getTime() / 1000;
    assert.ok(text.includes(`turn_probe_tls_certificate_not_after_seconds{host="127.0.0.1",transport="tls",uri="${uris[2]}"} ${notAfter}\n`), text);
    assert.equal(text.match(/^turn_probe_tls_certificate_not_after_seconds\{/gm)?.length, 1);
  });

  it("fails with a clear line, exit code 1 and the reason unauthorized for Prometheus when the secret is wrong", async () => {
    const wrong = newSecret();
    const metrics = join(dir, "wrong-secret.prom");
    const run = await runTurnCommand("probe", ["--prometheus-file", metrics, uris[0]], { TURN_SHARED_SECRET: wrong });
    assert.equal(run.code, 1);
    assert.equal(
      run.stdout,
      `FAIL  ${uris[0]}  Allocate refused: 401 Unauthorized — the server does not accept credentials from this secret (wrong or rotated shared secret, or a clock far off)\n` +
        "turn:probe: host 127.0.0.1: 0 of 1 URI passed\n" +
        "turn:probe: 0 of 1 URI passed\n",
    );
    assertNoSecret(run, wrong);
    const text = await readFile(metrics, "utf8");
    assert.deepEqual(text.match(/^turn_probe_failure\{.*$/gm), [`turn_probe_failure{host="127.0.0.1",transport="udp",uri="${uris[0]}",reason="unauthorized"} 1`]);
    assertNoSecret({ code: 0, stdout: text, stderr: "" }, wrong);
  });

  it("still reports the certificate's expiry when a turns: URI refuses the credential", async () => {
    const metrics = join(dir, "tls-401.prom");
    const run = await runTurnCommand("probe", ["--ca", caPath, "--prometheus-file", metrics, uris[2]], { TURN_SHARED_SECRET: newSecret() });
    assert.equal(run.code, 1);
    const text = await readFile(metrics, "utf8");
    assert.match(text, /^turn_probe_failure\{host="127\.0\.0\.1",transport="tls",uri="[^"]+",reason="unauthorized"\} 1$/m);
    assert.match(text, /^turn_probe_tls_certificate_not_after_seconds\{host="127\.0\.0\.1",transport="tls",uri="[^"]+"\} \d{10}$/m);
  });

  it("fails on every URI of a stopped server, exit code 1, and records 0 for Prometheus", async () => {
    const port = await freePort();
    const dead = [`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`, `turns:127.0.0.1:${port}?transport=tcp`];
    const metrics = join(dir, "dead.prom");
    const run = await runTurnCommand("probe", ["--timeout-ms", "1000", "--prometheus-file", metrics, ...dead], { TURN_SHARED_SECRET: secret });
    assert.equal(run.code, 1);
    assert.deepEqual(run.stdout.trim().split("\n"), [
      `FAIL  ${dead[0]}  port unreachable: nothing listens on 127.0.0.1:${port} over UDP (is coturn running?)`,
      `FAIL  ${dead[1]}  connection refused by 127.0.0.1:${port} (is coturn running, and the port open in the firewall?)`,
      `FAIL  ${dead[2]}  connection refused by 127.0.0.1:${port} (is coturn running, and the port open in the firewall?)`,
      "turn:probe: host 127.0.0.1: 0 of 3 URIs passed",
      "turn:probe: 0 of 3 URIs passed",
    ]);
    const text = await readFile(metrics, "utf8");
    dead.forEach((uri, index) => {
      const labels = `host="127.0.0.1",transport="${["udp", "tcp", "tls"][index]}",uri="${uri}"`;
      assert.ok(text.includes(`turn_probe_success{${labels}} 0\n`), text);
      assert.ok(text.includes(`turn_probe_failure{${labels},reason="unreachable"} 1\n`), text);
    });
    assert.equal(text.match(/^turn_probe_rtt_seconds\{/gm), null);
    assert.equal(text.match(/^turn_probe_tls_certificate_not_after_seconds\{/gm), null);
  });

  it("fails the TLS URI when the certificate is not trusted", async () => {
    const run = await runTurnCommand("probe", [uris[2]], { TURN_SHARED_SECRET: secret });
    assert.equal(run.code, 1);
    assert.match(run.stdout, new RegExp(`^FAIL  ${escape(uris[2])}  TLS handshake with 127\\.0\\.0\\.1:${coturn.tlsPort} failed: self-signed certificate\n`));
  });

  it("refuses to run without URIs, with a malformed one or with bad options (exit code 2)", async () => {
    const none = await runTurnCommand("probe", [], { TURN_SHARED_SECRET: secret });
    assert.deepEqual([none.code, none.stderr], [2, "turn:probe: give at least one URI, e.g. turn:turn.example.com:3478?transport=udp\n"]);
    const bad = await runTurnCommand("probe", ["turn:127.0.0.1:3478?transport=sctp"], { TURN_SHARED_SECRET: secret });
    assert.deepEqual([bad.code, bad.stderr], [2, 'turn:probe: entry 1 ("turn:127.0.0.1:3478?transport=sctp") has transport "sctp"; use transport=udp or transport=tcp\n']);
    const notProm = await runTurnCommand("probe", ["--prometheus-file", join(dir, "turn.txt"), uris[0]], { TURN_SHARED_SECRET: secret });
    assert.deepEqual([notProm.code, notProm.stderr], [2, "turn:probe: --prometheus-file must end in .prom: node_exporter's textfile collector reads only *.prom files\n"]);
    const timeout = await runTurnCommand("probe", ["--timeout-ms", "50", uris[0]], { TURN_SHARED_SECRET: secret });
    assert.deepEqual([timeout.code, timeout.stderr], [2, "turn:probe: --timeout-ms must be a whole number from 100 to 60000\n"]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
