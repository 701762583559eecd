// Sends TLS connections for named hosts (fcm.googleapis.com, api.push.apple.com…) to loopback
// fakes instead, underneath whatever client makes them: https.request, fetch (undici) and
// http2.connect all open their sockets through tls.connect. The host name stays the TLS server
// name, and the certificate is checked against it as usual, with the test CA as the only
// trusted root for those connections. Code under test is unchanged: it talks to the real hosts.
// Used in-process by the unit tests, and preloaded into the Functions emulator's runtime by
// push-redirect-preload.ts.
// Default imports: the module objects themselves, whose properties Node's own callers read at
// call time (a namespace import would be a copy, and patching it would change nothing).
import net from "node:net";
import tls from "node:tls";

/** Where each redirected host's connections go instead: a loopback port. */
export type Routes = Readonly<Record<string, number>>;

type ConnectArgs = Parameters<typeof tls.connect>;

/** tls.connect's three call shapes ((options), (port, host?, options?), (path, options?)) as one options object. */
function connectOptions(args: unknown[]): { options: tls.ConnectionOptions; callback?: () => void } {
  const rest = [...args];
  const callback = typeof rest.at(-1) === "function" ? (rest.pop() as () => void) : undefined;
  if (typeof rest[0] === "object" && rest[0] !== null) return { options: { ...(rest[0] as tls.ConnectionOptions) }, callback };
  const options: tls.ConnectionOptions = {};
  const first = rest.shift();
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) options.port = Number(first);
  else if (typeof first === "string") options.path = first;
  if (typeof rest[0] === "string") options.host = rest.shift() as string;
  if (typeof rest[0] === "object" && rest[0] !== null) Object.assign(options, rest[0], { port: options.port, host: options.host ?? (rest[0] as tls.ConnectionOptions).host });
  return { options, callback };
}

/** Reroutes tls.connect for the hosts in `routes` to 127.0.0.1, trusting only `ca` for them; returns the undo. */
export function redirectTls(routes: Routes, ca: string): () => void {
  const original = tls.connect;
  const patched = (...args: ConnectArgs): tls.TLSSocket => {
    const { options, callback } = connectOptions(args);
    const host = options.servername ?? options.host;
    const port = host === undefined ? undefined : routes[host];
    if (port === undefined) return original.apply(tls, args);
    return original({ ...options, host: "127.0.0.1", port, servername: host, ca }, callback);
  };
  (tls as { connect: typeof tls.connect }).connect = patched as typeof tls.connect;
  return () => {
    (tls as { connect: typeof tls.connect }).connect = original;
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Makes every TCP connection to a host that is not loopback fail at once: the tests' network
 * rule, enforced inside the process under test (a forgotten route errors instead of leaving
 * the machine).
 */
export function refuseNonLoopback(): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with apply() on the socket below
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net's own callers pass [normalizedArgs]; users pass (options) or (port, host).
    const first: unknown = Array.isArray(args[0]) ? args[0][0] : args[0];
    const host = typeof first === "object" && first !== null ? (first as net.TcpNetConnectOpts).host : typeof args[1] === "string" ? args[1] : undefined;
    const isPath = typeof first === "object" && first !== null && "path" in first && (first as { path?: unknown }).path !== undefined;
    if (!isPath && typeof host === "string" && !LOOPBACK.test(host)) {
      throw new Error(`test network rule: a connection to ${host} was refused (only loopback; add a route for it)`);
    }
    // Passed on exactly as given, whichever of connect()'s shapes the caller used.
    return connect.apply(this, args as [string]);
  };
}
