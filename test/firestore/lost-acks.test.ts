// Calls survive lost acknowledgements and load, for real: web clients on Google's libwebrtc
// (@roamhq/wrtc), relay only through a loopback coturn. Each client's Firestore connection runs
// through a fault proxy that, for each kind of write in a call, lets the write reach the
// emulator, drops its acknowledgement and cuts the connection: the SDK resends it, the rules
// refuse the copy, the client recognises its own write, and the call goes on. Then 20 relay-only
// calls at once, with the Functions emulator running and without.
import { strict as assert } from "node:assert";
import { RTCPeerConnection } from "@roamhq/wrtc";
import { disableNetwork, enableNetwork, onSnapshotsInSync, type Firestore } from "firebase/firestore";
import { candidatesPath, sessionPath } from "@webrtc-lite/contract";
import { listenForCalls, startCall, type IncomingCall } from "@webrtc-lite/client/call/call";
import type { SignalingStore } from "@webrtc-lite/client/call/store";
import type { EmulatorAdmin } from "@webrtc-lite/dev-stack/admin";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import type { EmulatorName } from "@webrtc-lite/dev-stack/emulators";
import { startFaultProxy, type FaultProxy } from "@webrtc-lite/dev-stack/fault-proxy";
import { useSharedSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { DataCall, MEDIA_LIKE_CHANNEL, connectCall, nowMs, signInCallUser, type CallPair, type CallUser } from "@webrtc-lite/dev-stack/web-calls";

/** Calls in the lost-acknowledgement run; each loses the acknowledgement of every kind of write it makes. */
const CUT_CALLS = 8;
/** Calls set up at once in the load run. */
const CONCURRENT_CALLS = 20;

/** How long a cut write may take to reach the emulator (its rules run cold on a loaded machine). */
const LANDED_TIMEOUT_MS = 30_000;

type CutWrite = "createCall" | "answerCall" | "appendCandidates" | "reportConnected" | "restartIce" | "requestEnd";

/** Whether the emulator holds what `method` called with `args` writes. */
async function hasLanded(admin: EmulatorAdmin, method: CutWrite, args: unknown[]): Promise<boolean> {
  const sessionId = args[0] as string;
  const session = async () => (await admin.db.doc(sessionPath(sessionId)).get()).data();
  const own = async () => (await admin.db.doc(candidatesPath(sessionId, args[1] as "caller" | "callee")).get()).data();
  switch (method) {
    case "createCall":
      return (await session()) !== undefined;
    case "answerCall":
      return (await session())?.answer != null;
    case "reportConnected":
      return (await session())?.connectivity != null;
    case "requestEnd":
      return (await session())?.end_request != null;
    case "restartIce":
      return (await own())?.generation === args[2];
    case "appendCandidates": {
      const held = ((await own())?.candidates ?? []) as Array<{ candidate: string }>;
      return (args[2] as Array<{ candidate: string }>).every((entry) => held.some((other) => other.candidate === entry.candidate));
    }
  }
}

/**
 * `store` with the first call of each method in `pending` losing its acknowledgement through
 * `proxy`: the write reaches the emulator, the connection is cut before the answer comes back,
 * and the SDK's resend is what the caller of the method hears. Each cut is logged in `cut`.
 */
function cuttingStore(store: SignalingStore, db: Firestore, proxy: FaultProxy, admin: EmulatorAdmin, pending: Set<CutWrite>, cut: CutWrite[]): SignalingStore {
  const wrapped: SignalingStore = { ...store };
  let previous: Promise<void> = Promise.resolve();
  for (const method of ["createCall", "answerCall", "appendCandidates", "reportConnected", "restartIce", "requestEnd"] as const) {
    const original = store[method].bind(store) as (...args: unknown[]) => Promise<void>;
    (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]): Promise<void> => {
      if (!pending.delete(method)) return original(...args);
      // One lost acknowledgement at a time: the previous one's recovery (the resend, the read that
      // recognises it) must not be held back by the next cut.
      await previous;
      let done!: () => void;
      previous = new Promise<void>((resolve) => (done = resolve));
      let started: Promise<void> | undefined;
      let held = false;
      try {
        const { write } = await proxy.loseAcknowledgement(
          () => (started = original(...args)),
          async () => {
            held = proxy.holding;
            return hasLanded(admin, method, args);
          },
          LANDED_TIMEOUT_MS,
        );
        cut.push(method);
        // The network is back at once, as a phone's OS reports it: the mobile SDKs then reconnect
        // without their backoff, which several cuts a second would otherwise stretch to seconds
        // (a stream cut again before the server answered it waits 1 s, then 1.5 times more).
        await disableNetwork(db);
        await enableNetwork(db);
        return await write.finally(done);
      } catch (error) {
        // What the write itself settled with says more than "it never landed".
        const outcome = await Promise.race([started?.then(() => "resolved", (inner: Error) => inner.message), new Promise((resolve) => setTimeout(() => resolve("still pending"), 2_000))]);
        let limits = "";
        if (method === "createCall") {
          const input = args[1] as { caller_id: string };
          const held = (await admin.db.doc(`call_limits/${input.caller_id}`).get()).data();
          const sessions = await Promise.all(Object.values((held?.live ?? {}) as Record<string, string>).map(async (id) => `${id}: ${JSON.stringify((await admin.db.doc(sessionPath(id)).get()).data()?.end_request ?? null)}`));
          limits = `; limits ${JSON.stringify({ ...held, recent: Object.keys(held?.recent ?? {}) })}; live sessions' end requests ${sessions.join(", ")}; dialling ${String(args[0])}`;
        }
        done();
        throw new Error(`${method} (${(error as Error).message}; the proxy was ${held ? "" : "not "}holding); the write itself: ${String(outcome)}${limits}`);
      }
    };
  }
  return wrapped;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)];
}

function loadSuite(title: string, emulators: EmulatorName[], withCuts: boolean): void {
  describe(title, function () {
    this.timeout(300_000);
    const suite = useSharedSignalingStack(emulators);
    const secret = newSecret();
    let coturn: TestCoturn;
    const closers: Array<() => Promise<void> | void> = [];

    before(async () => {
      // A relay-only peer holds an allocation per TURN URI (two) per local network (loopback and
      // the machine's interface) per ICE generation, and coturn frees a port only once it reaps
      // the allocation: room for every call of the suite, restarts included.
      coturn = await startCoturn([secret], { relayBetweenLocalClients: true, relayPortCount: 40 * CONCURRENT_CALLS, quotas: { user: 100, total: 2_000 } });
    });
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => undefined);
    });
    after(async () => {
      await coturn?.stop();
    });

    const network = (firestorePort?: number) => ({
      ports: suite.stack.ports,
      firestoreHost: firestorePort ? { host: "127.0.0.1", port: firestorePort } : undefined,
      turn: { secret, uris: () => coturn.uris() },
    });
    const signIn = async (firestorePort?: number): Promise<CallUser> => {
      const user = await signInCallUser(network(firestorePort));
      closers.push(() => user.close());
      return user;
    };

    if (withCuts) {
      it(`connects, carries data and ends ${CUT_CALLS} calls while every kind of write in them loses its acknowledgement (the SDK resends, the rules refuse the copy, the client knows its own write)`, async () => {
        /** Two fresh users, each with its own fault proxy and incoming-calls listener: each call starts clean. */
        const newParties = async () => {
          const parties = await Promise.all(
            [0, 1].map(async () => {
              const proxy = await startFaultProxy(suite.stack.ports.firestore);
              closers.push(() => proxy.stop());
              const user = await signIn(proxy.port);
              const pending = new Set<CutWrite>();
              const cut: CutWrite[] = [];
              return { user, proxy, pending, cut, listed: [] as string[][], store: cuttingStore(user.store, user.db, proxy, suite.admin, pending, cut) };
            }),
          );
          for (const party of parties) {
            const stop = listenForCalls(
              party.store,
              party.user.uid,
              (calls) => {
                party.listed.push(calls.map((call) => call.sessionId));
                calls.forEach((call) => ringing.set(call.sessionId, call));
              },
              (error) => listenErrors.push(error.message),
            );
            closers.push(() => stop());
          }
          // Each incoming-calls listener is in sync with the server before anyone dials, as a
          // long-lived one is: a listener attaching while a session it matches is written races
          // the emulator's Listen stream (it then never heard of that session).
          await Promise.all(parties.map((party) => new Promise<void>((resolve) => {
            const stop = onSnapshotsInSync(party.user.db, () => {
              stop();
              resolve();
            });
          })));
          return parties;
        };
        const ringing = new Map<string, IncomingCall>();
        const listenErrors: string[] = [];
        // The emulator evaluates a project's rules cold the first time: one call without cuts first.
        const warm = await connectCall(await signIn(), await signIn());
        closers.push(() => warm.outgoing.close(), () => warm.incoming.close());
        await warm.outgoing.call.hangUp();
        const everyone: Array<Awaited<ReturnType<typeof newParties>>[number]> = [];
        const failures: string[] = [];
        for (let index = 0; index < CUT_CALLS; index += 1) {
          const [caller, callee] = await newParties();
          everyone.push(caller, callee);
          for (const write of ["createCall", "appendCandidates", "reportConnected", "restartIce"] as const) caller.pending.add(write);
          for (const write of ["answerCall", "appendCandidates"] as const) callee.pending.add(write);
          const hangingUp = index % 4 < 2 ? caller : callee;
          const outgoing = new DataCall(new RTCPeerConnection(caller.user.peerConfig()));
          const incoming = new DataCall(new RTCPeerConnection(callee.user.peerConfig()));
          DataCall.pair(outgoing, incoming);
          closers.push(() => outgoing.close(), () => incoming.close());
          try {
            const channel = outgoing.pc.createDataChannel("ticks", MEDIA_LIKE_CHANNEL);
            const callerOpen = new Promise<RTCDataChannel>((resolve) => (channel.onopen = () => resolve(channel)));
            const calleeOpen = new Promise<RTCDataChannel>((resolve) => (incoming.pc.ondatachannel = (event) => (event.channel.onopen = () => resolve(event.channel))));
            const options = (user: CallUser) => ({ iceServers: async () => user.peerConfig().iceServers ?? [] });
            const call = await startCall(caller.store, outgoing.pc, { callerId: caller.user.uid, calleeId: callee.user.uid }, outgoing.options(options(caller.user)));
            outgoing.attach(call, callerOpen);
            // The incoming-calls listener attached before the dial hears the call, while the
            // caller's connection is cut in the middle of the create's fan-out to the listeners.
            const rang = await waitFor(`call ${index} to ring`, () => ringing.get(call.sessionId), 20_000, 5).catch(async (error: Error) => {
              const session = (await suite.admin.db.doc(sessionPath(call.sessionId)).get()).data();
              throw new Error(`${error.message}; the session: ${JSON.stringify({ ...session, offer: undefined })}; the callee's listener last listed ${JSON.stringify(callee.listed.at(-1))} after ${callee.listed.length} lists`);
            });
            incoming.attach(await rang.answer(incoming.pc), calleeOpen);
            await Promise.all([outgoing.phaseAfter("connected", 0, 30_000), incoming.phaseAfter("connected", 0, 30_000)]);
            outgoing.startTicking();
            incoming.startTicking();
            const talking = nowMs();
            await Promise.all([outgoing.tickAfter(talking, 15_000), incoming.tickAfter(talking, 15_000)]);
            // An ICE restart (the app reports a network change) whose offer loses its acknowledgement.
            outgoing.call.restartIce();
            await waitFor(`call ${index}'s restart`, async () => ((await suite.admin.db.doc(candidatesPath(call.sessionId, "callee")).get()).get("generation") === 1 ? true : undefined), 20_000, 20).catch(async (error: Error) => {
              const generation = async (role: "caller" | "callee") => (await suite.admin.db.doc(candidatesPath(call.sessionId, role)).get()).get("generation") as unknown;
              throw new Error(`${error.message}: caller's generation ${String(await generation("caller"))}, callee's ${String(await generation("callee"))}; phases ${outgoing.phases.map((entry) => entry.phase).join(">")} / ${incoming.phases.map((entry) => entry.phase).join(">")}; warnings ${[...outgoing.warnings, ...incoming.warnings].join(" | ")}`);
            });
            const restarted = nowMs();
            await Promise.all([outgoing.tickAfter(restarted, 20_000), incoming.tickAfter(restarted, 20_000)]);
            hangingUp.pending.add("requestEnd");
            const other = hangingUp === caller ? incoming : outgoing;
            await (hangingUp === caller ? outgoing : incoming).call.hangUp();
            await other.phaseAfter("ended", 0, 15_000);
            for (const side of [outgoing, incoming]) {
              const state = side.call.state;
              assert.ok(state.phase === "ended" && !state.error, `the ${side.call.role} ended normally: ${JSON.stringify(state)}`);
            }
          } catch (error) {
            failures.push(`call ${index}: ${(error as Error).message}${listenErrors.length > 0 ? ` (incoming-calls listener: ${listenErrors.join("; ")})` : ""}`);
          } finally {
            // A call that failed half-way is hung up (a side that got as far as a call has a phase).
            const unfinished = [outgoing, incoming].filter((side) => side.phases.length > 0 && side.call.state.phase !== "ended");
            await Promise.all(unfinished.map((side) => side.call.hangUp().catch(() => undefined)));
            outgoing.close();
            incoming.close();

          }
        }
        const cuts = everyone.flatMap((party) => party.cut);
        const repeats = everyone.flatMap((party) => party.user.repeats);
        const kinds = [...new Set(cuts)].sort();
        console.log(`      ${CUT_CALLS} calls, ${cuts.length} lost acknowledgements (${kinds.map((kind) => `${kind} ${cuts.filter((cut) => cut === kind).length}`).join(", ")}); ` +
          `the clients recognised ${repeats.length} refused resends as their own writes; proxy cuts ${everyone.reduce((sum, party) => sum + party.proxy.cuts, 0)}; failed calls: ${failures.length}`);
        assert.deepEqual(failures, []);
        assert.ok(cuts.length >= 50, `at least 50 lost acknowledgements (${cuts.length})`);
        assert.deepEqual(kinds, ["answerCall", "appendCandidates", "createCall", "reportConnected", "requestEnd", "restartIce"]);
        // Every lost acknowledgement came back as a refusal the client recognised, except end
        // requests (a refusal there means the call ended, which is what was asked).
        assert.ok(repeats.length >= cuts.filter((kind) => kind !== "requestEnd").length, `${repeats.length} recognised resends for ${cuts.length} cuts`);
      });
    }

    it(`sets up ${CONCURRENT_CALLS} relay-only calls at once: all connect, carry data both ways and hang up`, async () => {
      const users = await Promise.all(Array.from({ length: 2 * CONCURRENT_CALLS }, () => signIn()));
      const started = nowMs();
      const results = await Promise.allSettled(
        Array.from({ length: CONCURRENT_CALLS }, async (_, index) => {
          const pair: CallPair = await connectCall(users[2 * index], users[2 * index + 1], {}, 60_000);
          closers.push(() => pair.outgoing.close(), () => pair.incoming.close());
          pair.outgoing.startTicking();
          pair.incoming.startTicking();
          const connected = nowMs();
          await Promise.all([pair.outgoing.tickAfter(connected, 20_000), pair.incoming.tickAfter(connected, 20_000)]);
          return pair;
        }),
      );
      const failed = results.flatMap((result, index) => (result.status === "rejected" ? [`call ${index}: ${(result.reason as Error).message}`] : []));
      const pairs = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
      const setup = pairs.map((pair) => pair.times.connected - pair.times.answerStart);
      console.log(`      ${CONCURRENT_CALLS} at once: ${pairs.length} connected and talked; answer → connected median ${(median(setup) / 1_000).toFixed(2)} s, max ${(Math.max(...setup) / 1_000).toFixed(2)} s; all set up ${((nowMs() - started) / 1_000).toFixed(1)} s after the first dial`);
      assert.deepEqual(failed, []);
      await Promise.all(pairs.map(async (pair) => {
        await pair.outgoing.call.hangUp();
        await pair.incoming.phaseAfter("ended", 0, 20_000);
      }));
    });
  });
}

loadSuite("calls survive lost acknowledgements and load (web client on libwebrtc, no Functions emulator)", ["auth", "firestore"], true);
loadSuite("calls survive load (web client on libwebrtc, Functions emulator running)", ["auth", "firestore", "functions"], false);
