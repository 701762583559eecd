import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { z } from "zod";
import { prometheusText, type ProbeResult } from "@webrtc-lite/turn/probe";
import { settingsFromEnvironment } from "@webrtc-lite/turn/settings";
import { MONITORING_DIR, readShippedRules, type AlertRules } from "../helpers/monitoring";
import { metricNames } from "../helpers/promql";

/** Runs a Debian tool; resolves with its exit code and everything it printed. */
function tool(command: string, args: string[], cwd = MONITORING_DIR): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: stdout + stderr });
    });
  });
}

/** The names of every series the probe can write: one result of each kind, a TLS URI included. */
function probeMetricNames(): Set<string> {
  const place = { uri: "turns:turn.example.com:5349?transport=tcp", host: "turn.example.com", transport: "tls" as const, certificateNotAfterMs: 0 };
  const results: ProbeResult[] = [
    { ...place, ok: true, relayed: { family: 4, address: "203.0.113.10", port: 50000 }, rttMs: 1 },
    { ...place, ok: false, kind: "unauthorized", reason: "401" },
  ];
  return new Set([...prometheusText(results, 0).matchAll(/^([a-z_]+)[{ ]/gm)].map((match) => match[1] ?? ""));
}

const unitTestsSchema = z.object({
  rule_files: z.array(z.string()),
  tests: z.array(
    z.object({
      name: z.string(),
      alert_rule_test: z.array(z.object({ eval_time: z.string(), alertname: z.string(), exp_alerts: z.array(z.unknown()) })),
    }),
  ),
});

describe("turn/monitoring: Prometheus, alert rules, Alertmanager and Grafana files", function () {
  this.timeout(60_000);
  let rules: AlertRules;
  let alertNames: string[];

  before(async () => {
    rules = await readShippedRules();
    alertNames = rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert));
  });

  it("promtool accepts the Prometheus config and its rule file", async () => {
    const run = await tool("promtool", ["check", "config", "prometheus.yml"]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
    assert.match(run.output, /SUCCESS: 9 rules found/);
  });

  it("promtool accepts the rules: the nine alerts the kit documents", async () => {
    const run = await tool("promtool", ["check", "rules", "rules/turn-alerts.yml"]);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(alertNames, [
      "TurnProbeFailing",
      "TurnCredentialRefused",
      "TurnProbeNotRunning",
      "TurnMonitoringTargetDown",
      "TurnRelayRttHigh",
      "TurnTlsCertificateExpiringSoon",
      "TurnAllocationsNearQuota",
      "TurnHostCpuBusy",
      "TurnEgressBudgetAtRisk",
    ]);
  });

  it("promtool test rules passes, with a firing and a not-firing case for every alert", async () => {
    const run = await tool("promtool", ["test", "rules", "rules/turn-alerts.test.yml"]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS/);
    const unitTests = unitTestsSchema.parse(parse(await readFile(join(MONITORING_DIR, "rules", "turn-alerts.test.yml"), "utf8")));
    const checks = unitTests.tests.flatMap((test) => test.alert_rule_test);
    for (const alert of alertNames) {
      const mine = checks.filter((check) => check.alertname === alert);
      assert.ok(mine.some((check) => check.exp_alerts.length > 0), `no promtool case where ${alert} fires`);
      assert.ok(mine.some((check) => check.exp_alerts.length === 0), `no promtool case where ${alert} stays quiet`);
    }
    assert.deepEqual(checks.filter((check) => !alertNames.includes(check.alertname)), [], "promtool cases name alerts that do not exist");
  });

  it("promtool test rules fails when any one alert is taken out (each firing case checks its alert)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "webrtc-lite-rules-"));
    try {
      await cp(join(MONITORING_DIR, "rules", "turn-alerts.test.yml"), join(dir, "turn-alerts.test.yml"));
      for (const missing of alertNames) {
        const without = { groups: rules.groups.map((group) => ({ ...group, rules: group.rules.filter((rule) => rule.alert !== missing) })) };
        await writeFile(join(dir, "turn-alerts.yml"), stringify(without));
        const run = await tool("promtool", ["test", "rules", "turn-alerts.test.yml"], dir);
        assert.equal(run.code, 1, `promtool test rules still passed without ${missing}:\n${run.output}`);
        assert.match(run.output, new RegExp(`alertname: ${missing},`));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the rules read only series the probe writes, Prometheus' up, coturn's turn_total_allocations and node_exporter's CPU and network counters", () => {
    const known = new Set([...probeMetricNames(), "up", "turn_total_allocations", "node_cpu_seconds_total", "node_network_transmit_bytes_total"]);
    const read = rules.groups.flatMap((group) => group.rules.flatMap((rule) => metricNames(rule.expr)));
    assert.deepEqual(read.filter((name) => !known.has(name)), []);
    // Every series the probe writes is watched by some alert.
    assert.deepEqual([...probeMetricNames()].filter((name) => !read.includes(name)), []);
  });

  it("TurnAllocationsNearQuota uses the kit's default TURN_TOTAL_QUOTA", () => {
    const check = settingsFromEnvironment({ TURN_DOMAIN: "turn.example.com" });
    assert.ok(check.ok);
    const rule = rules.groups.flatMap((group) => group.rules).find((candidate) => candidate.alert === "TurnAllocationsNearQuota");
    assert.equal(rule?.expr, `sum by (instance, host) (turn_total_allocations) > 0.8 * ${check.settings.totalQuota}`);
    assert.match(rule?.annotations?.summary ?? "", new RegExp(`total-quota \\(${check.settings.totalQuota}\\)`));
  });

  it("the probe timer writes a *.prom file into the directory Debian's node_exporter reads by default", async () => {
    const unit = await readFile(join(MONITORING_DIR, "..", "systemd", "webrtc-lite-turn-probe.service"), "utf8");
    const file = /--prometheus-file (\S+\.prom) /.exec(unit)?.[1];
    assert.ok(file, unit);
    const help = await tool("prometheus-node-exporter", ["--help"]);
    const directory = /--collector\.textfile\.directory="([^"]+)"/.exec(help.output)?.[1];
    assert.equal(dirname(file), directory);
  });

  it("amtool accepts the Alertmanager example, and its inhibit rules name alerts that exist", async () => {
    const run = await tool("amtool", ["check-config", "alertmanager.yml"]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS/);
    assert.match(run.output, /- 1 receivers/);
    const config = await readFile(join(MONITORING_DIR, "alertmanager.yml"), "utf8");
    const named = [...config.matchAll(/alertname="(\w+)"/g)].map((match) => match[1] ?? "");
    assert.ok(named.length >= 3, config);
    assert.deepEqual(named.filter((name) => !alertNames.includes(name)), []);
  });

  it("the Grafana dashboard is valid JSON whose queries read only probe and node_exporter metrics", async () => {
    const dashboard = z
      .object({
        uid: z.string(),
        title: z.string(),
        panels: z.array(
          z.object({
            type: z.string(),
            title: z.string(),
            targets: z.array(z.object({ expr: z.string(), refId: z.string(), datasource: z.object({ uid: z.literal("${DS_PROMETHEUS}") }) })).optional(),
          }),
        ),
      })
      .parse(JSON.parse(await readFile(join(MONITORING_DIR, "grafana", "webrtc-lite-turn.json"), "utf8")));
    const probe = probeMetricNames();
    const read = dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricNames(target.expr)));
    assert.deepEqual(read.filter((name) => !probe.has(name) && !name.startsWith("node_")), []);
    assert.deepEqual([...probe].filter((name) => !read.includes(name)), [], "a probe series the dashboard does not show");
    const panelsWithoutQuery = dashboard.panels.filter((panel) => panel.type !== "row" && (panel.targets ?? []).length === 0);
    assert.deepEqual(panelsWithoutQuery.map((panel) => panel.title), []);
  });
});

describe("metricNames (reads metric names out of PromQL for the checks above)", () => {
  it("skips functions, keywords, label names and values, durations and numbers", () => {
    assert.deepEqual(metricNames('time() - last_run > 300 or absent(last_run)'), ["last_run"]);
    assert.deepEqual(metricNames('1 - avg by (instance) (rate(cpu_total{mode="idle",x=~"a|b"}[$__rate_interval]))'), ["cpu_total"]);
    assert.deepEqual(metricNames("a / on(job) group_left(host) b offset 5m > 1e3 * 2.5"), ["a", "b"]);
    assert.deepEqual(metricNames('sum without (type) (allocations{host="turn:x"}) > bool 0.8 * 300'), ["allocations"]);
  });
});
