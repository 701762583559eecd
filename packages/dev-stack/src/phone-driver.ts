// One side of a call, driven by commands: the project's web client (startCall, listenForCalls,
// Call.hangUp) on Google's libwebrtc (@roamhq/wrtc) and the Firebase JS SDK, signed in
// anonymously on the emulators. The test hands it everything that varies (where the emulators
// are, the peer connection's configuration with its TURN credentials, CallOptions), so the
// same driver serves a phone in a network namespace and a client in the test's own process.
import { randomUUID } from "node:crypto";
import { networkInterfaces } from "node:os";
import { RTCPeerConnection as WrtcPeerConnection } from "@roamhq/wrtc";
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously } from "firebase/auth";
import { connectFirestoreEmulator, disableNetwork, enableNetwork, getFirestore, terminate, type Firestore } from "firebase/firestore";
import { listenForCalls, startCall, type Call, type CallOptions, type IncomingCall } from "@webrtc-lite/client/call/call";
import { firestoreSignaling } from "@webrtc-lite/client/call/firestore";
import type { CallError, CallState } from "@webrtc-lite/client/call/state";
import type { SignalingStore } from "@webrtc-lite/client/call/store";
import { recoveringWatch, type StreamFailureWatch } from "./listen-stream";
import { MEDIA_LIKE_CHANNEL } from "./web-calls";
import type { PhoneCommand, PhoneEvent, PhoneResults, SelectedPair } from "./phone-protocol";

type Emit = (event: PhoneEvent) => void;

/** How often a phone that follows network changes looks at its addresses (a phone OS reports a change within about this). */
const NETWORK_POLL_MS = 250;

/** This machine's (or namespace's) IPv4 addresses other than loopback, sorted. */
function ipv4Addresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => entry.family === "IPv4" && !entry.internal)
    .map((entry) => entry.address)
    .sort();
}
type Command<T extends PhoneCommand["type"]> = Extract<PhoneCommand, { type: T }>;

interface SignedIn {
  uid: string;
  app: FirebaseApp;
  db: Firestore;
  store: SignalingStore;
  streams: StreamFailureWatch;
  stopNetworkWatch(): void;
}

/** A signed-in user with at most one call at a time. */
export class PhoneDriver {
  private user: SignedIn | undefined;
  private pc: WrtcPeerConnection | undefined;
  private call: Call | undefined;
  private channel: RTCDataChannel | undefined;

  constructor(private readonly emit: Emit) {}

  /** Carries out one command; resolves with its `result` event, a failure's message in it. */
  async result(command: PhoneCommand): Promise<PhoneEvent> {
    try {
      return { type: "result", id: command.id, ok: true, value: await this.handle(command) };
    } catch (error) {
      return { type: "result", id: command.id, ok: false, value: null, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Carries out one command; resolves with its result, rejects with an Error whose message the test sees. */
  private async handle(command: PhoneCommand): Promise<PhoneResults[PhoneCommand["type"]]> {
    switch (command.type) {
      case "sign-in":
        return this.signIn(command);
      case "call":
        return this.dial(command);
      case "answer":
        return this.answer(command);
      case "send":
        return this.send(command.text);
      case "stats":
        return this.selectedPair();
      case "hang-up":
        return this.hangUp();
    }
  }

  private async signIn(command: Command<"sign-in">): Promise<string> {
    if (this.user) throw new Error(`already signed in as ${this.user.uid}`);
    const app = initializeApp({ projectId: command.projectId, apiKey: "fake-api-key" }, `phone-${randomUUID()}`);
    const auth = getAuth(app);
    connectAuthEmulator(auth, `http://${command.auth.host}:${command.auth.port}`, { disableWarnings: true });
    const db = getFirestore(app);
    connectFirestoreEmulator(db, command.firestore.host, command.firestore.port);
    const { user } = await signInAnonymously(auth);
    const stopNetworkWatch = command.restartStreamsOnNetworkChange ? this.watchNetwork(db) : () => undefined;
    this.user = { uid: user.uid, app, db, store: firestoreSignaling(db), streams: recoveringWatch(db), stopNetworkWatch };
    return user.uid;
  }

  /** Restarts Firestore's streams (on new connections, from the new address) and the call's ICE whenever the addresses change. */
  private watchNetwork(db: Firestore): () => void {
    let known = ipv4Addresses().join(",");
    let restarting = Promise.resolve();
    const timer = setInterval(() => {
      const addresses = ipv4Addresses();
      if (addresses.join(",") === known) return;
      known = addresses.join(",");
      const at = Date.now();
      // What an app's network monitor does (Android NetworkCallback, iOS NWPathMonitor): tell the call.
      this.call?.restartIce();
      restarting = restarting
        .then(() => disableNetwork(db))
        .then(() => enableNetwork(db))
        .then(
          () => this.emit({ type: "network", at, addresses, restartedAt: Date.now() }),
          () => this.emit({ type: "network", at, addresses }),
        );
    }, NETWORK_POLL_MS);
    return () => clearInterval(timer);
  }

  private signedIn(): SignedIn {
    if (!this.user) throw new Error("not signed in: send sign-in first");
    return this.user;
  }

  /** A new peer connection on `rtc`, its ICE and connection states reported on every change. */
  private newPeer(rtc: RTCConfiguration): WrtcPeerConnection {
    if (this.pc) throw new Error("this phone is already in a call: hang up first");
    const pc = new WrtcPeerConnection(rtc);
    for (const cause of ["iceconnectionstatechange", "connectionstatechange"] as const) {
      pc.addEventListener(cause, () => this.emit({ type: "ice", at: Date.now(), cause, iceConnectionState: pc.iceConnectionState, connectionState: pc.connectionState }));
    }
    pc.addEventListener("datachannel", (event: RTCDataChannelEvent) => this.adopt(event.channel));
    this.pc = pc;
    return pc;
  }

  private adopt(channel: RTCDataChannel): void {
    this.channel = channel;
    channel.addEventListener("open", () => this.emit({ type: "channel", at: Date.now(), label: channel.label, state: "open" }));
    channel.addEventListener("close", () => this.emit({ type: "channel", at: Date.now(), label: channel.label, state: "closed" }));
    channel.addEventListener("message", (event: MessageEvent) => this.emit({ type: "message", at: Date.now(), text: String(event.data) }));
  }

  private options(json: Record<string, unknown>): CallOptions {
    return {
      ...json,
      onWarning: (warning: CallError) => this.emit({ type: "warning", at: Date.now(), code: warning.code, message: warning.message }),
    };
  }

  private follow(call: Call): void {
    this.call = call;
    const report = (state: CallState): void => {
      this.emit({ type: "state", at: Date.now(), phase: state.phase, ...(state.phase === "ended" ? { reason: state.reason, error: state.error?.message } : {}) });
      // A call the other side ended frees the phone for the next one, as a hang-up here does.
      if (state.phase === "ended" && this.call === call) {
        this.call = undefined;
        this.channel = undefined;
        this.pc?.close();
        this.pc = undefined;
      }
    };
    call.onStateChange(report);
    report(call.state);
  }

  private async dial(command: Command<"call">): Promise<{ sessionId: string }> {
    const user = this.signedIn();
    const pc = this.newPeer(command.rtc);
    // The data channel gives the offer its one m= section.
    this.adopt(pc.createDataChannel(command.channel, MEDIA_LIKE_CHANNEL));
    const call = await startCall(user.store, pc, { callerId: user.uid, calleeId: command.calleeId }, this.options(command.options));
    this.follow(call);
    return { sessionId: call.sessionId };
  }

  private async answer(command: Command<"answer">): Promise<{ sessionId: string; callerId: string }> {
    const user = this.signedIn();
    const options = this.options(command.options);
    const incoming = await new Promise<IncomingCall>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no call rang within ${command.timeoutMs} ms`)), command.timeoutMs);
      const finish = (outcome: IncomingCall | Error): void => {
        clearTimeout(timer);
        stop();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const stop = listenForCalls(
        user.store,
        user.uid,
        (calls) => {
          if (calls[0]) finish(calls[0]);
        },
        (error) => this.emit({ type: "warning", at: Date.now(), code: error.code, message: error.message }),
        options,
      );
    });
    const call = await incoming.answer(this.newPeer(command.rtc));
    this.follow(call);
    return { sessionId: call.sessionId, callerId: incoming.callerId };
  }

  private send(text: string): null {
    if (this.channel?.readyState !== "open") throw new Error(`the data channel is ${this.channel?.readyState ?? "not there"}, not open`);
    this.channel.send(text);
    return null;
  }

  /** The pair the ICE transport selected, with both candidates' addresses and the bytes it carried. */
  private async selectedPair(): Promise<SelectedPair | null> {
    if (!this.pc) return null;
    const report = await this.pc.getStats();
    const entries = new Map<string, Record<string, unknown>>();
    report.forEach((entry: Record<string, unknown>) => entries.set(String(entry.id), entry));
    const transport = [...entries.values()].find((entry) => entry.type === "transport");
    const pair = entries.get(String(transport?.selectedCandidatePairId));
    if (!pair) return null;
    const text = (value: unknown): string => (typeof value === "string" ? value : "");
    const candidate = (id: unknown): SelectedPair["local"] => {
      const entry = entries.get(text(id)) ?? {};
      return {
        candidateType: text(entry.candidateType),
        address: text(entry.address ?? entry.ip),
        port: Number(entry.port),
        protocol: text(entry.protocol),
        ...(typeof entry.relayProtocol === "string" ? { relayProtocol: entry.relayProtocol } : {}),
      };
    };
    return {
      state: text(pair.state),
      local: candidate(pair.localCandidateId),
      remote: candidate(pair.remoteCandidateId),
      bytesSent: Number(pair.bytesSent ?? 0),
      bytesReceived: Number(pair.bytesReceived ?? 0),
    };
  }

  private async hangUp(): Promise<null> {
    const call = this.call;
    this.call = undefined;
    try {
      await call?.hangUp();
    } finally {
      this.channel = undefined;
      this.pc?.close();
      this.pc = undefined;
    }
    return null;
  }

  /** Hangs up a call still going and signs out of the emulators. */
  async close(): Promise<void> {
    await this.hangUp().catch(() => undefined);
    const user = this.user;
    this.user = undefined;
    if (!user) return;
    user.stopNetworkWatch();
    user.streams.stop();
    await terminate(user.db);
    await deleteApp(user.app);
  }
}
