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
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket("udp4");
      socket.once("error", () => resolve(false));
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    });
    if (port > 0 && udpFree) return port;
  }
  throw new Error("no free loopback port found after 20 attempts");
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
