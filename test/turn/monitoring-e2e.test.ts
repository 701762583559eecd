import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import {
  MONITORING_DIR,
  PrometheusApi,
  readShippedRules,
  shortenDurations,
  startNodeExporter,
  startPrometheus,
  type ActiveAlert,
  type LoopbackServer,
} from "../helpers/monitoring";
import { startProcess, tail, type RunningProcess } from "@webrtc-lite/dev-stack/processes";
import { metricNames } from "../helpers/promql";
import { TURN_PROBE_BIN, buildTurnKit } from "../helpers/turn-cli";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

const ROOT = join(__dirname, "..", "..");
// Enough runs for the whole suite (each takes 1–3 s), and no more if a hook never ran.
const PROBE_LOOP_RUNS = 300;

/**
 * End to end on loopback, as on a TURN host: the probe CLI writes its textfile on a loop (the
 * timer's job), Debian's node_exporter serves it, Debian's Prometheus scrapes it and evaluates
 * the shipped rules (durations shortened from minutes to seconds), against a real coturn.
 */
describe("monitoring end to end: probe → node_exporter → Prometheus alerts, against a real coturn", function () {
  this.timeout(120_000);
  const secret = newSecret();
  let dir: string;
  let coturn: TestCoturn | undefined;
  let nodeExporter: LoopbackServer | undefined;
  let prometheus: LoopbackServer | undefined;
  let probeLoop: RunningProcess | undefined;
  let api: PrometheusApi;
  let uris: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "webrtc-lite-monitoring-"));
    const textfileDir = join(dir, "textfile");
    await mkdir(textfileDir);
    coturn = await startCoturn([secret]);
    const caPath = join(dir, "ca.pem");
    await writeFile(caPath, coturn.certificate);
    uris = [
      `turn:127.0.0.1:${coturn.port}?transport=udp`,
      `turn:127.0.0.1:${coturn.port}?transport=tcp`,
      `turns:127.0.0.1:${coturn.tlsPort}?transport=tcp`,
    ];
    nodeExporter = await startNodeExporter(textfileDir);
    prometheus = await startPrometheus(join(dir, "prometheus"), nodeExporter.port, shortenDurations(await readShippedRules()));
    api = new PrometheusApi(prometheus.port);
    // The built CLI itself (not npm run, which costs another second per run), as the timer runs it.
    await buildTurnKit();
    const loop = `for run in $(seq 1 ${PROBE_LOOP_RUNS}); do node "$0" "$@"; sleep 0.5; done`;
    probeLoop = startProcess(
      "bash",
      ["-c", loop, TURN_PROBE_BIN, "--timeout-ms", "1000", "--ca", caPath, "--prometheus-file", join(textfileDir, "webrtc_lite_turn.prom"), ...uris],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", TURN_SHARED_SECRET: secret } },
    );
  });

  after(async () => {
    await probeLoop?.stop(2_000);
    await prometheus?.stop();
    await nodeExporter?.stop();
    await coturn?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const failing = (alerts: ActiveAlert[]): ActiveAlert[] =>
    alerts.filter((alert) => alert.labels.alertname === "TurnProbeFailing" && alert.state === "firing");
  const runProbeOnce = (args: string[], probeSecret: string): Promise<void> =>
    new Promise((resolve) => {
      execFile(join(ROOT, "node_modules", ".bin", "tsx"), ["turn/src/probe-cli.ts", "--timeout-ms", "1000", ...args], {
        cwd: ROOT,
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", TURN_SHARED_SECRET: probeSecret },
      }, () => resolve());
    });
  const diagnostics = (): string =>
    `probe loop:\n${tail(probeLoop?.output() ?? "", 12)}\nprometheus:\n${tail(prometheus?.process.output() ?? "", 12)}`;

  it("scrapes every URI's result through node_exporter's textfile collector, with host, transport and uri labels", async () => {
    const series = await waitFor(
      "three passing probe series in Prometheus",
      async () => {
        const result = await api.query("turn_probe_success == 1");
        return Array.isArray(result) && result.length === 3 ? result : undefined;
      },
      60_000,
      500,
    ).catch((error: Error) => assert.fail(`${error.message}\n${diagnostics()}`));
    assert.deepEqual(
      series.map((sample) => [sample.metric.host, sample.metric.transport, sample.metric.uri, sample.metric.job]).sort(),
      [
        ["127.0.0.1", "tcp", uris[1], "node"],
        ["127.0.0.1", "tls", uris[2], "node"],
        ["127.0.0.1", "udp", uris[0], "node"],
      ].sort(),
    );
    assert.deepEqual(failing(await api.alerts()), []);
  });

  it("fires TurnTlsCertificateExpiringSoon for the test's one-day certificate, from the notAfter the probe read", async () => {
    const alert = await waitFor("TurnTlsCertificateExpiringSoon to fire", async () =>
      (await api.alerts()).find((candidate) => candidate.labels.alertname === "TurnTlsCertificateExpiringSoon" && candidate.state === "firing"),
    60_000, 500);
    assert.equal(alert.labels.uri, uris[2]);
    assert.equal(alert.labels.transport, "tls");
    const secondsLeft = Number(alert.value);
    assert.ok(secondsLeft > 0 && secondsLeft <= 86_400, `the certificate expires in ${secondsLeft} s`);
  });

  it("fires TurnProbeFailing on every URI when coturn stops, and resolves it when coturn is back", async () => {
    const server = coturn;
    if (!server) throw new Error("coturn did not start");
    const stoppedAt = Date.now();
    await server.halt();
    const fired = await waitFor("TurnProbeFailing to fire on all three URIs", async () => {
      const alerts = failing(await api.alerts());
      return alerts.length === 3 ? alerts : undefined;
    }, 60_000, 250).catch((error: Error) => assert.fail(`${error.message}\n${diagnostics()}`));
    const fireSeconds = (Date.now() - stoppedAt) / 1000;
    assert.deepEqual(fired.map((alert) => alert.labels.uri).sort(), [...uris].sort());
    for (const alert of fired) {
      assert.equal(alert.labels.severity, "page");
      assert.equal(alert.labels.host, "127.0.0.1");
      assert.equal(alert.annotations.summary, `TURN Allocate fails on ${alert.labels.uri} (127.0.0.1)`);
    }
    // A stopped server is unreachable, not a credential problem.
    const reasons = await api.query("turn_probe_failure");
    assert.ok(Array.isArray(reasons) && reasons.length === 3 && reasons.every((sample) => sample.metric.reason === "unreachable"), JSON.stringify(reasons));
    assert.equal((await api.alerts()).some((alert) => alert.labels.alertname === "TurnCredentialRefused"), false);

    const restartedAt = Date.now();
    await server.restart();
    await waitFor("TurnProbeFailing to resolve", async () => (failing(await api.alerts()).length === 0 ? true : undefined), 60_000, 250).catch(
      (error: Error) => assert.fail(`${error.message}\n${diagnostics()}`),
    );
    const resolveSeconds = (Date.now() - restartedAt) / 1000;
    console.log(`      TurnProbeFailing fired ${fireSeconds.toFixed(1)} s after coturn stopped and resolved ${resolveSeconds.toFixed(1)} s after it restarted (probe every ~1–3 s, scrape and evaluation 1 s, for: 3s)`);
    const passing = await api.query("turn_probe_success == 1");
    assert.ok(Array.isArray(passing) && passing.length === 3, JSON.stringify(passing));
  });

  it("fires TurnCredentialRefused when coturn refuses a probe's secret (401), and resolves it when that probe's file is gone", async () => {
    // A second probe file, as a probe left on the old secret after a rotation would write; its
    // URI is spelled without ?transport so its series differ from the main loop's.
    const uri = `turn:127.0.0.1:${coturn?.port ?? 0}`;
    const file = join(dir, "textfile", "rotated_secret.prom");
    await runProbeOnce(["--prometheus-file", file, uri], newSecret());
    try {
      const alert = await waitFor("TurnCredentialRefused to fire", async () =>
        (await api.alerts()).find((candidate) => candidate.labels.alertname === "TurnCredentialRefused" && candidate.state === "firing"),
      60_000, 250).catch((error: Error) => assert.fail(`${error.message}\n${diagnostics()}`));
      assert.deepEqual([alert.labels.uri, alert.labels.reason, alert.labels.severity], [uri, "unauthorized", "page"]);
      assert.equal(alert.annotations.summary, "127.0.0.1 refuses credentials signed with the current secret (401)");
    } finally {
      await rm(file, { force: true });
    }
    // The file is gone: its series go stale and the alert resolves.
    await waitFor("TurnCredentialRefused to resolve", async () =>
      (await api.alerts()).some((alert) => alert.labels.alertname === "TurnCredentialRefused") ? undefined : true,
    60_000, 250);
  });

  // Last: by now every series the probe can write (failures included) has been stored.
  it("the Grafana dashboard's queries run on this Prometheus and read only metrics it has", async () => {
    const dashboard = JSON.parse(await readFile(join(MONITORING_DIR, "grafana", "webrtc-lite-turn.json"), "utf8")) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
    assert.ok(exprs.length >= 10, `only ${exprs.length} queries`);
    const stored = new Set(await api.metricNames());
    for (const expr of exprs) {
      // Grafana's variables, as Grafana would substitute them for "All".
      const query = expr.replaceAll("$__rate_interval", "1m").replaceAll('"$host"', '".*"');
      const missing = metricNames(query).filter((name) => !stored.has(name));
      assert.deepEqual(missing, [], `${expr} reads metrics this Prometheus never saw`);
      await api.query(query);
    }
  });
});
