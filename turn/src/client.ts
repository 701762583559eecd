import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect as connectTcp, isIP, isIPv6, type Socket as TcpSocket } from "node:net";
import { connect as connectTls, TLSSocket, type ConnectionOptions } from "node:tls";
import {
  channelNumber,
  decodeMessage,
  decodeXorAddress,
  encodeMessage,
  errorCode,
  findAttribute,
  hasValidFingerprint,
  hasValidIntegrity,
  longTermKey,
  newTransactionId,
  requestedAddressFamily,
  requestedTransportUdp,
  StunAttribute,
  StunClass,
  StunMethod,
  textAttribute,
  uint32Attribute,
  xorAddressAttribute,
  type Attribute,
  type StunMessage,
  type TransportAddress,
} from "./stun";

/** Where a TURN server listens: `udp`, `tcp` or `tls` (TURN over TLS, the `turns:` scheme). */
export interface TurnServerAddress {
  transport: "udp" | "tcp" | "tls";
  host: string;
  port: number;
  /** TLS only: extra options such as `ca` for a self-signed test certificate or `servername`. */
  tls?: ConnectionOptions;
}

/** The long-term credential a TURN REST API username/credential pair is used as (RFC 5389 §10.2). */
export interface TurnCredential {
  username: string;
  credential: string;
}

/** A STUN/TURN error response, with its code (e.g. 401, 403, 437, 441, 486). */
export class TurnErrorResponse extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly reason: string,
  ) {
    super(`${method} was answered ${code} ${reason}`.trim());
  }
}

/** The outcome of a successful Allocate. */
export interface Allocation {
  relayed: TransportAddress;
  mapped?: TransportAddress;
  lifetimeSeconds: number;
  /** The server's SOFTWARE attribute, if it announces one. */
  software?: string;
  /** Round trip of the authenticated Allocate transaction, in milliseconds. */
  rttMs: number;
}

const methodNames = new Map<number, string>(Object.entries(StunMethod).map(([name, value]) => [value, name]));

// RFC 5389 §7.2.1: initial RTO 500 ms, doubled on each retransmission over UDP.
const INITIAL_RTO_MS = 500;

interface Transport {
  send(bytes: Buffer): void;
  /** TLS only: when the server's certificate stops being valid (unix milliseconds). */
  readonly certificateNotAfterMs?: number;
  /** UDP is unreliable: requests are retransmitted; TCP and TLS deliver or fail. */
  readonly reliable: boolean;
  close(): void;
}

/**
 * A minimal TURN client (RFC 5766 with RFC 6156 address families) for probing a server and
 * for tests: Allocate with the long-term credential mechanism, CreatePermission, ChannelBind
 * and Refresh. The probe never sends application data toward a peer; tests relay data
 * between two allocations of their own with Send and Data indications.
 */
export class TurnClient {
  private realm?: string;
  private nonce?: string;
  private key?: Buffer;
  private readonly pending = new Map<string, { resolve: (message: { message: StunMessage; raw: Buffer }) => void; reject: (error: Error) => void }>();
  private failure?: Error;
  private readonly dataListeners = new Set<(data: Buffer, from: TransportAddress) => void>();

  private constructor(
    private readonly transport: Transport,
    private readonly credential: TurnCredential,
    private readonly timeoutMs: number,
  ) {}

  /** Opens a connection (TCP/TLS) or socket (UDP) to the server. */
  static async connect(server: TurnServerAddress, credential: TurnCredential, timeoutMs = 5_000): Promise<TurnClient> {
    // The socket exists before the client does; anything it reports before then is dropped.
    const owner: { client?: TurnClient } = {};
    const deliver = (raw: Buffer): void => owner.client?.receive(raw);
    const fail = (error: Error): void => owner.client?.fail(error);
    const transport =
      server.transport === "udp" ? await openUdp(server, deliver, fail) : await openStream(server, deliver, fail, timeoutMs);
    owner.client = new TurnClient(transport, credential, timeoutMs);
    return owner.client;
  }

  /** Allocates a relayed address; `family` asks for an IPv4 or IPv6 relay (RFC 6156). */
  async allocate(family?: 4 | 6): Promise<Allocation> {
    const attributes = [requestedTransportUdp(), ...(family ? [requestedAddressFamily(family)] : [])];
    const { message, rttMs } = await this.authenticated(StunMethod.Allocate, attributes);
    const relayed = findAttribute(message, StunAttribute.XorRelayedAddress);
    if (!relayed) throw new Error("the Allocate success response carries no XOR-RELAYED-ADDRESS");
    const mapped = findAttribute(message, StunAttribute.XorMappedAddress);
    const lifetime = findAttribute(message, StunAttribute.Lifetime);
    const software = findAttribute(message, StunAttribute.Software);
    return {
      relayed: decodeXorAddress(relayed, message.transactionId),
      ...(mapped ? { mapped: decodeXorAddress(mapped, message.transactionId) } : {}),
      lifetimeSeconds: lifetime?.readUInt32BE(0) ?? 0,
      ...(software ? { software: software.toString("utf8") } : {}),
      rttMs,
    };
  }

  /** Asks for a permission toward `peer` (port is irrelevant to permissions; 0 is sent). */
  async createPermission(peer: string): Promise<void> {
    await this.authenticated(StunMethod.CreatePermission, (id) => [xorAddressAttribute(StunAttribute.XorPeerAddress, peer, 0, id)]);
  }

  /** Binds `channel` (0x4000–0x7FFE) to `peer`:`port`. */
  async channelBind(peer: string, port: number, channel: number): Promise<void> {
    await this.authenticated(StunMethod.ChannelBind, (id) => [
      channelNumber(channel),
      xorAddressAttribute(StunAttribute.XorPeerAddress, peer, port, id),
    ]);
  }

  /** Sends `data` through the relay to `peer`:`port` in a Send indication (RFC 5766 §10); needs a permission. */
  sendIndication(peer: string, port: number, data: Buffer): void {
    const transactionId = newTransactionId();
    const attributes = [xorAddressAttribute(StunAttribute.XorPeerAddress, peer, port, transactionId), { type: StunAttribute.Data, value: data }];
    this.transport.send(encodeMessage({ method: StunMethod.Send, cls: StunClass.Indication, transactionId, attributes }, { fingerprint: true }));
  }

  /** Calls `listener` with what a peer sent to the relayed address (Data indications). */
  onData(listener: (data: Buffer, from: TransportAddress) => void): void {
    this.dataListeners.add(listener);
  }

  /** Deletes the allocation (Refresh with LIFETIME 0), so a probe does not hold quota. */
  async release(): Promise<void> {
    await this.authenticated(StunMethod.Refresh, [uint32Attribute(StunAttribute.Lifetime, 0)]);
  }

  /**
   * TLS only: when the certificate the server presented stops being valid (unix milliseconds),
   * so a probe can warn before it expires; `undefined` over UDP/TCP.
   */
  get certificateNotAfterMs(): number | undefined {
    return this.transport.certificateNotAfterMs;
  }

  /** Closes the socket or connection. */
  close(): void {
    this.fail(new Error("the TURN client was closed"));
    this.transport.close();
  }

  /**
   * Sends a request with the long-term credential. The first request learns REALM and NONCE
   * from the server's 401; a 438 (stale nonce) is retried once with the new nonce.
   */
  private async authenticated(
    method: number,
    attributes: Attribute[] | ((transactionId: Buffer) => Attribute[]),
  ): Promise<{ message: StunMessage; rttMs: number }> {
    const build = typeof attributes === "function" ? attributes : () => attributes;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const transactionId = newTransactionId();
      const started = performance.now();
      const { message, raw } = await this.transaction({ method, cls: StunClass.Request, transactionId, attributes: [...build(transactionId), ...this.authAttributes()] });
      const rttMs = performance.now() - started;
      if (message.cls === StunClass.Success) {
        if (this.key && !hasValidIntegrity(raw, this.key)) {
          throw new Error(`the ${methodNames.get(method)} response failed its MESSAGE-INTEGRITY check`);
        }
        return { message, rttMs };
      }
      const error = errorCode(message) ?? { code: 0, reason: "(no ERROR-CODE)" };
      const realm = findAttribute(message, StunAttribute.Realm)?.toString("utf8");
      const nonce = findAttribute(message, StunAttribute.Nonce)?.toString("utf8");
      const challenge = (error.code === 401 && !this.key) || error.code === 438;
      if (challenge && realm !== undefined && nonce !== undefined) {
        this.realm = realm;
        this.nonce = nonce;
        this.key = longTermKey(this.credential.username, realm, this.credential.credential);
        continue;
      }
      throw new TurnErrorResponse(methodNames.get(method) ?? `method 0x${method.toString(16)}`, error.code, error.reason);
    }
    throw new Error(`the server kept challenging the ${methodNames.get(method)} request`);
  }

  private authAttributes(): Attribute[] {
    if (!this.key || this.realm === undefined || this.nonce === undefined) return [];
    return [
      textAttribute(StunAttribute.Username, this.credential.username),
      textAttribute(StunAttribute.Realm, this.realm),
      textAttribute(StunAttribute.Nonce, this.nonce),
    ];
  }

  private transaction(message: StunMessage): Promise<{ message: StunMessage; raw: Buffer }> {
    if (this.failure) return Promise.reject(this.failure);
    const bytes = encodeMessage(message, { ...(this.key && this.realm !== undefined ? { integrityKey: this.key } : {}), fingerprint: true });
    const id = message.transactionId.toString("hex");
    return new Promise((resolve, reject) => {
      let rto = INITIAL_RTO_MS;
      let retransmit: NodeJS.Timeout | undefined;
      const schedule = (): void => {
        if (this.transport.reliable) return;
        retransmit = setTimeout(() => {
          this.transport.send(bytes);
          rto *= 2;
          schedule();
        }, rto);
      };
      const deadline = setTimeout(() => {
        settle();
        reject(new Error(`no answer to ${methodNames.get(message.method)} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const settle = (): void => {
        clearTimeout(deadline);
        clearTimeout(retransmit);
        this.pending.delete(id);
      };
      this.pending.set(id, {
        resolve: (answer) => {
          settle();
          resolve(answer);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      this.transport.send(bytes);
      schedule();
    });
  }

  private receive(raw: Buffer): void {
    let message: StunMessage;
    try {
      message = decodeMessage(raw);
    } catch {
      return; // Not STUN (e.g. ChannelData): nothing this client waits for.
    }
    // RFC 5389 §7.3: a message whose FINGERPRINT does not match is not STUN; drop it.
    if (findAttribute(message, StunAttribute.Fingerprint) && !hasValidFingerprint(raw)) return;
    if (message.method === StunMethod.Data && message.cls === StunClass.Indication) {
      const data = findAttribute(message, StunAttribute.Data);
      const peer = findAttribute(message, StunAttribute.XorPeerAddress);
      if (data && peer) this.dataListeners.forEach((listener) => listener(data, decodeXorAddress(peer, message.transactionId)));
      return;
    }
    this.pending.get(message.transactionId.toString("hex"))?.resolve({ message, raw });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of [...this.pending.values()]) waiter.reject(error);
  }
}

async function openUdp(server: TurnServerAddress, deliver: (raw: Buffer) => void, fail: (error: Error) => void): Promise<Transport> {
  const socket: UdpSocket = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
  socket.on("message", deliver);
  socket.on("error", fail);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(server.port, server.host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return {
    reliable: false,
    send: (bytes) => socket.send(bytes),
    close: () => socket.close(),
  };
}

async function openStream(
  server: TurnServerAddress,
  deliver: (raw: Buffer) => void,
  fail: (error: Error) => void,
  timeoutMs: number,
): Promise<Transport> {
  const socket: TcpSocket =
    server.transport === "tls"
      ? // SNI carries names only, never IP literals (RFC 6066 §3).
        connectTls({ host: server.host, port: server.port, ...(isIP(server.host) === 0 ? { servername: server.host } : {}), ...server.tls })
      : connectTcp({ host: server.host, port: server.port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(new Error(`no ${server.transport.toUpperCase()} connection within ${timeoutMs} ms`)), timeoutMs);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once(server.transport === "tls" ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.on("error", fail);
  socket.on("close", () => fail(new Error(`the server closed the ${server.transport.toUpperCase()} connection`)));
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const length = frameLength(buffered);
      if (length === undefined || buffered.length < length) break;
      deliver(buffered.subarray(0, length));
      buffered = buffered.subarray(length);
    }
  });
  const notAfter = socket instanceof TLSSocket ? Date.parse(socket.getPeerCertificate().valid_to) : Number.NaN;
  return {
    reliable: true,
    ...(Number.isFinite(notAfter) ? { certificateNotAfterMs: notAfter } : {}),
    send: (bytes) => socket.write(bytes),
    close: () => socket.destroy(),
  };
}

/**
 * Length of the next frame on a stream: STUN messages carry their length in the header;
 * ChannelData (first bits 01) is padded to 4 bytes over TCP (RFC 5766 §11.5).
 */
export function frameLength(buffered: Buffer): number | undefined {
  if (buffered.length < 4) return undefined;
  const length = buffered.readUInt16BE(2);
  if ((buffered[0] & 0xc0) === 0x40) return 4 + length + ((4 - (length % 4)) % 4);
  return 20 + length;
}
