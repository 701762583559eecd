/**
 * A loopback TCP proxy in front of the Firestore emulator that loses acknowledgements for real:
 * the write reaches the emulator, its answer never reaches the client, and the connection
 * drops, as when a phone loses its network between sending a write and hearing back.
 *
 * Usage: start one proxy per client whose acknowledgements a test loses (while armed, it holds
 * back every connection it carries, so a shared one would also silence the other party):
 *   const proxy = await startFaultProxy(stack.ports.firestore);
 *   const caller = await signIn({ auth: stack.ports.auth, firestore: proxy.port }); // connectFirestoreEmulator(db, "127.0.0.1", proxy.port)
 *   const { write } = await proxy.loseAcknowledgement(
 *     () => updateDoc(ref, connectivityFields("caller", serverTimestamp())),
 *     async () => (await admin.db.doc(path).get()).get("connectivity") != null,
 *   );
 *   await write;      // settles with what the emulator answered to the SDK's resend
 *   await proxy.stop(); // in `after`/`afterEach`
 * `loseAcknowledgement` arms the proxy, starts the write without awaiting it, polls `landed`
 * (read the document with the admin SDK, or the emulator's REST API with `Bearer owner`) until
 * the emulator holds the write, then cuts every connection, both sides, dropping what was held
 * back. The Firebase JS SDK (grpc-js, plaintext HTTP/2) sees its streams fail with UNAVAILABLE,
 * reconnects through the proxy at once, and sends every write not yet acknowledged again, a
 * batch whole (tens of milliseconds on loopback). Its reconnect backoff starts at zero after a
 * stream that got an answer; cutting a resend again before any answer costs 1 s ±50%, then
 * 1.5 times more per cut (firebase/firestore's ExponentialBackoff). Any write on the
 * write stream works (set, update, delete, a batch), even a client's first, or one that
 * attaches a listener before it writes: the proxy holds back from the moment the write goes
 * out. Not a transaction: its commit is a call of its own, which the proxy does not recognise.
 * `connections` and `cuts` count what happened, for assertions and figures.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { once } from "node:events";

/** How often `loseAcknowledgement` asks whether the write has landed. */
const LANDED_POLL_MS = 10;
/** How long `loseAcknowledgement` waits for the write to land before it gives up. */
const LANDED_TIMEOUT_MS = 10_000;
/** An HTTP/2 frame header: 24-bit length, type, flags, 31-bit stream id (RFC 9113 §4.1). */
const FRAME_HEADER_BYTES = 9;
/** The HTTP/2 DATA frame type, which carries gRPC messages. */
const DATA_FRAME = 0x0;
/** The DATA frame flag saying its payload starts with a pad-length byte. */
const PADDED_FLAG = 0x8;
/** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", which a client sends before its first frame (RFC 9113 §3.4). */
const CLIENT_PREFACE_BYTES = 24;
/** A gRPC message's prefix: a compressed flag and a 4-byte length. */
const GRPC_PREFIX_BYTES = 5;
/**
 * The first byte of a Firestore WriteRequest that carries writes: field 3 (`writes`), length
 * delimited. The SDK sends `{ streamToken, writes }`, which protobuf encodes in field order,
 * so `writes` comes first; a stream handshake, a Listen request, a Commit all begin with field
 * 1 (`database`) instead.
 */
const WRITES_FIELD_TAG = (3 << 3) | 2;
/** Enough of a DATA payload to read that tag: pad length, gRPC prefix, tag. */
const DATA_HEAD_BYTES = 1 + GRPC_PREFIX_BYTES + 1;

/** Whether the head of a client's DATA frame starts a WriteRequest that carries writes. */
function startsWrites(flags: number, head: Buffer): boolean {
  const tagAt = (flags & PADDED_FLAG ? 1 : 0) + GRPC_PREFIX_BYTES;
  return head.length > tagAt && head[tagAt] === WRITES_FIELD_TAG;
}

/**
 * Follows the frames a client sends on an HTTP/2 connection, across TCP chunks, and hands the
 * first bytes of each DATA frame to `onData` (the rest of every payload is skipped, never kept).
 */
class ClientFrames {
  private skip = CLIENT_PREFACE_BYTES;
  private header = Buffer.alloc(0);
  private head: { flags: number; bytes: Buffer; want: number } | undefined;

  constructor(private readonly onData: (flags: number, head: Buffer) => void) {}

  read(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.head) {
        const part = chunk.subarray(offset, offset + this.head.want - this.head.bytes.length);
        this.head.bytes = Buffer.concat([this.head.bytes, part]);
        offset += part.length;
        this.skip -= part.length;
        if (this.head.bytes.length < this.head.want) return;
        this.onData(this.head.flags, this.head.bytes);
        this.head = undefined;
      } else if (this.skip > 0) {
        const skipped = Math.min(this.skip, chunk.length - offset);
        this.skip -= skipped;
        offset += skipped;
      } else {
        const part = chunk.subarray(offset, offset + FRAME_HEADER_BYTES - this.header.length);
        this.header = Buffer.concat([this.header, part]);
        offset += part.length;
        if (this.header.length < FRAME_HEADER_BYTES) return;
        this.skip = this.header.readUIntBE(0, 3);
        if (this.header[3] === DATA_FRAME && this.skip > 0) {
          this.head = { flags: this.header[4], bytes: Buffer.alloc(0), want: Math.min(this.skip, DATA_HEAD_BYTES) };
        }
        this.header = Buffer.alloc(0);
      }
    }
  }
}

/** One client connection through the proxy and its connection to the emulator. */
interface Relay {
  client: Socket;
  upstream: Socket;
}

/** A running fault proxy (see the module comment for how a test uses it). */
export interface FaultProxy {
  /** The loopback port clients connect to instead of the emulator's. */
  readonly port: number;
  /** Client connections accepted so far. */
  readonly connections: number;
  /** Connections open now. */
  readonly open: number;
  /** How many times `cut` dropped the connections. */
  readonly cuts: number;
  /** Whether bytes from the emulator are being held back (from the next write after `arm` until `cut`). */
  readonly holding: boolean;
  /**
   * Arms the proxy: once a client sends writes (a WriteRequest on the write stream), it delivers
   * nothing more the emulator sends, on any connection, until `cut`. What clients send still
   * goes through.
   */
  arm(): void;
  /** Destroys every open connection on both sides, dropping what was held back, and disarms: clients reconnect normally. */
  cut(): void;
  /**
   * Loses the acknowledgement of the write `start` begins: arms, starts it (not awaited), waits
   * until `landed` says the emulator holds it, cuts, and resolves with the write's own promise
   * (its settlement is the answer to the SDK's resend). Rejects, cut, if the write settles or
   * `landed` stays false for `timeoutMs` first.
   */
  loseAcknowledgement<T>(start: () => Promise<T>, landed: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<{ write: Promise<T> }>;
  /** Cuts every connection and closes the listening socket. */
  stop(): Promise<void>;
}

/** Starts a fault proxy on a free loopback port in front of `targetPort` (e.g. the Firestore emulator's). */
export async function startFaultProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> {
  const relays = new Set<Relay>();
  let armed = false;
  let holding = false;
  let connections = 0;
  let cuts = 0;

  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(targetPort, targetHost);
    const relay = { client, upstream };
    relays.add(relay);
    // Holding from arm() on would also hold what the SDK waits for before it sends the write
    // (a new write stream's handshake answer, a listener's first snapshot), so the proxy holds
    // from the moment the write itself goes out: its acknowledgement is the next thing due.
    const fromClient = new ClientFrames((flags, head) => {
      if (armed && startsWrites(flags, head)) holding = true;
    });
    client.on("data", (chunk: Buffer) => {
      fromClient.read(chunk);
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once("drain", () => client.resume());
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      // Held bytes are simply not delivered: `cut` ends the connection they belong to.
      if (holding) return;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once("drain", () => upstream.resume());
      }
    });
    const drop = (): void => {
      relays.delete(relay);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  // A proxy left running must not keep the test process alive; the clients hold their own handles.
  server.unref();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the fault proxy has no TCP address");

  function dropAll(): void {
    armed = false;
    holding = false;
    for (const relay of [...relays]) {
      relays.delete(relay);
      // A reset, not an orderly close: the connection is lost, and grpc-js reports UNAVAILABLE at once.
      relay.client.resetAndDestroy();
      relay.upstream.resetAndDestroy();
    }
  }

  function cut(): void {
    cuts += 1;
    dropAll();
  }

  async function loseAcknowledgement<T>(start: () => Promise<T>, landed: () => boolean | Promise<boolean>, timeoutMs = LANDED_TIMEOUT_MS): Promise<{ write: Promise<T> }> {
    armed = true;
    const write = start();
    let settled = false;
    // Marks the promise handled: the caller awaits `write` itself once the cut is done.
    write.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = Date.now() + timeoutMs;
    try {
      while (!(await landed())) {
        if (settled) throw new Error("the write settled before it reached the emulator: the proxy held back nothing (a transaction, or no write at all?)");
        if (Date.now() > deadline) throw new Error(`the write did not reach the emulator within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, LANDED_POLL_MS));
      }
      if (settled) throw new Error("the write's acknowledgement reached the client: the proxy did not hold it back (a transaction?)");
    } finally {
      cut();
    }
    return { write };
  }

  return {
    port: address.port,
    get connections() {
      return connections;
    },
    get open() {
      return relays.size;
    },
    get cuts() {
      return cuts;
    },
    get holding() {
      return holding;
    },
    arm: () => {
      armed = true;
    },
    cut,
    loseAcknowledgement,
    async stop() {
      dropAll();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
