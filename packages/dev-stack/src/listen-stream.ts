// Detects the Firestore SDK's gRPC stream failing with grpc-js "Received message larger than
// max (N vs 17825792)" (the SDK sets grpc.max_receive_message_length to 17 MiB). The SDK maps
// it to RESOURCE_EXHAUSTED, logs two errors and waits the maximum backoff (60 s) before it
// reopens the stream: a listener on that client then goes silent and a test times out with
// no hint why. This module turns that into one sentence, and can get the stream back at once.
//
// Cause (Debian's emulator JAR 528.0.0): CloudFirestoreV1ListenStream sends on its gRPC
// response observer from two threads with no lock between them: the Listen request's thread
// when a target is added (addTarget sends ADD, the initial documents, CURRENT and the sync
// marker, all outside ListenStreamManager's lock) and a committing write's thread
// (ListenStreamManager.notifyListeners → notify/notifySynced).
// grpc-java's StreamObserver is not thread-safe, so the two messages' bytes can interleave and
// the client reads protobuf or text bytes as a length prefix. It needs a listener attaching on
// a client while a write (anyone's: the trigger's, the other party's) changes a target that the
// same client already listens to. Production Firestore is not this code; browsers reach the
// emulator through its WebChannel adapter instead of gRPC (not examined here).
//
// Fix: the emulator launcher's agent (packages/dev-stack/java/SerializedStreamResponses.java,
// Java 24+) makes that observer send one message at a time; with it the load of
// test/firestore/emulator-listen-streams.test.ts breaks no stream. The watches stay so that a
// break, should one come back (an emulator JAR the agent does not fit, Java below 24), is named
// in one line instead of a test timing out. The SDK writes its error lines only while its log
// level is `error` or lower: a suite that silences it restores it (test/helpers/sdk-log.ts).
//
// Wiring, in a suite whose clients use the Node SDK (test/helpers/signaling-client.ts, the
// bench): one watch per test, made after the clients sign in, stopped in afterEach:
//   strict:    const watch = new StreamFailureWatch();
//              await watch.race(call.waitForAnswer());     // fails at once with the sentence
//              afterEach(() => { watch.stop(); watch.check(); });
//   tolerant:  new StreamFailureWatch({ recover: [caller.db, callee.db],
//                onFailure: (f) => console.warn(`!!! ${describeStreamFailure(f)}`) });
// Tolerant suits the call tests (the stream comes back within one round trip and the call
// goes on, and the line says it happened); keep the cost suite strict, since a resumed Listen
// stream may bill reads again.
import { createRequire } from "node:module";
import { onLog } from "firebase/app";
import { disableNetwork, enableNetwork, type Firestore } from "firebase/firestore";

/** One stream failure the SDK logged. */
export interface StreamFailure {
  /** When it was logged (Date.now()). */
  at: number;
  /** The size grpc-js read from the frame header, in bytes. */
  claimedBytes: number;
  /** The SDK's log line. */
  message: string;
}

const OVERSIZE = /Received message larger than max \((\d+) vs\.? (\d+)\)/;
const watchers = new Set<(failure: StreamFailure) => void>();
let hooked = false;

function hookSdkLog(): void {
  if (hooked) return;
  hooked = true;
  // One user log handler serves every Firebase logger (firebase/app keeps a single one), so it
  // is installed once and fans out to the watches. The SDK still prints its own lines too.
  onLog(
    ({ type, message }) => {
      if (type !== "@firebase/firestore") return;
      const match = OVERSIZE.exec(message);
      if (!match) return;
      const failure = { at: Date.now(), claimedBytes: Number(match[1]), message };
      watchers.forEach((watcher) => watcher(failure));
    },
    { level: "error" },
  );
}

/** The sentence a test or the bench reports for a stream failure. */
export function describeStreamFailure(failure: StreamFailure): string {
  return (
    `the Firestore emulator's gRPC stream broke: grpc-js read a frame header claiming ${failure.claimedBytes} bytes ` +
    "(over the SDK's 17 MiB limit; no document here is near that size, so the frame boundaries were lost), the SDK closed " +
    "the stream as RESOURCE_EXHAUSTED and backs off 60 s: listeners on that client are silent meanwhile (packages/dev-stack/src/listen-stream.ts)"
  );
}

/** What a watch does when a failure is logged. */
export interface StreamWatchOptions {
  /**
   * Clients to get going again at once: `disableNetwork` then `enableNetwork` closes their
   * streams cleanly (which resets the SDK's backoff) and reopens them; listeners resume from
   * their resume tokens. Without it, a failure only rejects `failed`.
   */
  recover?: Firestore[];
  /** Called with each failure (e.g. to print a loud line); default: nothing. */
  onFailure?: (failure: StreamFailure) => void;
}

/**
 * The tolerant watch a test's client keeps while it lives: on a failure it says so in one loud
 * line and gets the client's streams back at once, so the call goes on instead of timing out.
 * The failures stay listed for a suite that must not count across one (the cost suite).
 */
export function recoveringWatch(db: Firestore): StreamFailureWatch {
  return new StreamFailureWatch({
    recover: [db],
    onFailure: (failure) => console.warn(`      !!! ${describeStreamFailure(failure)}; reconnecting the client at once`),
  });
}

/** Watches the Firestore SDK's log for stream failures from now until `stop()`. */
export class StreamFailureWatch {
  /** Every failure seen so far. */
  readonly failures: StreamFailure[] = [];
  /** Rejects with the sentence on the first failure (race it against a wait, or await `check()`). */
  readonly failed: Promise<never>;
  private rejectFailed!: (error: Error) => void;
  private readonly watcher: (failure: StreamFailure) => void;

  constructor(private readonly options: StreamWatchOptions = {}) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    // Nobody may be racing it when the failure comes; check() reports it then.
    this.failed.catch(() => undefined);
    this.watcher = (failure) => {
      this.failures.push(failure);
      this.options.onFailure?.(failure);
      this.rejectFailed(new Error(describeStreamFailure(failure)));
      void this.recover();
    };
    hookSdkLog();
    watchers.add(this.watcher);
  }

  /** Resolves with `work`'s value, or rejects with the stream failure's sentence if one comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.failed]);
  }

  /** Throws the sentence if any failure was seen (e.g. in mocha's afterEach). */
  check(): void {
    const [first] = this.failures;
    if (first) throw new Error(`${describeStreamFailure(first)} (${this.failures.length} failure(s) in all)`);
  }

  /** Stops watching. */
  stop(): void {
    watchers.delete(this.watcher);
  }

  private async recover(): Promise<void> {
    for (const db of this.options.recover ?? []) {
      try {
        await disableNetwork(db);
        await enableNetwork(db);
      } catch {
        // A client terminated meanwhile has nothing to recover.
      }
    }
  }
}

/** The bytes around a frame header that grpc-js refused, for telling a lost frame boundary from a real large message. */
export interface FrameContext {
  claimedBytes: number;
  /** Hex of the last bytes the stream delivered before the refused header (up to 96). */
  before: string;
  /** Hex of the refused 5-byte header and what followed it in the same HTTP/2 DATA frame (up to 96). */
  from: string;
  /** Bytes this stream had decoded before, and the offset of the header in its DATA frame. */
  streamOffset: number;
  chunkOffset: number;
  chunkLength: number;
}

/** Frame contexts captured since `captureFrameContexts()` was called. */
export const frameContexts: FrameContext[] = [];

/**
 * Diagnostics only: wraps grpc-js' StreamDecoder (the copy the Firestore SDK loads) so that a
 * refused frame header is recorded in `frameContexts` with the bytes around it. Costs a copy of
 * each DATA frame's tail; leave it off in tests.
 */
export function captureFrameContexts(): void {
  type Decoder = { write: (this: Decoder, data: Buffer) => Buffer[]; __seen?: number; __tail?: Buffer };
  // The grpc-js that @firebase/firestore resolves, not whichever another package brings.
  const fromFirestore = createRequire(require.resolve("@firebase/firestore"));
  const module = fromFirestore("@grpc/grpc-js/build/src/stream-decoder") as { StreamDecoder: { prototype: Decoder & { __patched?: boolean } } };
  const proto = module.StreamDecoder.prototype;
  if (proto.__patched) return;
  proto.__patched = true;
  const original = proto.write;
  proto.write = function (this: Decoder, data: Buffer): Buffer[] {
    const seen = this.__seen ?? 0;
    const tail = this.__tail ?? Buffer.alloc(0);
    try {
      return original.call(this, data);
    } catch (error) {
      const match = error instanceof Error ? OVERSIZE.exec(error.message) : null;
      if (match) {
        // The header is the 5 bytes that end at the first place where the claimed length reads.
        const claimed = Number(match[1]);
        const whole = Buffer.concat([tail, data]);
        let at = -1;
        for (let i = 0; i + 5 <= whole.length; i += 1) if (whole.readUInt32BE(i + 1) === claimed) at = at < 0 ? i : at;
        const start = Math.max(0, at);
        frameContexts.push({
          claimedBytes: claimed,
          before: whole.subarray(Math.max(0, start - 96), start).toString("hex"),
          from: whole.subarray(start, start + 96).toString("hex"),
          streamOffset: seen,
          chunkOffset: start - tail.length,
          chunkLength: data.length,
        });
      }
      throw error;
    } finally {
      this.__seen = seen + data.length;
      this.__tail = Buffer.concat([tail, data]).subarray(-128);
    }
  };
}
