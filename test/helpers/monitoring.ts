import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { z } from "zod";
import { freePorts } from "@webrtc-lite/dev-stack/ports";
import { startProcess, tail, type RunningProcess } from "@webrtc-lite/dev-stack/processes";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

/** The shipped monitoring kit: Prometheus config, alert rules and their promtool tests, Alertmanager, Grafana. */
export const MONITORING_DIR = join(__dirname, "..", "..", "turn", "monitoring");

/** A server a test started on a loopback port. */
export interface LoopbackServer {
  readonly port: number;
  readonly process: RunningProcess;
  stop(): Promise<void>;
}

const ruleFileSchema = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      rules: z.array(
        z.object({
          alert: z.string(),
          expr: z.string(),
          for: z.string().regex(/^\d+[smh]$/).optional(),
          labels: z.record(z.string(), z.string()).optional(),
          annotations: z.record(z.string(), z.string()).optional(),
        }),
      ),
    }),
  ),
});

/** The shipped alert rules file, parsed and checked for the shape the tests rely on. */
export type AlertRules = z.infer<typeof ruleFileSchema>;

/** Reads and validates turn/monitoring/rules/turn-alerts.yml. */
export async function readShippedRules(): Promise<AlertRules> {
  return ruleFileSchema.parse(parse(await readFile(join(MONITORING_DIR, "rules", "turn-alerts.yml"), "utf8")));
}

/**
 * The shipped rules with every `for:` shortened from minutes (or hours) to as many seconds, for
 * a Prometheus that scrapes and evaluates every second; expressions, labels and annotations
 * stay exactly as shipped.
 */
export function shortenDurations(rules: AlertRules): AlertRules {
  const toSeconds = (duration: string): string => {
    const [, amount = "0", unit = "s"] = /^(\d+)([smh])$/.exec(duration) ?? [];
    return `${Math.max(1, Math.round(Number(amount) * (unit === "h" ? 60 : unit === "m" ? 1 : 1 / 60)))}s`;
  };
  return {
    groups: rules.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) => (rule.for === undefined ? rule : { ...rule, for: toSeconds(rule.for) })),
    })),
  };
}

/** Starts Debian's node_exporter on loopback with only the collectors the dashboard and probe need. */
export async function startNodeExporter(textfileDir: string): Promise<LoopbackServer> {
  const [port = 0] = await freePorts(1);
  const process = startProcess("prometheus-node-exporter", [
    `--web.listen-address=127.0.0.1:${port}`,
    // Everything else (disks, systemd, hwmon, …) is noise here and costs CPU on every scrape.
    "--collector.disable-defaults",
    "--collector.textfile",
    `--collector.textfile.directory=${textfileDir}`,
    "--collector.cpu",
    "--collector.meminfo",
    "--collector.netdev",
  ]);
  await process.waitForOutput(/Listening on/, 15_000);
  return { port, process, stop: () => process.stop(3_000) };
}

/**
 * Starts Debian's Prometheus from the shipped prometheus.yml with the test's changes only:
 * 1 s scrape and evaluation, node_exporter's test port, the given rules, temporary storage,
 * no Alertmanager (alerts are read from Prometheus' own API).
 */
export async function startPrometheus(dir: string, nodeExporterPort: number, rules: AlertRules): Promise<LoopbackServer> {
  const shipped = z
    .object({
      global: z.record(z.string(), z.unknown()),
      scrape_configs: z.array(z.object({ job_name: z.string() }).passthrough()),
    })
    .passthrough()
    .parse(parse(await readFile(join(MONITORING_DIR, "prometheus.yml"), "utf8")));
  await mkdir(join(dir, "data"), { recursive: true });
  const rulesPath = join(dir, "turn-alerts.yml");
  await writeFile(rulesPath, stringify(rules));
  const config = {
    ...shipped,
    global: { ...shipped.global, scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    rule_files: [rulesPath],
    alerting: undefined,
    scrape_configs: shipped.scrape_configs.map((job) =>
      job.job_name === "node"
        ? { ...job, static_configs: [{ targets: [`127.0.0.1:${nodeExporterPort}`] }] }
        : // As on Debian's coturn 4.6.1: no exporter, so the coturn job's target file does not exist.
          { ...job, file_sd_configs: [{ files: [join(dir, "coturn-targets.yml")] }] },
    ),
  };
  const configPath = join(dir, "prometheus.yml");
  await writeFile(configPath, stringify(config));
  const [port = 0] = await freePorts(1);
  const process = startProcess("prometheus", [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const api = new PrometheusApi(port);
  await waitFor("Prometheus to be ready", () => api.ready(), 30_000, 200).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail(process.output())}`);
  });
  return { port, process, stop: () => process.stop(5_000) };
}

const alertSchema = z.object({
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  state: z.enum(["pending", "firing"]),
  activeAt: z.string(),
  value: z.string(),
});

/** An alert as Prometheus' `/api/v1/alerts` lists it (pending or firing; resolved ones are gone). */
export type ActiveAlert = z.infer<typeof alertSchema>;

const vectorSchema = z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) }));

/** The parts of Prometheus' HTTP API the tests read, on loopback. */
export class PrometheusApi {
  constructor(private readonly port: number) {}

  /** `true` once `/-/ready` answers 200, `undefined` before (for `waitFor`). */
  async ready(): Promise<true | undefined> {
    try {
      return (await fetch(this.url("/-/ready"))).ok ? true : undefined;
    } catch {
      return undefined;
    }
  }

  /** The active alerts. */
  async alerts(): Promise<ActiveAlert[]> {
    return z.object({ alerts: z.array(alertSchema) }).parse(await this.get("/api/v1/alerts")).alerts;
  }

  /** An instant query; throws with Prometheus' own message when the expression is invalid. */
  async query(expr: string): Promise<z.infer<typeof vectorSchema> | number> {
    const data = z
      .discriminatedUnion("resultType", [
        z.object({ resultType: z.literal("vector"), result: vectorSchema }),
        z.object({ resultType: z.literal("scalar"), result: z.tuple([z.number(), z.string()]) }),
      ])
      .parse(await this.get(`/api/v1/query?query=${encodeURIComponent(expr)}`));
    return data.resultType === "scalar" ? Number(data.result[1]) : data.result;
  }

  /** Every metric name Prometheus has stored. */
  async metricNames(): Promise<string[]> {
    return z.array(z.string()).parse(await this.get("/api/v1/label/__name__/values"));
  }

  private async get(path: string): Promise<unknown> {
    const response = await fetch(this.url(path));
    const body = z
      .object({ status: z.enum(["success", "error"]), data: z.unknown().optional(), error: z.string().optional() })
      .parse(await response.json());
    if (body.status !== "success") throw new Error(`Prometheus answered ${path} with: ${body.error ?? response.status}`);
    return body.data;
  }

  private url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }
}
