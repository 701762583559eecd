import { parseTurnUris } from "../../functions/src/credentials/uris";
import { TurnErrorResponse, type TurnServerAddress } from "./client";
import type { TransportAddress } from "./stun";

/** One URI to probe and where it points. */
export interface ProbeTarget {
  uri: string;
  server: Omit<TurnServerAddress, "tls">;
}

/** The outcome of probing one URI. */
export type ProbeResult =
  | { uri: string; ok: true; relayed: TransportAddress; rttMs: number }
  | { uri: string; ok: false; reason: string };

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

/** Turns a probe failure into a sentence an operator can act on. */
export function failureReason(error: unknown, target: ProbeTarget, timeoutMs: number): string {
  if (error instanceof TurnErrorResponse) {
    if (error.code === 401) {
      return "Allocate refused: 401 Unauthorized — the server does not accept credentials from this secret (wrong or rotated shared secret, or a clock far off)";
    }
    return `Allocate refused: ${error.code} ${error.reason}`;
  }
  const code = (error as { code?: string }).code;
  const where = `${target.server.host}:${target.server.port}`;
  if (code === "ECONNREFUSED") {
    // Over UDP this is an ICMP port unreachable: the host answered, nothing listens there.
    return target.server.transport === "udp"
      ? `port unreachable: nothing listens on ${where} over UDP (is coturn running?)`
      : `connection refused by ${where} (is coturn running, and the port open in the firewall?)`;
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve ${target.server.host}`;
  const message = error instanceof Error ? error.message : String(error);
  if (/no answer .* within|no (TCP|TLS) connection within/.test(message)) {
    return `no answer from ${where} over ${target.server.transport.toUpperCase()} within ${timeoutMs} ms (coturn down, or the port blocked by a firewall?)`;
  }
  if (target.server.transport === "tls" && /certificate|self.signed|SSL|TLS|handshake|altnames/i.test(message + (code ?? ""))) {
    return `TLS handshake with ${where} failed: ${message}`;
  }
  return `${message}${code ? ` (${code})` : ""}`;
}

/** One human-readable line per URI. */
export function formatResult(result: ProbeResult): string {
  if (!result.ok) return `FAIL  ${result.uri}  ${result.reason}`;
  const { address, family, port } = result.relayed;
  const relayed = family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  return `ok    ${result.uri}  relayed ${relayed}  rtt ${result.rttMs.toFixed(1)} ms`;
}

/** Prometheus text exposition for node_exporter's textfile collector. */
export function prometheusText(results: readonly ProbeResult[], nowMillis: number): string {
  const label = (uri: string): string => `{uri="${uri.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"}`;
  const lines = [
    "# HELP turn_probe_success Whether a TURN Allocate with a freshly minted credential succeeded on the URI.",
    "# TYPE turn_probe_success gauge",
    ...results.map((result) => `turn_probe_success${label(result.uri)} ${result.ok ? 1 : 0}`),
    "# HELP turn_probe_rtt_seconds Round-trip time of the authenticated Allocate request.",
    "# TYPE turn_probe_rtt_seconds gauge",
    ...results.flatMap((result) => (result.ok ? [`turn_probe_rtt_seconds${label(result.uri)} ${(result.rttMs / 1000).toFixed(6)}`] : [])),
    "# HELP turn_probe_last_run_timestamp_seconds When the probe last ran.",
    "# TYPE turn_probe_last_run_timestamp_seconds gauge",
    `turn_probe_last_run_timestamp_seconds ${Math.floor(nowMillis / 1000)}`,
  ];
  return `${lines.join("\n")}\n`;
}
