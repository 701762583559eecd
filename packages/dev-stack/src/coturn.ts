import { execFile } from "node:child_process";
import { chown, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { renderTurnConfig } from "@webrtc-lite/turn/render";
import { StunClass, StunMethod, decodeMessage, encodeMessage, newTransactionId } from "@webrtc-lite/turn/stun";
import { DEFAULT_MAX_BPS, type TurnSettings } from "@webrtc-lite/turn/settings";
import { freeStablePorts } from "./ports";
import { startProcess, type RunningProcess } from "./processes";
import { waitFor } from "./wait";

const run = promisify(execFile);

/** The kit's shipped template, which every test coturn is rendered from. */
export const TEMPLATE_PATH = join(__dirname, "..", "..", "..", "turn", "turnserver.conf.template");

/** A coturn server started by a test on loopback from the kit's rendered config. */
export interface TestCoturn {
  /** The loopback address it listens and relays on (127.0.0.1 unless `address` was given). */
  readonly address: string;
  /** Plain UDP/TCP listening port (the kit's 3478). */
  readonly port: number;
  /** TLS listening port (the kit's 443). */
  readonly tlsPort: number;
  /** The second TLS port, an aux-server (the kit's 5349). */
  readonly registeredTlsPort: number;
  /** The running turnserver's process id (for reading its CPU time). */
  pid(): number | undefined;
  /** The self-signed certificate (PEM) coturn serves on the TLS ports, for `ca`. */
  readonly certificate: Buffer;
  /** The rendered config as coturn read it. */
  readonly config: string;
  /** `turn:<address>:<port>?transport=udp`, `…tcp`. */
  uris(): string[];
  output(): string;
  /** Stops the server but keeps its config, certificate and ports, so `restart()` can bring it back. */
  halt(): Promise<void>;
  /** Starts the server again after `halt()`, on the same ports with the same config. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Test-only changes to the shipped config. */
export interface CoturnOptions {
  /**
   * Relaying between two local clients needs loopback peers: adds `allow-loopback-peers` and
   * `allowed-peer-ip=127.0.0.1` (which wins over the kit's denied ranges). Only tests do that.
   */
  relayBetweenLocalClients?: boolean;
  /** Shipped lines to leave out, to show what a line protects against (each must exist). */
  withoutLines?: string[];
  /**
   * Another loopback address (e.g. 127.0.0.2) to listen and relay on instead of 127.0.0.1 and
   * ::1, so that two test servers are two hosts, as in a fleet, and not two ports of one.
   */
  address?: string;
  /**
   * More addresses to listen on (not to relay on), e.g. the root end of a test's network
   * namespace (netns.ts), so that a client in the namespace reaches the server. Relays stay
   * on the loopback address, where clients on both sides reach each other's relays through
   * the server.
   */
  extraListeningIps?: string[];
  /** A fixed TLS listening port instead of a free one (443 needs root or CAP_NET_BIND_SERVICE). */
  tlsPort?: number;
  /**
   * How many relay ports (50 unless given). libwebrtc releases its allocations on close, but
   * coturn frees their ports only once it reaps the sessions: a failover test making 8
   * allocations per call ran out of 50 after 6 calls, so many calls need more. A larger range
   * may overlap another test server's on the same address; coturn skips ports in use. Each
   * relay-only peer holds one per TURN URI it was given, per ICE generation.
   */
  relayPortCount?: number;
  /** Other `user-quota`/`total-quota` values than the kit's defaults (load generators). */
  quotas?: { user: number; total: number };
  /**
   * Runs coturn as this user with exactly these capabilities (e.g. `["net_bind_service"]`, as
   * the kit's systemd drop-in grants; `[]` for none) through `setpriv`, as systemd's
   * AmbientCapabilities does. Its files are handed to that user. Needs root.
   */
  runAs?: { user: string; capabilities: string[] };
}

/**
 * Renders the kit's template through the kit's renderer with loopback listening and relay
 * addresses (127.0.0.1 and ::1), free ports, a self-signed certificate and temporary paths,
 * and starts Debian's coturn on it.
 */
export async function startCoturn(secrets: string[], options: CoturnOptions = {}): Promise<TestCoturn> {
  const dir = await mkdtemp(join(tmpdir(), "webrtc-lite-coturn-"));
  const address = options.address ?? "127.0.0.1";
  const addresses = address === "127.0.0.1" ? ["127.0.0.1", "::1"] : [address];
  const [listening = 0, altListening = 0, freeTls = 0, altTls = 0, registeredTls = 0] = await freeStablePorts(5);
  const tls = options.tlsPort ?? freeTls;
  // Relay ranges below the kernel's ephemeral ports (32768 up), so no client socket of another
  // process can hold a port coturn picks for a relay; and per instance, so that parallel test
  // servers rarely share one.
  const relayPorts = options.relayPortCount ?? 50;
  const minRelay = 20_000 + (listening % Math.floor(12_000 / relayPorts)) * relayPorts;
  const listeningIps = [...addresses, ...(options.extraListeningIps ?? [])];
  const certificate = await makeSelfSignedCertificate(dir, listeningIps);
  const settings: TurnSettings = {
    realm: "webrtc-lite.test",
    listeningIps,
    relayIps: addresses,
    ports: { listening, altListening, tls, altTls, registeredTls, minRelay, maxRelay: minRelay + relayPorts - 1 },
    tls: certificate.paths,
    userQuota: options.quotas?.user ?? 12,
    totalQuota: options.quotas?.total ?? 300,
    maxBps: DEFAULT_MAX_BPS,
    prometheus: false,
    pidfile: join(dir, "turnserver.pid"),
  };
  const testOnly = [`userdb=${join(dir, "turndb")}`];
  if (options.relayBetweenLocalClients) testOnly.push("allow-loopback-peers", `allowed-peer-ip=${address}`);
  let shipped = renderTurnConfig(await readFile(TEMPLATE_PATH, "utf8"), settings, secrets).split("\n");
  for (const line of options.withoutLines ?? []) {
    if (!shipped.includes(line)) throw new Error(`the rendered config has no line ${JSON.stringify(line)} to leave out`);
    shipped = shipped.filter((candidate) => candidate !== line);
  }
  const config = `${shipped.join("\n")}\n# test-only\n${testOnly.join("\n")}\n`;
  const configPath = join(dir, "turnserver.conf");
  await writeFile(configPath, config, { mode: 0o600 });
  const command = options.runAs ? await dropPrivileges(dir, options.runAs) : [];
  const launch = async (): Promise<RunningProcess> => {
    const [program = "turnserver", ...prefix] = [...command, "turnserver"];
    const started = startProcess(program, [...prefix, "-c", configPath]);
    await waitFor("coturn to listen on TCP", () => tcpAccepts(address, listening), 15_000);
    // coturn binds its UDP listener apart from the TCP one, and on a busy machine later: a
    // client that sends at once got ICMP port unreachable ("recv: Connection refused").
    await waitFor("coturn to answer STUN over UDP", () => udpAnswersStun(address, listening), 15_000);
    return started;
  };
  let server = await launch();
  return {
    address,
    port: listening,
    tlsPort: tls,
    registeredTlsPort: registeredTls,
    pid: () => server.child.pid,
    certificate: certificate.pem,
    config,
    uris: () => [`turn:${address}:${listening}?transport=udp`, `turn:${address}:${listening}?transport=tcp`],
    output: () => server.output(),
    halt: () => server.stop(3_000),
    async restart() {
      server = await launch();
    },
    async stop() {
      await server.stop(3_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a coturn from the kit's config for the enclosing mocha suite (before/after hooks)
 * and returns a getter for it.
 */
export function useCoturn(secrets: string[], options: CoturnOptions = {}): () => TestCoturn {
  let coturn: TestCoturn | undefined;
  before(async () => {
    coturn = await startCoturn(secrets, options);
  });
  after(async () => {
    await coturn?.stop();
  });
  return () => {
    if (!coturn) throw new Error("coturn is not running: useCoturn starts it in a before hook");
    return coturn;
  };
}

/** Hands `dir` to the user and returns the `setpriv` command line that starts coturn as it. */
async function dropPrivileges(dir: string, { user, capabilities }: { user: string; capabilities: string[] }): Promise<string[]> {
  const id = async (flag: string): Promise<number> => Number((await run("id", [flag, user])).stdout.trim());
  const [uid, gid] = [await id("-u"), await id("-g")];
  for (const name of ["", "turnserver.conf", "fullchain.pem", "privkey.pem"]) await chown(join(dir, name), uid, gid);
  const caps = capabilities.map((cap) => `+${cap}`).join(",");
  return [
    "setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups",
    `--inh-caps=-all${caps ? `,${caps}` : ""}`, `--ambient-caps=-all${caps ? `,${caps}` : ""}`, `--bounding-set=-all${caps ? `,${caps}` : ""}`,
  ];
}

/** An EC key and a one-day self-signed certificate for the given addresses, made with openssl. */
async function makeSelfSignedCertificate(dir: string, addresses: string[]): Promise<{ pem: Buffer; paths: { cert: string; key: string } }> {
  const cert = join(dir, "fullchain.pem");
  const key = join(dir, "privkey.pem");
  await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=webrtc-lite.test", "-addext", `subjectAltName=${addresses.map((ip) => `IP:${ip}`).join(",")}`,
    "-keyout", key, "-out", cert,
  ]);
  return { pem: await readFile(cert), paths: { cert, key } };
}

function tcpAccepts(host: string, port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(undefined));
  });
}

/** Sends one STUN Binding request over UDP; true once a Binding response comes back within half a second. */
function udpAnswersStun(host: string, port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    const transactionId = newTransactionId();
    const done = (answer: true | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), 500);
    socket.on("message", (bytes) => {
      try {
        const message = decodeMessage(bytes);
        if (message.method === StunMethod.Binding && message.transactionId.equals(transactionId)) done(true);
      } catch {
        // Not STUN: keep waiting for the answer.
      }
    });
    socket.on("error", () => done(undefined));
    socket.send(encodeMessage({ method: StunMethod.Binding, cls: StunClass.Request, transactionId, attributes: [] }), port, host);
  });
}

/** The outcome of one relay attempt through coturn with `turnutils_uclient`. */
export interface RelayResult {
  /** The allocation succeeded and data came back through the relay. */
  relayed: boolean;
  output: string;
}

/**
 * Allocates two relays with `turnutils_uclient` (coturn's own client, client-to-client mode)
 * and sends one message between them through the server at `address:port`, using the given
 * credential.
 */
export async function relayThroughCoturn(
  port: number,
  username: string,
  credential: string,
  transport: "udp" | "tcp" = "udp",
  address = "127.0.0.1",
): Promise<RelayResult> {
  const args = ["-y", "-c", "-n", "1", "-m", "1", "-z", "1", "-p", String(port), "-u", username, "-w", credential];
  if (transport === "tcp") args.unshift("-t");
  args.push(address);
  try {
    const { stdout, stderr } = await run("turnutils_uclient", args, { timeout: 20_000 });
    const output = stdout + stderr;
    return { relayed: /tot_recv_msgs=[1-9]/.test(output), output };
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    return { relayed: false, output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
  }
}
