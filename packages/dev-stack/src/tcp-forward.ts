import { connect, createServer, type Socket } from "node:net";

/** A TCP listener that pipes every connection it accepts to one target. */
export interface TcpForward {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Stops listening and cuts every connection still open. */
  close(): Promise<void>;
}

/** Where a forward listens and where it connects to. */
export interface TcpForwardTarget {
  listen: { host: string; port: number };
  target: { host: string; port: number };
}

/**
 * Listens on `listen` and pipes each accepted connection, both ways, to a fresh connection to
 * `target`: lets a process in a test's network namespace reach a service that listens on the
 * root namespace's loopback only (the emulators).
 */
export function startTcpForward({ listen, target }: TcpForwardTarget): Promise<TcpForward> {
  const open = new Set<Socket>();
  let accepted = 0;
  const server = createServer((inbound) => {
    accepted += 1;
    const outbound = connect(target.port, target.host);
    for (const socket of [inbound, outbound]) {
      open.add(socket);
      socket.once("close", () => open.delete(socket));
    }
    // Either side's error or end ends both: a half-open pair would hang the client.
    inbound.once("error", () => outbound.destroy());
    outbound.once("error", () => inbound.destroy());
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve({
        host: listen.host,
        port: listen.port,
        connections: () => accepted,
        close: () =>
          new Promise<void>((closed) => {
            open.forEach((socket) => socket.destroy());
            server.close(() => closed());
          }),
      });
    });
  });
}
