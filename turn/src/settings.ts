import { isIP } from "node:net";
import { z } from "zod";

/** Everything the config template needs besides the secrets. */
export interface TurnSettings {
  realm: string;
  /** Addresses coturn listens on; empty = all interfaces. */
  listeningIps: string[];
  /** Addresses coturn relays from; empty = coturn picks the listening ones. */
  relayIps: string[];
  /** 1:1 NAT: the public address, and the private one it maps to. */
  externalIp?: { public: string; private?: string };
  /**
   * `tls` is TURN over TLS's main port (443: what restrictive networks let out); `registeredTls`
   * serves TLS too (IANA's turns port, 5349, for URIs handed out before), through a coturn
   * aux-server, and equals `tls` when there is no second TLS port. `altListening`/`altTls` are
   * RFC 5780's alternate ports, which coturn opens only with a second listening address.
   */
  ports: { listening: number; altListening: number; tls: number; altTls: number; registeredTls: number; minRelay: number; maxRelay: number };
  tls: { cert: string; key: string };
  userQuota: number;
  totalQuota: number;
  /** Per-session cap in bytes per second. */
  maxBps: number;
  prometheus: boolean;
  pidfile: string;
}

/**
 * The kit's ports: 3478 plain (UDP, TCP), TLS on 443 and on IANA's 5349, relays 49152–65535.
 * 3479 and 5350 are RFC 5780's alternate ports: rendered, but coturn listens there only with a
 * second address, which a cloud VM with one address does not have, so no firewall opens them.
 */
export const DEFAULT_PORTS = Object.freeze({
  listening: 3478,
  altListening: 3479,
  tls: 443,
  altTls: 5350,
  registeredTls: 5349,
  minRelay: 49152,
  maxRelay: 65535,
});

/** IANA's port for TURN over TLS (RFC 5766 §4, RFC 7065 `turns:` default). */
export const REGISTERED_TLS_PORT = 5349;

/** 3 Mbps per session, in bytes per second (coturn's max-bps unit). */
export const DEFAULT_MAX_BPS = 375_000;

/** Whether the Prometheus exporter is rendered: `auto` asks the local turnserver binary. */
export type PrometheusChoice = "auto" | "on" | "off";

const DNS_NAME = /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/;
const ipAddress = (name: string) =>
  z.string().refine((value) => isIP(value) !== 0, { message: `${name} must be an IP address such as 203.0.113.10` });
const count = (name: string, fallback: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .refine((value) => /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= max, {
      message: `${name} must be a whole number from 1 to ${max}`,
    })
    .transform(Number);
// The realm and paths land on config lines: a space, `#` or newline would cut or break them.
const configValue = (name: string) =>
  z.string().regex(/^[^\s#"']+$/, { message: `${name} must not contain spaces, quotes, # or line breaks` });

const environmentSchema = z
  .object({
    TURN_DOMAIN: z
      .string({ message: "TURN_DOMAIN is not set: set it to the TURN server's DNS name, e.g. turn.example.com" })
      .regex(DNS_NAME, { message: "TURN_DOMAIN must be a DNS name such as turn.example.com" }),
    TURN_REALM: configValue("TURN_REALM").optional(),
    TURN_PUBLIC_IP: ipAddress("TURN_PUBLIC_IP").optional(),
    TURN_PRIVATE_IP: ipAddress("TURN_PRIVATE_IP").optional(),
    TURN_TLS_CERT: configValue("TURN_TLS_CERT").optional(),
    TURN_TLS_KEY: configValue("TURN_TLS_KEY").optional(),
    TURN_USER_QUOTA: count("TURN_USER_QUOTA", 12, 1_000),
    TURN_TOTAL_QUOTA: count("TURN_TOTAL_QUOTA", 300, 100_000),
    TURN_MAX_BPS: count("TURN_MAX_BPS", DEFAULT_MAX_BPS, 125_000_000),
    TURN_PROMETHEUS: z.enum(["auto", "on", "off"], { message: "TURN_PROMETHEUS must be auto, on or off" }).default("auto"),
    TURN_PIDFILE: configValue("TURN_PIDFILE").default("/var/run/turnserver/turnserver.pid"),
    TURN_TLS_PORT: z
      .enum([String(DEFAULT_PORTS.tls), String(REGISTERED_TLS_PORT)], {
        message: `TURN_TLS_PORT must be ${DEFAULT_PORTS.tls} (the default: TLS on 443 and ${REGISTERED_TLS_PORT}) or ${REGISTERED_TLS_PORT} (a host whose 443 belongs to a web server)`,
      })
      .default(String(DEFAULT_PORTS.tls))
      .transform(Number),
  })
  .refine((env) => env.TURN_PRIVATE_IP === undefined || env.TURN_PUBLIC_IP !== undefined, {
    message: "TURN_PRIVATE_IP is set without TURN_PUBLIC_IP: behind 1:1 NAT set both (public first), otherwise neither",
    path: ["TURN_PRIVATE_IP"],
  });

/** Parsed environment, or sentences saying what to fix. */
export type SettingsCheck = { ok: true; settings: TurnSettings; prometheus: PrometheusChoice } | { ok: false; problems: string[] };

/**
 * Reads the kit's settings from environment variables (see turn/README.md). The Prometheus
 * choice is returned unresolved: `auto` depends on the coturn binary, which is not pure.
 */
export function settingsFromEnvironment(env: Record<string, string | undefined>): SettingsCheck {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((issue) => issue.message) };
  const values = parsed.data;
  const certDir = `/etc/letsencrypt/live/${values.TURN_DOMAIN}`;
  const nat = values.TURN_PUBLIC_IP
    ? { externalIp: { public: values.TURN_PUBLIC_IP, ...(values.TURN_PRIVATE_IP ? { private: values.TURN_PRIVATE_IP } : {}) } }
    : {};
  // Behind 1:1 NAT coturn must listen and relay on the private address the public one maps to.
  const local = values.TURN_PRIVATE_IP ? [values.TURN_PRIVATE_IP] : [];
  return {
    ok: true,
    prometheus: values.TURN_PROMETHEUS,
    settings: {
      realm: values.TURN_REALM ?? values.TURN_DOMAIN,
      listeningIps: local,
      relayIps: local,
      ...nat,
      // On 5349 alone, there is no second TLS port to serve.
      ports: { ...DEFAULT_PORTS, tls: values.TURN_TLS_PORT },
      tls: { cert: values.TURN_TLS_CERT ?? `${certDir}/fullchain.pem`, key: values.TURN_TLS_KEY ?? `${certDir}/privkey.pem` },
      userQuota: values.TURN_USER_QUOTA,
      totalQuota: values.TURN_TOTAL_QUOTA,
      maxBps: values.TURN_MAX_BPS,
      prometheus: false,
      pidfile: values.TURN_PIDFILE,
    },
  };
}
