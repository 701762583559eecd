// Calls survive the real network: two web clients on Google's libwebrtc (@roamhq/wrtc), relay
// only through a loopback coturn, keep carrying data when coturn restarts mid-call (every
// allocation lost) by restarting ICE through Firestore alone; a call whose peer never comes
// back ends with failed after the window; a side that sends its end-of-candidates marker
// before its candidates still connects. The restart runs once with the Functions emulator
// (the record stays connected through it) and once without; the rest is client behaviour
// alone and runs without.
import { strict as assert } from "node:assert";
import { candidatesPath, sessionPath } from "@webrtc-lite/contract";
import type { CallOptions, IceCandidateFields, PeerConnection } from "@webrtc-lite/client/call/call";
import type { EmulatorName } from "@webrtc-lite/dev-stack/emulators";
import { firestoreSignaling } from "@webrtc-lite/client/call/firestore";
import { useSharedSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { connectCall, nowMs, useRelayedCalls, type CallPair, type CallUser } from "@webrtc-lite/dev-stack/web-calls";

/** A short window, so that the give-up case takes seconds, not the default 30. */
const SHORT_WINDOW: CallOptions = { iceRestart: { giveUpMs: 8_000 } };

function fmt(ms: number): string {
  return `${(ms / 1_000).toFixed(2)} s`;
}

/**
 * The peer connection as a libwebrtc on a blocked event loop reports it: the end of gathering
 * (a null candidate) before the candidates themselves.
 */
function endOfCandidatesFirst(pc: PeerConnection): void {
  const add = pc.addEventListener.bind(pc) as (type: string, listener: (event: { candidate: IceCandidateFields | null }) => void) => void;
  (pc as { addEventListener: unknown }).addEventListener = (type: string, listener: (event: { candidate: IceCandidateFields | null }) => void) => {
    if (type !== "icecandidate") return add(type, listener);
    let first = true;
    add(type, (event) => {
      if (first && event.candidate) {
        first = false;
        listener({ candidate: null });
      }
      listener(event);
    });
  };
}

function continuitySuite(title: string, emulators: EmulatorName[]): void {
  describe(title, function () {
    this.timeout(180_000);
    const suite = useSharedSignalingStack(emulators);
    const relayed = useRelayedCalls(() => suite.stack.ports, { relayBetweenLocalClients: true, relayPortCount: 200 });
    const signIn = (): Promise<CallUser> => relayed.signIn();
    const call = async (options: CallOptions = {}): Promise<CallPair> => {
      return relayed.keep(await connectCall(await signIn(), await signIn(), options));
    };
    const status = async (sessionId: string): Promise<unknown> => (await suite.admin.db.doc(sessionPath(sessionId)).get()).get("status");

    it("keeps a relay-only call carrying data both ways through a coturn restart (every allocation lost): ICE restarts in place", async () => {
      const pair = await call();
      const fresh = pair.times.connected - pair.times.answerStart;
      pair.outgoing.startTicking();
      pair.incoming.startTicking();
      await Promise.all([pair.outgoing.tickAfter(pair.times.connected, 10_000), pair.incoming.tickAfter(pair.times.connected, 10_000)]);
      if (emulators.includes("functions")) await waitFor("the record to be connected", async () => ((await status(pair.sessionId)) === "connected" ? true : undefined));

      const broken = nowMs();
      await relayed.coturn().halt();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await relayed.coturn().restart();
      const back = nowMs();
      const [callerTick, calleeTick] = await Promise.all([pair.outgoing.tickAfter(back, 40_000), pair.incoming.tickAfter(back, 40_000)]);
      const interrupted = pair.outgoing.phases.find((entry) => entry.phase === "reconnecting" && entry.at >= broken)?.at;
      // The caller may never leave connected: when the callee notices first and asks, the caller's
      // restart can heal the path before its own ICE reports the break.
      const reconnected = interrupted === undefined ? undefined : await pair.outgoing.phaseAfter("connected", broken, 5_000);
      const flowing = Math.max(callerTick, calleeTick);

      const generation = (await suite.admin.db.doc(candidatesPath(pair.sessionId, "caller")).get()).get("generation") as number;
      assert.ok(generation >= 1, `the caller restarted ICE (generation ${generation})`);
      // Under load a restarted path may break once more and take another restart: the call must
      // be back, and say what it went through if it is not.
      const trace = () => [pair.outgoing, pair.incoming].map((side) => `${side.call.role}: ${side.phases.map((entry) => `${entry.phase}@${fmt(entry.at - broken)}`).join(">")}`).join("; ");
      await waitFor("both sides connected after the restart", () => (pair.outgoing.call.state.phase === "connected" && pair.incoming.call.state.phase === "connected" ? true : undefined), 15_000, 20).catch((error: Error) => {
        throw new Error(`${error.message}; now ${trace()}`);
      });
      // The record never left connected (no function is on the restart's path).
      if (emulators.includes("functions")) assert.equal(await status(pair.sessionId), "connected");
      console.log(
        `      coturn restart: fresh connect ${fmt(fresh)}; break → reconnecting ${interrupted ? fmt(interrupted - broken) : "never"}, ` +
          `coturn back → data both ways ${fmt(flowing - back)}, break → data ${fmt(flowing - broken)}, reconnected at ${reconnected === undefined ? "— (never left connected)" : fmt(reconnected - broken)}; generation ${generation}`,
      );
      await pair.outgoing.call.hangUp();
      await pair.incoming.phaseAfter("ended", 0, 10_000);
    });

    if (!emulators.includes("functions")) it("ends a call whose peer vanished (no restart answer within the window) with failed, and leaves no candidates document behind", async () => {
      const callee = await signIn();
      const pair = relayed.keep(await connectCall(await signIn(), callee, SHORT_WINDOW));
      const vanished = nowMs();
      // The callee's app is killed: no hang-up, its Firestore client gone, its peer connection closed.
      pair.incoming.close();
      await callee.close();
      const ended = await pair.outgoing.phaseAfter("ended", vanished, 40_000);
      const state = pair.outgoing.call.state;
      assert.equal(state.phase, "ended");
      assert.equal(state.phase === "ended" && state.error?.code, "ice-failed");
      const session = await waitFor("the end request", async () => ((await suite.admin.db.doc(sessionPath(pair.sessionId)).get()).get("end_request") as { by: string; reason: string } | null) ?? undefined);
      assert.deepEqual([session.by, session.reason], ["caller", "failed"]);
      await waitFor("the caller's candidates document to be gone", async () => ((await suite.admin.db.doc(candidatesPath(pair.sessionId, "caller")).get()).exists ? undefined : true), 10_000);
      const interrupted = pair.outgoing.phases.find((entry) => entry.phase === "reconnecting")?.at;
      const states = pair.outgoing.iceStates.filter((entry) => entry.at >= vanished).map((entry) => `${entry.state} +${fmt(entry.at - vanished)}`);
      console.log(`      caller's ICE after the callee vanished: ${states.join(", ")}`);
      console.log(`      peer vanished → caller reconnecting after ${interrupted ? fmt(interrupted - vanished) : "never"}, ended with failed after ${fmt(ended - vanished)} (window ${fmt(8_000)})`);
    });

    if (!emulators.includes("functions")) it("ends an answered call at once when its caller, restarted, redials the same callee: the redial's batch deletes the old call's candidates document, and no candidates document is left", async () => {
      const alice = await signIn();
      const bob = await signIn();
      const first = await connectCall(alice, bob);
      relayed.keep(first);
      // The caller's app restarts: its peer connection is gone and its new store knows nothing of the call.
      first.outgoing.close();
      const redialled = nowMs();
      const second = await connectCall(alice, bob, {}, 30_000, undefined, { caller: firestoreSignaling(alice.db) });
      relayed.keep(second);
      const ended = await first.incoming.phaseAfter("ended", redialled, 10_000);
      const state = first.incoming.call.state;
      assert.deepEqual(state.phase === "ended" && [state.reason, state.error], ["hangup", undefined]);
      const old = first.sessionId;
      const endRequest = (await suite.admin.db.doc(sessionPath(old)).get()).get("end_request") as { by: string; reason: string } | null;
      assert.deepEqual([endRequest?.by, endRequest?.reason], ["caller", "hangup"]);
      await waitFor("the old call's candidates documents to be gone (no function runs)", async () => {
        const left = await Promise.all((["caller", "callee"] as const).map(async (role) => (await suite.admin.db.doc(candidatesPath(old, role)).get()).exists));
        return left.some(Boolean) ? undefined : true;
      }, 10_000);
      console.log(`      redial → the old call's callee ended ${fmt(ended - redialled)} after the redial began (its dial batch: refused once on stale limits, read, sent again)`);
      await second.outgoing.call.hangUp();
      await second.incoming.phaseAfter("ended", 0, 10_000);
    });

    if (!emulators.includes("functions")) it("connects when both sides report the end of gathering before their candidates (libwebrtc on a blocked event loop)", async () => {
      const pair = await connectCall(await signIn(), await signIn(), {}, 30_000, endOfCandidatesFirst);
      relayed.keep(pair);
      for (const role of ["caller", "callee"] as const) {
        const entries = (await suite.admin.db.doc(candidatesPath(pair.sessionId, role)).get()).get("candidates") as Array<{ candidate: string }>;
        const marker = entries.findIndex((entry) => entry.candidate === "");
        const relay = entries.findLastIndex((entry) => entry.candidate.includes("typ relay"));
        assert.ok(marker >= 0 && relay > marker, `the ${role}'s marker went out before its relay candidates: ${entries.map((entry) => entry.candidate.slice(0, 40)).join(" | ")}`);
      }
    });
  });
}

continuitySuite("calls survive a TURN host restart and a vanished peer (web client on libwebrtc, no Functions emulator)", ["auth", "firestore"]);
continuitySuite("calls survive a TURN host restart (web client on libwebrtc, Functions emulator running: the record stays connected)", ["auth", "firestore", "functions"]);
