// A network namespace a test creates, to change a client's network under a live call: one veth
// pair, its root end 10.231.X.1/24 and its namespace end 10.231.X.2/24 (then .3, …), loopback
// up inside, IPv6 off on both ends and no default route inside, so that a process in the
// namespace can reach the root end's address and nothing else: its only route is the /24, and
// only the root end answers there, so even where the root namespace forwards (ip_forward=1)
// no packet from inside is addressed past it. Needs root (CAP_NET_ADMIN), as `ip netns add` does.
//
// A client inside reaches the emulators through `forwardToLoopback(port)` and a test coturn
// that also listens on the root end: `startCoturn(secrets, { relayBetweenLocalClients: true,
// extraListeningIps: [ns.hostAddress] })`. Its relays stay on 127.0.0.1, so a client inside and
// one on loopback reach each other relay to relay through the server, and the client inside
// sends to nothing but the root end. Chromium runs inside through `wrapperFor("/usr/bin/chromium")`
// as playwright's executablePath (`ip netns exec` keeps the pipes playwright talks over).
import { execFile, execFileSync, spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { killOnExit } from "./processes";
import { SUBNET_RANGE, freeSubnets, hostIn, prefixesOverlap } from "./netns-subnets";
import { startTcpForward, type TcpForward } from "./tcp-forward";

const execFileAsync = promisify(execFile);

/** Every namespace this module creates has this prefix, then the creating process id. */
export const NAMESPACE_PREFIX = "webrtc-lite-";
/** The host number of the root end in each /24; the namespace end starts at the next one. */
const ROOT_HOST = 1;
/** The namespace end's interface name, inside the namespace. */
const INNER_DEVICE = "eth0";

/** One address change of the namespace end, as `changeAddress` or `interrupt` made it. */
export interface AddressChange {
  from: string;
  to: string;
  /** `Date.now()` when the old address was removed. */
  removedAt: number;
  /** `Date.now()` when the new address was in place (and the link up again). */
  addedAt: number;
}

/** Packet and byte counters of one interface, as `ip -s link` prints them. */
export interface LinkCounters {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
}

/** A process started inside the namespace, in its own process group. */
export interface NamespaceProcess {
  readonly child: ChildProcess;
  /** What it printed on the pipes given to it (stdout and stderr interleaved). */
  output(): string;
  /** SIGTERM to its group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of `run`: with `ipc`, the child gets Node's IPC channel (it survives `ip netns exec`, which execs in place). */
export interface RunOptions {
  ipc?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** A network namespace with one veth pair to the root namespace. */
export interface NetworkNamespace {
  readonly name: string;
  /** The /24 both ends are in, e.g. `10.231.17.0/24`. */
  readonly subnet: string;
  /** The root end's address: what a process inside reaches, and all it reaches. */
  readonly hostAddress: string;
  /** The root end's interface name. */
  readonly hostDevice: string;
  /** The namespace end's current address. */
  address(): string;
  /**
   * Replaces the namespace end's address with `to` (default: the next free host number in the
   * /24), at once, and closes the TCP connections from the old address as a phone's OS does.
   */
  changeAddress(to?: string): Promise<AddressChange>;
  /** Takes the namespace end's link down, removes its address (closing its TCP connections), waits `downMs`, then comes back up with `to`. */
  interrupt(downMs: number, to?: string): Promise<AddressChange>;
  /** Listens on `hostAddress:port` and forwards to `127.0.0.1:port`, so that the namespace reaches a loopback service on its own port. */
  forwardToLoopback(port: number): Promise<TcpForward>;
  /** Starts `command` inside the namespace (`ip netns exec`), killed with the test process at the latest. */
  run(command: string, args: string[], options?: RunOptions): NamespaceProcess;
  /**
   * An executable script that runs `executable` inside the namespace with the arguments it is
   * given, for a launcher that takes a path (playwright's `executablePath`); removed by `destroy()`.
   */
  wrapperFor(executable: string): Promise<string>;
  /** The namespace's routes, every table, as `ip -j route show table all` gives them. */
  routes(): Promise<Array<{ dst: string; dev?: string; type?: string; table?: string }>>;
  /** Whether the namespace has a route to `address` (a route lookup; nothing is sent). */
  hasRouteTo(address: string): Promise<boolean>;
  /** The counters of the namespace end. */
  counters(): Promise<LinkCounters>;
  /** Stops what `run` started, then deletes the namespace and the veth pair. Safe to call twice. */
  destroy(): Promise<void>;
}

async function ip(args: string[], input?: string): Promise<string> {
  try {
    if (input === undefined) return (await execFileAsync("ip", args)).stdout;
    return await new Promise<string>((resolve, reject) => {
      const child = execFile("ip", args, (error, stdout, stderr) => {
        if (error) reject(Object.assign(new Error(error.message), { stderr }));
        else resolve(stdout);
      });
      child.stdin?.end(input);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error("the ip command is missing: install Debian's iproute2 (it has ip and ss)");
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(" ")} failed: ${stderr || (error as Error).message}`);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Kills what runs in namespace `name` and deletes it (with its end of the veth pair, which takes the other end along). Synchronous: it also runs on exit. */
function removeNamespaceSync(name: string, hostDevice?: string): void {
  try {
    const pids = execFileSync("ip", ["netns", "pids", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  } catch {
    // No such namespace: nothing runs in it.
  }
  for (const args of [["netns", "delete", name], ...(hostDevice ? [["link", "delete", hostDevice]] : [])]) {
    try {
      execFileSync("ip", args, { stdio: "ignore" });
    } catch {
      // Already gone (the veth goes with the namespace).
    }
  }
}

/**
 * Deletes the namespaces of test processes that died without cleaning up (SIGKILL): their
 * names carry the creating process id.
 */
async function removeStaleNamespaces(): Promise<void> {
  const listed = await ip(["-j", "netns", "list"]).catch(() => "[]");
  const names = (JSON.parse(listed.trim() || "[]") as Array<{ name: string }>).map((entry) => entry.name);
  for (const name of names) {
    const match = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)-`).exec(name);
    if (match && !processAlive(Number(match[1]))) removeNamespaceSync(name);
  }
}

async function routeDestinations(): Promise<string[]> {
  const routes = JSON.parse(await ip(["-j", "-4", "route", "show", "table", "all"])) as Array<{ dst: string }>;
  const addresses = JSON.parse(await ip(["-j", "-4", "addr", "show"])) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
  return [...routes.map((route) => route.dst), ...addresses.flatMap((link) => (link.addr_info ?? []).map((info) => `${info.local}/${info.prefixlen}`))];
}


/**
 * Creates a namespace `webrtc-lite-<pid>-<random>` with a veth pair in a /24 of 10.231.0.0/16
 * that no route of this machine covers. The namespace is deleted by `destroy()`, or when the
 * test process exits or is interrupted; one left by a killed test process is deleted by the
 * next call.
 */
export async function createNetworkNamespace(): Promise<NetworkNamespace> {
  if (process.getuid?.() !== 0) {
    throw new Error("creating a network namespace needs root (CAP_NET_ADMIN): run the test as root, e.g. in the CI container or with sudo");
  }
  await removeStaleNamespaces();
  const name = `${NAMESPACE_PREFIX}${process.pid}-${randomBytes(3).toString("hex")}`;
  await ip(["netns", "add", name]);
  let hostDevice: string | undefined;
  const forgetOnExit = killOnExit(() => removeNamespaceSync(name, hostDevice));
  try {
    // From a random one on, so that parallel test processes seldom try the same /24 first.
    const free = freeSubnets(await routeDestinations());
    const first = randomInt(Math.max(free.length, 1));
    const candidates = [...free.slice(first), ...free.slice(0, first)];
    let subnet: string | undefined;
    // The root end's name carries the /24, so creating it claims the /24 against another test
    // process picking at the same moment: `ip link add` refuses a name that exists.
    for (const candidate of candidates) {
      const device = `wrtc-lite-${candidate.split(".")[2]}`;
      try {
        await ip(["link", "add", device, "type", "veth", "peer", "name", INNER_DEVICE, "netns", name]);
      } catch (error) {
        if (/exists/i.test((error as Error).message)) continue;
        throw error;
      }
      hostDevice = device;
      subnet = candidate;
      break;
    }
    if (!subnet || !hostDevice) throw new Error(`no /24 of ${SUBNET_RANGE} is free of routes and veth devices on this machine`);
    // IPv6 off on both ends before they come up: no link-local addresses, router or neighbour
    // solicitations; the namespace speaks IPv4 to the root end only.
    await writeFile(`/proc/sys/net/ipv6/conf/${hostDevice}/disable_ipv6`, "1");
    await execFileAsync("ip", ["netns", "exec", name, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", `net.ipv6.conf.${INNER_DEVICE}.disable_ipv6=1`]);
    const hostAddress = hostIn(subnet, ROOT_HOST);
    await ip(["addr", "add", `${hostAddress}/24`, "dev", hostDevice]);
    await ip(["link", "set", hostDevice, "up"]);
    await ip(["-n", name, "link", "set", "lo", "up"]);
    const address = hostIn(subnet, ROOT_HOST + 1);
    await ip(["-n", name, "addr", "add", `${address}/24`, "dev", INNER_DEVICE]);
    await ip(["-n", name, "link", "set", INNER_DEVICE, "up"]);
    return namespaceHandle({ name, subnet, hostAddress, hostDevice, address, forgetOnExit });
  } catch (error) {
    removeNamespaceSync(name, hostDevice);
    forgetOnExit();
    throw error;
  }
}

interface HandleParts {
  name: string;
  subnet: string;
  hostAddress: string;
  hostDevice: string;
  /** The namespace end's first address. */
  address: string;
  forgetOnExit: () => void;
}

function namespaceHandle(parts: HandleParts): NetworkNamespace {
  const { name, subnet, hostAddress, hostDevice } = parts;
  let current = parts.address;
  const used = new Set([hostAddress, current]);
  const processes = new Set<NamespaceProcess>();
  const forwards = new Set<TcpForward>();
  const wrapperDirs: string[] = [];
  let destroyed = false;

  const nextAddress = (to?: string): string => {
    if (to !== undefined) {
      if (!prefixesOverlap(`${to}/32`, subnet) || to === hostAddress) throw new Error(`${to} is not a free host address of ${subnet}`);
      return to;
    }
    for (let host = ROOT_HOST + 1; host < 255; host += 1) {
      const candidate = hostIn(subnet, host);
      if (!used.has(candidate)) return candidate;
    }
    throw new Error(`every host address of ${subnet} was used`);
  };

  const replace = async (to: string | undefined, downMs: number | undefined): Promise<AddressChange> => {
    const from = current;
    const next = nextAddress(to);
    used.add(next);
    // One `ip -batch` per step, so that the old address goes and the new one comes with no
    // await between them (deleting first: a second address in the /24 would be a secondary
    // one, removed along with the primary).
    const down = downMs === undefined ? "" : `link set ${INNER_DEVICE} down\n`;
    await ip(["-n", name, "-batch", "-"], `${down}addr del ${from}/24 dev ${INNER_DEVICE}\n${downMs === undefined ? `addr add ${next}/24 dev ${INNER_DEVICE}\n` : ""}`);
    const removedAt = Date.now();
    // The kernel keeps TCP connections from a removed address open, silent until they time out
    // (minutes); a phone's OS closes them at once (Android's netd destroys them through
    // SOCK_DESTROY), so that apps reconnect from the new address. `ss -K` does the same here.
    await execFileAsync("ip", ["netns", "exec", name, "ss", "-K", "-t", "-n", "src", from]);
    if (downMs !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await ip(["-n", name, "-batch", "-"], `addr add ${next}/24 dev ${INNER_DEVICE}\nlink set ${INNER_DEVICE} up\n`);
    }
    current = next;
    return { from, to: next, removedAt, addedAt: Date.now() };
  };

  return {
    name,
    subnet,
    hostAddress,
    hostDevice,
    address: () => current,
    changeAddress: (to) => replace(to, undefined),
    interrupt: (downMs, to) => replace(to, downMs),
    async forwardToLoopback(port) {
      const forward = await startTcpForward({ listen: { host: hostAddress, port }, target: { host: "127.0.0.1", port } });
      forwards.add(forward);
      return forward;
    },
    run(command, args, options = {}) {
      const stdio: StdioOptions = options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"];
      // Its own process group, so that stopping it stops what it spawned; `ip netns exec`
      // execs the command in place, so the group leader is the command itself.
      const child = spawn("ip", ["netns", "exec", name, command, ...args], { stdio, detached: true, env: options.env, cwd: options.cwd });
      const group = child.pid;
      const signalGroup = (signal: NodeJS.Signals): void => {
        if (group === undefined) return;
        try {
          process.kill(-group, signal);
        } catch {
          // The whole group is gone.
        }
      };
      const forget = killOnExit(() => signalGroup("SIGKILL"));
      let output = "";
      const append = (chunk: Buffer): void => {
        output += chunk.toString("utf8");
      };
      child.stdout?.on("data", append);
      child.stderr?.on("data", append);
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const handle: NamespaceProcess = {
        child,
        output: () => output,
        async stop(graceMs = 5_000) {
          if (child.exitCode === null && child.signalCode === null) {
            signalGroup("SIGTERM");
            const killer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
            await exited;
            clearTimeout(killer);
          }
          // What the leader spawned may outlive it.
          signalGroup("SIGKILL");
          forget();
          processes.delete(handle);
        },
      };
      processes.add(handle);
      return handle;
    },
    async wrapperFor(executable) {
      const dir = await mkdtemp(join(tmpdir(), `${name}-`));
      wrapperDirs.push(dir);
      const wrapper = join(dir, executable.split("/").pop() ?? "wrapped");
      // `exec` twice: the launcher's child is the executable itself, in the launcher's process group.
      await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${name} ${executable} "$@"\n`);
      await chmod(wrapper, 0o755);
      return wrapper;
    },
    async routes() {
      return JSON.parse(await ip(["-n", name, "-j", "route", "show", "table", "all"])) as Array<{ dst: string; dev?: string; type?: string; table?: string }>;
    },
    async hasRouteTo(address) {
      try {
        await ip(["-n", name, "route", "get", address]);
        return true;
      } catch (error) {
        if (/unreachable/i.test((error as Error).message)) return false;
        throw error;
      }
    },
    async counters() {
      const [link] = JSON.parse(await ip(["-n", name, "-j", "-s", "link", "show", INNER_DEVICE])) as Array<{
        stats64: { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } };
      }>;
      if (!link) throw new Error(`namespace ${name} has no ${INNER_DEVICE}`);
      const { rx, tx } = link.stats64;
      return { rxPackets: rx.packets, txPackets: tx.packets, rxBytes: rx.bytes, txBytes: tx.bytes };
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await Promise.all([...processes].map((running) => running.stop(2_000)));
      await Promise.all([...forwards].map((forward) => forward.close()));
      await Promise.all(wrapperDirs.map((dir) => rm(dir, { recursive: true, force: true })));
      removeNamespaceSync(name, hostDevice);
      parts.forgetOnExit();
    },
  };
}

/** Creates a namespace for the enclosing mocha suite (before/after hooks) and returns a getter for it. */
export function useNetworkNamespace(): () => NetworkNamespace {
  let namespace: NetworkNamespace | undefined;
  before(async () => {
    namespace = await createNetworkNamespace();
  });
  after(async () => {
    await namespace?.destroy();
  });
  return () => {
    if (!namespace) throw new Error("no network namespace: useNetworkNamespace creates it in a before hook");
    return namespace;
  };
}
