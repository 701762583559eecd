// One call through the client (@webrtc-lite/client: startCall, listenForCalls, Call.hangUp) in
// Node, on libwebrtc from npm (@roamhq/wrtc), timing the moments the bench reports. The
// Firestore writes are timed where they start by wrapping the client's SignalingStore.
import { RTCPeerConnection as WrtcPeerConnection } from "@roamhq/wrtc";
import { waitForPendingWrites } from "firebase/firestore";
import type { Role } from "@webrtc-lite/contract";
import { listenForCalls, startCall, type Call, type IncomingCall, type PeerConnection } from "@webrtc-lite/client/call/call";
import { firestoreSignaling } from "@webrtc-lite/client/call/firestore";
import type { CallError, CallState } from "@webrtc-lite/client/call/state";
import type { SignalingStore } from "@webrtc-lite/client/call/store";
import { arrival, type Arrival } from "./arrival";
import type { BenchClient } from "./clients";
import { nowMs } from "./stats";

/** What both peers are configured with (the bench: relay only, through coturn on loopback). */
export type PeerConfig = (uid: string) => RTCConfiguration;

/** The moments of one call, in milliseconds from the monotonic clock. */
export interface CallTimes {
  dialStart: number;
  ringing: number;
  answerStart: number;
  callerConnected: number;
  calleeConnected: number;
  hangUpStart: number;
  otherEnded: number;
}

/** When this side's store last started each kind of write. */
interface WriteStarts {
  create?: number;
  answer?: number;
  end?: number;
}

/** The client's own store, with the start of each create, answer and end batch recorded in `starts`. */
function timedStore(store: SignalingStore, starts: WriteStarts): SignalingStore {
  return {
    ...store,
    createCall(...args) {
      starts.create = nowMs();
      return store.createCall(...args);
    },
    answerCall(...args) {
      starts.answer = nowMs();
      return store.answerCall(...args);
    },
    requestEnd(...args) {
      starts.end = nowMs();
      return store.requestEnd(...args);
    },
  };
}

/** Resolves with the time `call` first reaches `phase` (now, if it is there already); rejects if it ends otherwise. */
function phaseReached(call: Call, phase: CallState["phase"], timeoutMs: number, events: Arrival): Promise<number> {
  let at: number | undefined;
  let failed: Error | undefined;
  const check = (state: CallState): void => {
    if (state.phase === phase) at ??= nowMs();
    else if (state.phase === "ended") failed ??= new Error(`the ${call.role}'s call ended (${state.reason}) before it was ${phase}${state.error ? `: ${state.error.message}` : ""}`);
    events.fire();
  };
  const stop = call.onStateChange(check);
  check(call.state);
  return events
    .until(() => {
      if (at !== undefined) return at;
      if (failed) throw failed;
      return undefined;
    }, timeoutMs, `the ${call.role}'s call to be ${phase}`)
    .finally(stop);
}

/**
 * Both sides of the bench's calls: signed-in callers taking turns (each within its limit of
 * calls per minute, CALL_LIMITS) and one callee, its incoming-calls listener attached.
 */
export class CallPair {
  private readonly callerStarts: WriteStarts = {};
  private readonly calleeStarts: WriteStarts = {};
  private readonly callerStores: SignalingStore[];
  private turn = 0;
  private readonly calleeStore: SignalingStore;
  private readonly rang = new Map<string, { at: number; call: IncomingCall }>();
  private readonly ringEvents = arrival();
  private readonly stopListening: () => void;
  private listenError: CallError | undefined;
  /** Warnings the client reported (problems that do not end a call), newest last. */
  readonly warnings: string[] = [];

  constructor(
    private readonly callers: BenchClient[],
    private readonly callee: BenchClient,
    private readonly peerConfig: PeerConfig,
  ) {
    this.callerStores = callers.map((caller) => timedStore(firestoreSignaling(caller.db), this.callerStarts));
    this.calleeStore = timedStore(firestoreSignaling(callee.db), this.calleeStarts);
    this.stopListening = listenForCalls(
      this.calleeStore,
      callee.uid,
      (calls) => {
        const at = nowMs();
        for (const call of calls) if (!this.rang.has(call.sessionId)) this.rang.set(call.sessionId, { at, call });
        this.ringEvents.fire();
      },
      (error) => {
        this.listenError = error;
        this.ringEvents.fire();
      },
      this.options(),
    );
  }

  private options() {
    return { onWarning: (warning: CallError) => this.warnings.push(`${warning.code}: ${warning.message}`) };
  }

  private newPeer(uid: string): PeerConnection & RTCPeerConnection {
    return new WrtcPeerConnection(this.peerConfig(uid));
  }

  /**
   * Places one call, answers it as soon as it rings, waits until both sides are connected,
   * hangs up from `hangUpBy` and waits until the other side has ended. Both peer connections
   * are closed before it returns.
   */
  async run(hangUpBy: Role, timeoutMs: number): Promise<CallTimes> {
    for (const starts of [this.callerStarts, this.calleeStarts]) {
      delete starts.create;
      delete starts.answer;
      delete starts.end;
    }
    const index = this.turn++ % this.callers.length;
    const caller = this.callers[index];
    const callerPc = this.newPeer(caller.uid);
    const calleePc = this.newPeer(this.callee.uid);
    // A data channel gives the offer its one m= section (an app adds its tracks instead).
    callerPc.createDataChannel("bench");
    try {
      const outgoing = await startCall(this.callerStores[index], callerPc, { callerId: caller.uid, calleeId: this.callee.uid }, this.options());
      const dialStart = this.callerStarts.create ?? NaN;
      const ringing = await this.ringEvents.until(
        () => {
          if (this.listenError) throw this.listenError;
          return this.rang.get(outgoing.sessionId);
        },
        timeoutMs,
        `session ${outgoing.sessionId} to ring`,
      );
      const incoming = await ringing.call.answer(calleePc);
      const answerStart = this.calleeStarts.answer ?? NaN;
      const [callerConnected, calleeConnected] = await Promise.all([
        phaseReached(outgoing, "connected", timeoutMs, arrival()),
        phaseReached(incoming, "connected", timeoutMs, arrival()),
      ]);
      // A person hangs up seconds after connecting, not while the connectivity report and the last
      // candidate appends are still in flight: those would hold the end's writes behind them on the
      // same write stream and measure the queue instead of the hang-up.
      await Promise.all([waitForPendingWrites(caller.db), waitForPendingWrites(this.callee.db)]);
      const [hanging, other] = hangUpBy === "caller" ? [outgoing, incoming] : [incoming, outgoing];
      const otherEnded = phaseReached(other, "ended", timeoutMs, arrival());
      await hanging.hangUp();
      const hangUpStart = (hangUpBy === "caller" ? this.callerStarts : this.calleeStarts).end ?? NaN;
      return { dialStart, ringing: ringing.at, answerStart, callerConnected, calleeConnected, hangUpStart, otherEnded: await otherEnded };
    } finally {
      callerPc.close();
      calleePc.close();
    }
  }

  /** Stops the callee's incoming-calls listener. */
  close(): void {
    this.stopListening();
  }
}
