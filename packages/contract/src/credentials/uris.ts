import { isIPv4, isIPv6 } from "node:net";

/** A TURN or STUN server URI list after parsing, or the problems that make it unusable. */
export type UriListCheck = { ok: true; uris: string[] } | { ok: false; problems: string[] };

// RFC 7064/7065: scheme ":" host [":" port] ["?transport=" udp|tcp]; the host is an
// IPv4 address, a bracketed IPv6 literal or a DNS name.
const TURN_URI = /^(turns?):(\[[^\]]*\]|[^:?[\]]*)(?::([^?]*))?(?:\?transport=(.*))?$/;
const STUN_URI = /^(stuns?):(\[[^\]]*\]|[^:?[\]]*)(?::([^?]*))?$/;
const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const TRANSPORTS = new Set(["udp", "tcp"]);

/** Splits a comma-separated param value into trimmed, non-empty entries. */
export function splitList(raw: string): string[] {
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** Parses `TURN_URIS`: one or more `turn:`/`turns:` URIs, comma-separated. */
export function parseTurnUris(raw: string): UriListCheck {
  const entries = splitList(raw);
  if (entries.length === 0) {
    return {
      ok: false,
      problems: ["TURN_URIS is empty: set it to e.g. turn:turn.example.com:3478?transport=udp"],
    };
  }
  return collect(entries, (entry) => checkTurnUri(entry));
}

/**
 * Resolves the STUN URIs: `STUN_URIS` when given, `none` for no STUN entry, otherwise one
 * `stun:` URI per distinct host and port among the plain `turn:` URIs (coturn answers STUN
 * Binding requests on its listening ports without authentication).
 */
export function resolveStunUris(raw: string, turnUris: readonly string[]): UriListCheck {
  const trimmed = raw.trim();
  if (trimmed.toLowerCase() === "none") return { ok: true, uris: [] };
  if (trimmed.length > 0) return collect(splitList(trimmed), (entry) => checkStunUri(entry));
  const derived = new Set<string>();
  for (const uri of turnUris) {
    const match = TURN_URI.exec(uri);
    if (match?.[1] === "turn") {
      derived.add(match[3] ? `stun:${match[2]}:${match[3]}` : `stun:${match[2]}`);
    }
  }
  return { ok: true, uris: [...derived] };
}

/** The host part of a checked `turn:`/`turns:` URI, lower-cased (DNS names are case-insensitive). */
export function turnUriHost(uri: string): string {
  return (TURN_URI.exec(uri)?.[2] ?? "").toLowerCase();
}

function collect(entries: string[], check: (entry: string) => string | undefined): UriListCheck {
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const problem = check(entry);
    if (problem) problems.push(`entry ${index + 1} (${JSON.stringify(entry)}) ${problem}`);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, uris: entries };
}

function checkTurnUri(entry: string): string | undefined {
  const match = TURN_URI.exec(entry);
  if (!match) return "is not a turn: or turns: URI such as turn:host:3478?transport=udp";
  const [, scheme, host, port, transport] = match;
  if (transport !== undefined && !TRANSPORTS.has(transport)) {
    return `has transport "${transport}"; use transport=udp or transport=tcp`;
  }
  if (scheme === "turns" && transport === "udp") {
    return "asks for TURN over DTLS (turns: with transport=udp), which browsers do not support; use transport=tcp";
  }
  return checkHost(host ?? "") ?? checkPort(port);
}

function checkStunUri(entry: string): string | undefined {
  const match = STUN_URI.exec(entry);
  if (!match) return "is not a stun: or stuns: URI such as stun:host:3478";
  return checkHost(match[2] ?? "") ?? checkPort(match[3]);
}

function checkHost(host: string): string | undefined {
  if (host.startsWith("[")) {
    return isIPv6(host.slice(1, -1)) ? undefined : "has a bracketed host that is not an IPv6 address";
  }
  if (host.length === 0) return "has no host";
  if (isIPv4(host)) return undefined;
  const labels = host.split(".");
  const valid = host.length <= 253 && labels.every((label) => DNS_LABEL.test(label));
  return valid ? undefined : "has a host that is neither an IP address nor a DNS name";
}

function checkPort(port: string | undefined): string | undefined {
  if (port === undefined) return undefined;
  const value = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  return value >= 1 && value <= 65_535 ? undefined : `has port "${port}"; use a number from 1 to 65535`;
}
