import { sharedSecretProblem } from "@webrtc-lite/contract/turn-rest";
import type { TurnSettings } from "./settings";

/** A template placeholder: `{{name}}`. */
const PLACEHOLDER = /\{\{([a-z_]+)\}\}/g;

/** Raised when the config cannot be rendered; the message never contains a secret. */
export class RenderError extends Error {
  override name = "RenderError";
}

/**
 * Fills the kit's template. `secrets` are the accepted shared secrets, newest first (the
 * previous one only during a rotation window); each must pass the function's own check.
 */
export function renderTurnConfig(template: string, settings: TurnSettings, secrets: readonly string[]): string {
  if (secrets.length === 0) throw new RenderError("no shared secret to render: set TURN_SHARED_SECRET or TURN_SECRET_NAME");
  secrets.forEach((secret, index) => {
    const problem = sharedSecretProblem(secret);
    if (problem) throw new RenderError(index === 0 ? problem : `the previous shared secret is unusable: ${problem}`);
  });
  if (new Set(secrets).size !== secrets.length) throw new RenderError("the current and the previous shared secret are the same");
  const { ports } = settings;
  if (!(ports.minRelay <= ports.maxRelay)) throw new RenderError(`relay port range ${ports.minRelay}-${ports.maxRelay} is empty`);
  const values: Record<string, string> = {
    listening_ips: optionLines("listening-ip", settings.listeningIps, "listening on all interfaces"),
    relay_ips: optionLines("relay-ip", settings.relayIps, "relaying from the listening addresses"),
    external_ip: settings.externalIp
      ? `external-ip=${settings.externalIp.public}${settings.externalIp.private ? `/${settings.externalIp.private}` : ""}`
      : "# external-ip: not behind NAT (set TURN_PUBLIC_IP and TURN_PRIVATE_IP for 1:1 NAT)",
    listening_port: String(ports.listening),
    alt_listening_port: String(ports.altListening),
    tls_listening_port: String(ports.tls),
    alt_tls_listening_port: String(ports.altTls),
    registered_tls_listeners: registeredTlsLines(settings),
    min_port: String(ports.minRelay),
    max_port: String(ports.maxRelay),
    tls_cert: settings.tls.cert,
    tls_key: settings.tls.key,
    static_auth_secrets: secrets.map((secret) => `static-auth-secret=${secret}`).join("\n"),
    realm: settings.realm,
    user_quota: String(settings.userQuota),
    total_quota: String(settings.totalQuota),
    max_bps: String(settings.maxBps),
    max_mbps: String((settings.maxBps * 8) / 1_000_000),
    pidfile: settings.pidfile,
    prometheus: settings.prometheus
      ? "prometheus"
      : "# prometheus: off (this coturn build has no exporter, or TURN_PROMETHEUS=off); use `webrtc-lite-turn-probe --prometheus-file` instead",
  };
  const unknown = new Set<string>();
  const rendered = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) unknown.add(whole);
    return value ?? whole;
  });
  if (unknown.size > 0) throw new RenderError(`the template has placeholders the renderer does not know: ${[...unknown].join(", ")}`);
  return rendered;
}

// coturn opens exactly one TCP port per role on a host with one address (listening-port,
// tls-listening-port); an aux-server is the only way to a third, and it needs an address.
function registeredTlsLines({ ports, listeningIps }: TurnSettings): string {
  if (ports.registeredTls === ports.tls) return `# aux-server: none, TURN over TLS is on ${ports.tls} only`;
  const addresses = listeningIps.length > 0 ? listeningIps : ["0.0.0.0"];
  return addresses.map((ip) => `aux-server=${ip.includes(":") ? `[${ip}]` : ip}:${ports.registeredTls}`).join("\n");
}

function optionLines(option: string, values: readonly string[], whenEmpty: string): string {
  return values.length > 0 ? values.map((value) => `${option}=${value}`).join("\n") : `# ${option}: none given, ${whenEmpty}`;
}
