import { parseTurnUris } from "@webrtc-lite/contract/turn-rest";
import { TurnErrorResponse, type TurnServerAddress } from "./client";
import type { TransportAddress } from "./stun";

/** One URI to probe and where it points. */
export interface ProbeTarget {
  uri: string;
  server: Omit<TurnServerAddress, "tls">;
}

/**
 * Why a URI failed, as a Prometheus label value: `unauthorized` is a 401 (the server refuses
 * credentials from this secret: a rotation gone wrong, or a clock far off), `refused` any other
 * TURN error, `unreachable` a refused connection or ICMP port unreachable, `timeout` silence,
 * `tls` a failed handshake, `dns` an unresolvable name, `error` anything else.
 */
export type FailureKind = "unauthorized" | "refused" | "unreachable" | "timeout" | "tls" | "dns" | "error";

/** What a result says about where it was measured: the URI, its host and transport. */
interface ResultPlace {
  uri: string;
  host: string;
  transport: TurnServerAddress["transport"];
  /** `turns:` only: when the certificate the server presented expires (unix milliseconds). */
  certificateNotAfterMs?: number;
}

/** The outcome of probing one URI. */
export type ProbeResult =
  | (ResultPlace & { ok: true; relayed: TransportAddress; rttMs: number })
  | (ResultPlace & { ok: false; kind: FailureKind; reason: string });

const TURN_URI = /^(turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/;

/** Parses the probe's URIs with the same rules the function applies to `TURN_URIS`. */
export function probeTargets(uris: readonly string[]): { ok: true; targets: ProbeTarget[] } | { ok: false; problems: string[] } {
  if (uris.length === 0) return { ok: false, problems: ["give at least one URI, e.g. turn:turn.example.com:3478?transport=udp"] };
  const check = parseTurnUris(uris.join(","));
  if (!check.ok) return check;
  return {
    ok: true,
    targets: check.uris.map((uri) => {
      const [, scheme, host = "", port, transport] = TURN_URI.exec(uri) ?? [];
      const secure = scheme === "turns";
      return {
        uri,
        server: {
          // RFC 7065: turn: defaults to UDP on 3478, turns: to TLS over TCP on 5349.
          transport: secure ? "tls" : transport === "tcp" ? "tcp" : "udp",
          host: host.replace(/^\[(.*)\]$/, "$1"),
          port: port ? Number(port) : secure ? 5349 : 3478,
        },
      };
    }),
  };
}

/** Turns a probe failure into a sentence an operator can act on, and its kind for alerting. */
export function describeFailure(error: unknown, target: ProbeTarget, timeoutMs: number): { kind: FailureKind; reason: string } {
  if (error instanceof TurnErrorResponse) {
    if (error.code === 401) {
      return {
        kind: "unauthorized",
        reason: "Allocate refused: 401 Unauthorized — the server does not accept credentials from this secret (wrong or rotated shared secret, or a clock far off)",
      };
    }
    return { kind: "refused", reason: `Allocate refused: ${error.code} ${error.reason}` };
  }
  const code = (error as { code?: string }).code;
  const where = `${target.server.host}:${target.server.port}`;
  if (code === "ECONNREFUSED") {
    // Over UDP this is an ICMP port unreachable: the host answered, nothing listens there.
    const reason =
      target.server.transport === "udp"
        ? `port unreachable: nothing listens on ${where} over UDP (is coturn running?)`
        : `connection refused by ${where} (is coturn running, and the port open in the firewall?)`;
    return { kind: "unreachable", reason };
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { kind: "dns", reason: `cannot resolve ${target.server.host}` };
  const message = error instanceof Error ? error.message : String(error);
  if (/no answer .* within|no (TCP|TLS) connection within/.test(message)) {
    return {
      kind: "timeout",
      reason: `no answer from ${where} over ${target.server.transport.toUpperCase()} within ${timeoutMs} ms (coturn down, or the port blocked by a firewall?)`,
    };
  }
  if (target.server.transport === "tls" && /certificate|self.signed|SSL|TLS|handshake|altnames/i.test(message + (code ?? ""))) {
    return { kind: "tls", reason: `TLS handshake with ${where} failed: ${message}` };
  }
  return { kind: "error", reason: `${message}${code ? ` (${code})` : ""}` };
}

/** One human-readable line per URI. */
export function formatResult(result: ProbeResult): string {
  if (!result.ok) return `FAIL  ${result.uri}  ${result.reason}`;
  const { address, family, port } = result.relayed;
  const relayed = family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  return `ok    ${result.uri}  relayed ${relayed}  rtt ${result.rttMs.toFixed(1)} ms`;
}

/**
 * The closing lines: one per host (in the order the URIs named them), so a run over several
 * TURN hosts says which one is failing, then the total.
 */
export function formatSummary(results: readonly ProbeResult[]): string[] {
  const hosts = [...new Set(results.map((result) => result.host))];
  const line = (subject: string, of: readonly ProbeResult[]): string =>
    `turn:probe: ${subject}${of.filter((result) => result.ok).length} of ${of.length} URI${of.length === 1 ? "" : "s"} passed`;
  return [...hosts.map((host) => line(`host ${host}: `, results.filter((result) => result.host === host))), line("", results)];
}

/**
 * Prometheus text exposition for node_exporter's textfile collector. Every per-URI series
 * carries `host`, `transport` and `uri`, so one run over several hosts is told apart per host;
 * turn/monitoring/rules/turn-alerts.yml alerts on these names.
 */
export function prometheusText(results: readonly ProbeResult[], nowMillis: number): string {
  const escape = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  const labels = (result: ProbeResult, extra: Record<string, string> = {}): string => {
    const pairs = { host: result.host, transport: result.transport, uri: result.uri, ...extra };
    return `{${Object.entries(pairs).map(([name, value]) => `${name}="${escape(value)}"`).join(",")}}`;
  };
  // A family without samples is left out whole: a bare HELP/TYPE pair says nothing.
  const family = (name: string, help: string, samples: string[]): string[] =>
    samples.length === 0 ? [] : [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples];
  const lines = [
    ...family(
      "turn_probe_success",
      "Whether a TURN Allocate with a freshly minted credential succeeded on the URI.",
      results.map((result) => `turn_probe_success${labels(result)} ${result.ok ? 1 : 0}`),
    ),
    ...family(
      "turn_probe_failure",
      "1 for a failed URI, with why: unauthorized (401: secret mismatch or clock), refused, unreachable, timeout, tls, dns, error.",
      results.flatMap((result) => (result.ok ? [] : [`turn_probe_failure${labels(result, { reason: result.kind })} 1`])),
    ),
    ...family(
      "turn_probe_rtt_seconds",
      "Round-trip time of the authenticated Allocate request.",
      results.flatMap((result) => (result.ok ? [`turn_probe_rtt_seconds${labels(result)} ${(result.rttMs / 1000).toFixed(6)}`] : [])),
    ),
    ...family(
      "turn_probe_tls_certificate_not_after_seconds",
      "When the certificate a turns: URI presented expires (unix seconds).",
      results.flatMap((result) =>
        result.certificateNotAfterMs === undefined
          ? []
          : [`turn_probe_tls_certificate_not_after_seconds${labels(result)} ${Math.floor(result.certificateNotAfterMs / 1000)}`],
      ),
    ),
    ...family("turn_probe_last_run_timestamp_seconds", "When the probe last ran.", [`turn_probe_last_run_timestamp_seconds ${Math.floor(nowMillis / 1000)}`]),
  ];
  return `${lines.join("\n")}\n`;
}
