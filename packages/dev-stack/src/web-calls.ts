// Calls through the web client (@webrtc-lite/client) in Node, on Google's libwebrtc from npm
// (@roamhq/wrtc), relay only through a test coturn, with a data channel that carries a tick
// every few milliseconds each way: what the call-continuity tests and the recovery benchmark
// break (coturn restarted, an address changed, acknowledgements lost) and watch come back.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { RTCPeerConnection } from "@roamhq/wrtc";
import { deleteApp, initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore, terminate, type Firestore } from "firebase/firestore";
import { listenForCalls, startCall, type Call, type CallOptions, type IncomingCall, type PeerConnection } from "@webrtc-lite/client/call/call";
import { firestoreSignaling, type SignalingWrite } from "@webrtc-lite/client/call/firestore";
import type { CallError, CallPhase } from "@webrtc-lite/client/call/state";
import type { SignalingStore } from "@webrtc-lite/client/call/store";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { useCoturn, type CoturnOptions, type TestCoturn } from "./coturn";
import { PROJECT_ID } from "./emulators";
import { recoveringWatch } from "./listen-stream";
import { newSecret } from "./turn-config";
import { waitFor } from "./wait";

/**
 * The ticks' channel: unordered, never retransmitted, as audio and video are. On a reliable
 * channel a tick sent after the path came back waits behind those lost in the outage until SCTP's
 * retransmission timer (backed off to seconds) fires, which would measure SCTP, not the path.
 */
export const MEDIA_LIKE_CHANNEL: RTCDataChannelInit = { ordered: false, maxRetransmits: 0 };

/** Milliseconds on the monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

/** Where users sign in and which TURN server (and its shared secret) their calls relay through. */
export interface CallNetwork {
  ports: { auth: number; firestore: number };
  /** Host and port of the Firestore emulator as clients reach it (a fault proxy in front of it, say); the emulator's own by default. */
  firestoreHost?: { host: string; port: number };
  turn: { secret: string; uris: () => string[] };
}

/** A signed-in user with its own Firebase app (its own Listen and Write streams) and signaling store. */
export interface CallUser {
  readonly uid: string;
  readonly db: Firestore;
  readonly store: SignalingStore;
  /** Each write the client recognised as its own earlier one, resent by the SDK after a lost acknowledgement. */
  readonly repeats: SignalingWrite[];
  /** Relay-only `RTCConfiguration` with TURN credentials minted now for this user. */
  peerConfig(): RTCConfiguration;
  /** Terminates its Firestore client and deletes its app (once; later calls wait for the first). */
  close(): Promise<void>;
}

function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** Signs a new anonymous user in on the Auth emulator, with Firestore on its emulator (or `network.firestoreHost`). */
export async function signInCallUser(network: CallNetwork): Promise<CallUser> {
  const app = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key" }, `web-call-${randomUUID()}`);
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://127.0.0.1:${network.ports.auth}`, { disableWarnings: true });
  const db = getFirestore(app);
  const firestore = network.firestoreHost ?? { host: "127.0.0.1", port: network.ports.firestore };
  connectFirestoreEmulator(db, firestore.host, firestore.port);
  const { user } = await signInAnonymously(auth);
  // The emulator's Listen stream flake (listen-stream.ts) would silence this user's listeners for 60 s.
  const streams = recoveringWatch(db);
  const repeats: SignalingWrite[] = [];
  return {
    uid: user.uid,
    db,
    repeats,
    store: firestoreSignaling(db, { onRepeat: (write) => repeats.push(write) }),
    peerConfig() {
      const { username, credential } = mintTurnCredential(network.turn.secret, user.uid, 3_600, Date.now());
      return { iceServers: [{ urls: network.turn.uris(), username, credential }], iceTransportPolicy: "relay" };
    },
    close: once(async () => {
      streams.stop();
      await terminate(db);
      await deleteApp(app);
    }),
  };
}

/** One side of a call with its data channel: the phases it went through and the ticks it received. */
export class DataCall {
  /** Every phase with the time it was reached. */
  readonly phases: Array<{ phase: CallPhase; at: number }> = [];
  /** Arrival times of the other side's ticks. */
  readonly arrivals: number[] = [];
  /** Warnings the client reported. */
  readonly warnings: string[] = [];
  private channel: RTCDataChannel | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  call!: Call;

  /** Every `iceConnectionState` with the time it was reported. */
  readonly iceStates: Array<{ state: string; at: number }> = [];

  /** Whether the peer connection was closed (by the call when it ended, or by `close`). */
  private closed = false;
  /** The other side of the call, when it runs in this process too (see `pair`). */
  private partner: DataCall | undefined;

  constructor(readonly pc: RTCPeerConnection & PeerConnection) {
    pc.addEventListener("iceconnectionstatechange", () => this.iceStates.push({ state: pc.iceConnectionState, at: nowMs() }));
    // libwebrtc's Node binding frees a data channel's native side when the channel closes (its
    // peer connection's close, or the other side's), and the channel's readyState may still say
    // "open" for a turn of the event loop: a tick sent then crashes the process (SIGSEGV, a null
    // channel in RTCDataChannel::Send). So ticking stops at the close itself, on both sides of a
    // pair, and the native close runs once (the call closes it when it ends, the test after).
    const closePeer = pc.close.bind(pc);
    pc.close = () => {
      this.stopTicking();
      this.partner?.stopTicking();
      if (this.closed) return;
      this.closed = true;
      closePeer();
    };
  }

  /** Links the two sides of one call run in this process: when either closes, neither ticks on (the other's channel closes with it). */
  static pair(outgoing: DataCall, incoming: DataCall): void {
    outgoing.partner = incoming;
    incoming.partner = outgoing;
  }

  /** CallOptions that record warnings here, on top of `options`. */
  options(options: CallOptions): CallOptions {
    return { ...options, onWarning: (warning: CallError) => this.warnings.push(`${warning.code}: ${warning.message}`) };
  }

  /** Follows `call` (from now on) and `channel` (once open). */
  attach(call: Call, channel: Promise<RTCDataChannel>): void {
    this.call = call;
    this.phases.push({ phase: call.state.phase, at: nowMs() });
    call.onStateChange((state) => this.phases.push({ phase: state.phase, at: nowMs() }));
    void channel.then((open) => {
      this.channel = open;
      open.onmessage = () => this.arrivals.push(nowMs());
    });
  }

  /** Sends a tick every `everyMs` while the channel is open (SCTP queues them through an outage). */
  startTicking(everyMs = 50): void {
    this.ticker = setInterval(() => {
      try {
        if (this.channel?.readyState === "open") this.channel.send("tick");
      } catch {
        // The channel closed between the check and the send (the call is ending): no tick.
      }
    }, everyMs);
  }

  /** Stops sending ticks (idempotent). */
  stopTicking(): void {
    clearInterval(this.ticker);
  }

  /** Resolves with the arrival time of the first tick after `since`; rejects after `timeoutMs`. */
  tickAfter(since: number, timeoutMs: number): Promise<number> {
    return waitFor(`a tick on the ${this.call.role}'s side`, () => this.arrivals.find((at) => at > since), timeoutMs, 10);
  }

  /** Resolves with the time the call reached `phase` after `since`; rejects if it ends first (unless `phase` is ended) or after `timeoutMs`. */
  phaseAfter(phase: CallPhase, since: number, timeoutMs: number): Promise<number> {
    return waitFor(
      `the ${this.call.role}'s call to be ${phase}`,
      () => {
        const reached = this.phases.find((entry) => entry.phase === phase && entry.at >= since);
        if (reached) return reached.at;
        const state = this.call.state;
        if (state.phase === "ended" && phase !== "ended") throw new Error(`the ${this.call.role}'s call ended (${state.reason}) before it was ${phase}${state.error ? `: ${state.error.message}` : ""}`);
        return undefined;
      },
      timeoutMs,
      10,
    );
  }

  /** Stops ticking and closes the peer connection (idempotent). */
  close(): void {
    this.pc.close();
  }
}

function newPeer(user: CallUser): RTCPeerConnection & PeerConnection {
  return new RTCPeerConnection(user.peerConfig());
}

/** The moments of one call's setup, on the monotonic clock. */
export interface SetupTimes {
  dialStart: number;
  ringing: number;
  answerStart: number;
  connected: number;
}

/** Both sides of one connected call. */
export interface CallPair {
  outgoing: DataCall;
  incoming: DataCall;
  times: SetupTimes;
  sessionId: string;
}

/**
 * `caller` calls `callee` through the web client, the callee answers as soon as it rings, and
 * both wait until connected with their data channel open. `options` go to both sides; each
 * side's `iceServers` (for restarts) mints fresh credentials for its user. `preparePeer` may
 * change each peer connection before the call uses it; `stores` replace a side's signaling
 * store (a test wraps it to break its writes).
 */
export async function connectCall(
  caller: CallUser,
  callee: CallUser,
  options: CallOptions = {},
  timeoutMs = 30_000,
  preparePeer: (pc: PeerConnection) => void = () => undefined,
  stores: { caller?: SignalingStore; callee?: SignalingStore } = {},
): Promise<CallPair> {
  const outgoing = new DataCall(newPeer(caller));
  const incoming = new DataCall(newPeer(callee));
  DataCall.pair(outgoing, incoming);
  preparePeer(outgoing.pc);
  preparePeer(incoming.pc);
  const withServers = (user: CallUser, side: DataCall): CallOptions =>
    side.options({ iceServers: async () => user.peerConfig().iceServers ?? [], ...options });
  let rang: { call: IncomingCall; at: number } | undefined;
  let listenError: CallError | undefined;
  const stopListening = listenForCalls(
    stores.callee ?? callee.store,
    callee.uid,
    (calls) => {
      rang ??= calls.length > 0 ? { call: calls[0], at: nowMs() } : undefined;
    },
    (error) => (listenError = error),
    withServers(callee, incoming),
  );
  try {
    const callerChannel = outgoing.pc.createDataChannel("ticks", MEDIA_LIKE_CHANNEL);
    const callerOpen = new Promise<RTCDataChannel>((resolve) => (callerChannel.onopen = () => resolve(callerChannel)));
    const calleeOpen = new Promise<RTCDataChannel>((resolve) => {
      incoming.pc.ondatachannel = (event) => (event.channel.onopen = () => resolve(event.channel));
    });
    const dialStart = nowMs();
    const call = await startCall(stores.caller ?? caller.store, outgoing.pc, { callerId: caller.uid, calleeId: callee.uid }, withServers(caller, outgoing));
    outgoing.attach(call, callerOpen);
    const ringing = await waitFor(
      `session ${call.sessionId} to ring`,
      () => {
        if (listenError) throw listenError;
        return rang?.call.sessionId === call.sessionId ? rang : undefined;
      },
      timeoutMs,
      5,
    );
    const answerStart = nowMs();
    incoming.attach(await ringing.call.answer(incoming.pc), calleeOpen);
    const [callerConnected, calleeConnected] = await Promise.all([outgoing.phaseAfter("connected", 0, timeoutMs), incoming.phaseAfter("connected", 0, timeoutMs)]);
    let open = false;
    void Promise.all([callerOpen, calleeOpen]).then(() => (open = true));
    await waitFor("both data channels to open", () => (open ? true : undefined), timeoutMs, 10);
    return { outgoing, incoming, sessionId: call.sessionId, times: { dialStart, ringing: ringing.at, answerStart, connected: Math.max(callerConnected, calleeConnected) } };
  } catch (error) {
    outgoing.close();
    incoming.close();
    // What each side went through, so that a call that failed under load can be explained from the log alone.
    const since = outgoing.phases[0]?.at ?? nowMs();
    const trace = (role: string, side: DataCall) =>
      `${role}: phases ${side.phases.map((entry) => `${entry.phase}@${Math.round(entry.at - since)}`).join(">") || "none"}, ` +
      `ICE ${side.iceStates.map((entry) => `${entry.state}@${Math.round(entry.at - since)}`).join(">") || "none"}` +
      (side.warnings.length > 0 ? `, warnings ${side.warnings.join(" | ")}` : "");
    throw new Error(`${(error as Error).message} [ms from the dial: ${trace("caller", outgoing)}; ${trace("callee", incoming)}]`, { cause: error });
  } finally {
    stopListening();
  }
}

/** Users and calls of a suite whose web-client calls relay through a coturn of its own (see `useRelayedCalls`). */
export interface RelayedCalls {
  /** The suite's coturn (started before its first test). */
  coturn(): TestCoturn;
  /** Signs a new user in; closed after the test. */
  signIn(): Promise<CallUser>;
  /** Keeps `pair` to close after the test, and returns it. */
  keep(pair: CallPair): CallPair;
}

/**
 * Mocha hooks for a suite of web-client calls: a coturn for the suite (`coturnOptions`, its own
 * secret), and after each test its calls' peer connections and its users closed. `ports` are the
 * emulators' (read when a user signs in).
 */
export function useRelayedCalls(ports: () => CallNetwork["ports"], coturnOptions: CoturnOptions): RelayedCalls {
  const secret = newSecret();
  const coturn = useCoturn([secret], coturnOptions);
  const users: CallUser[] = [];
  const pairs: CallPair[] = [];
  afterEach(async () => {
    for (const pair of pairs.splice(0)) {
      pair.outgoing.close();
      pair.incoming.close();
    }
    await Promise.all(users.splice(0).map((user) => user.close()));
  });
  return {
    coturn,
    async signIn() {
      const user = await signInCallUser({ ports: ports(), turn: { secret, uris: () => coturn().uris() } });
      users.push(user);
      return user;
    },
    keep(pair) {
      pairs.push(pair);
      return pair;
    },
  };
}
