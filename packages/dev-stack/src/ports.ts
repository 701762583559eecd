import { createServer } from "node:net";
import { createSocket } from "node:dgram";

/** Finds a loopback port that is free for both TCP and UDP right now. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, host, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    if (port > 0 && (await isUdpPortFree(port, host))) return port;
  }
  throw new Error("no free loopback port found after 20 attempts");
}

/**
 * Ports below the kernel's ephemeral range (Linux: 32768–60999) and below the test coturns'
 * relay ranges (20000 and up). A server that binds UDP some time after its port was picked
 * (coturn, on a busy machine) would otherwise race every socket the OS numbers itself — a
 * libwebrtc peer connection's host candidates in a suite running beside it — and lose its UDP
 * listener while its TCP one works.
 */
const STABLE_PORTS = { from: 10_000, to: 20_000 } as const;

/** Finds `count` distinct loopback ports, free for TCP and UDP, outside the ephemeral range. */
export async function freeStablePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const picked = new Set<number>();
  for (let attempt = 0; picked.size < count && attempt < 200; attempt += 1) {
    const port = STABLE_PORTS.from + Math.floor(Math.random() * (STABLE_PORTS.to - STABLE_PORTS.from));
    if (!picked.has(port) && (await isTcpPortFree(port, host)) && (await isUdpPortFree(port, host))) picked.add(port);
  }
  if (picked.size < count) throw new Error(`no ${count} free loopback ports found from ${STABLE_PORTS.from} to ${STABLE_PORTS.to}`);
  return [...picked];
}

function isUdpPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

/** Finds `count` distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  return Object.values(await pickPorts(Array.from({ length: count }, (_, index) => String(index))));
}

/** Picks a free loopback port for each name: the preferred one when it is free, any other otherwise. */
export async function pickPorts<Name extends string>(
  names: readonly Name[],
  preferred: Partial<Record<Name, number>> = {},
): Promise<Record<Name, number>> {
  const taken = new Set<number>();
  const picked = {} as Record<Name, number>;
  for (const name of names) {
    const wanted = preferred[name];
    let port = wanted !== undefined && !taken.has(wanted) && (await isTcpPortFree(wanted)) ? wanted : await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    picked[name] = port;
  }
  return picked;
}

function isTcpPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
