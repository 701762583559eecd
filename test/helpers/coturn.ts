import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { connect } from "node:net";
import { freePort } from "./ports";
import { startProcess } from "./processes";
import { waitFor } from "./wait";

const run = promisify(execFile);

/** A coturn server started by a test on loopback. */
export interface TestCoturn {
  readonly port: number;
  /** `turn:127.0.0.1:<port>?transport=udp`, `…tcp`. */
  uris(): string[];
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Debian's coturn with `use-auth-secret` and the given `static-auth-secret` lines, on a
 * free loopback port. `allow-loopback-peers` is set because the relay check sends data between
 * two local clients; only test configs do that, never the shipped one.
 */
export async function startCoturn(secrets: string[]): Promise<TestCoturn> {
  const dir = await mkdtemp(join(tmpdir(), "webrtc-lite-coturn-"));
  const port = await freePort();
  const lines = [
    "listening-ip=127.0.0.1",
    "relay-ip=127.0.0.1",
    `listening-port=${port}`,
    `min-port=${40000 + (port % 20000)}`,
    `max-port=${40000 + (port % 20000) + 200}`,
    "use-auth-secret",
    ...secrets.map((secret) => `static-auth-secret=${secret}`),
    "realm=webrtc-lite.test",
    "fingerprint",
    "no-tls",
    "no-dtls",
    "no-cli",
    "allow-loopback-peers",
    "log-file=stdout",
    "simple-log",
    `pidfile=${join(dir, "turnserver.pid")}`,
    `userdb=${join(dir, "turndb")}`,
  ];
  const configPath = join(dir, "turnserver.conf");
  await writeFile(configPath, lines.join("\n") + "\n", { mode: 0o600 });
  const server = startProcess("turnserver", ["-c", configPath]);
  await waitFor("coturn to listen on TCP", () => tcpAccepts(port), 15_000);
  return {
    port,
    uris: () => [`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`],
    output: () => server.output(),
    async stop() {
      await server.stop(3_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function tcpAccepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(undefined));
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
 * and sends one message between them through the server, using the given credential.
 */
export async function relayThroughCoturn(
  port: number,
  username: string,
  credential: string,
  transport: "udp" | "tcp" = "udp",
): Promise<RelayResult> {
  const args = ["-y", "-c", "-n", "1", "-m", "1", "-z", "1", "-p", String(port), "-u", username, "-w", credential];
  if (transport === "tcp") args.unshift("-t");
  args.push("127.0.0.1");
  try {
    const { stdout, stderr } = await run("turnutils_uclient", args, { timeout: 20_000 });
    const output = stdout + stderr;
    return { relayed: /tot_recv_msgs=[1-9]/.test(output), output };
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    return { relayed: false, output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
  }
}
