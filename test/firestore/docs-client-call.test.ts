// The proof that docs/signaling.md and the conformance vectors are enough to port the protocol:
// a client on Google's libwebrtc (@roamhq/wrtc) written from them alone
// (test/helpers/docs-client, which imports no @webrtc-lite code: the conformance unit test
// checks that) calls and is called by another such client and by the web client, redials a
// callee it is still in a call with in one batch, and relays through a Functions outage on its
// cached TURN credential. Relay only, through a loopback coturn; the Auth and Firestore
// emulators, and for the outage an Auth and Functions emulator of its own.
import { strict as assert } from "node:assert";
import { RTCPeerConnection } from "@roamhq/wrtc";
import { candidatesPath, sessionPath } from "@webrtc-lite/contract";
import { adminFirestoreModule } from "@webrtc-lite/dev-stack/admin";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { listenForCalls, startCall, type Call, type IncomingCall, type PeerConnection } from "@webrtc-lite/client/call/call";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { PROJECT_ID, startEmulatorStack, type EmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { recoveringWatch } from "@webrtc-lite/dev-stack/listen-stream";
import { freePort } from "@webrtc-lite/dev-stack/ports";
import { useSharedSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { startTcpForward, type TcpForward } from "@webrtc-lite/dev-stack/tcp-forward";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { signInCallUser, type CallUser } from "@webrtc-lite/dev-stack/web-calls";
import { DocsApp, DialRefused, type DocsAppConfig, type IncomingCalls } from "../helpers/docs-client/app";
import type { DocsCall } from "../helpers/docs-client/call";
import { CredentialsUnavailable } from "../helpers/docs-client/credentials";

const LOOPBACK = "127.0.0.1";

describe("a libwebrtc client written from docs/signaling.md and the conformance vectors alone", function () {
  this.timeout(120_000);
  const suite = useSharedSignalingStack(["auth", "firestore"]);
  const secret = newSecret();
  let coturn: TestCoturn;
  const closers: Array<() => Promise<void> | void> = [];
  // The outage's Functions emulator starts beside the calls that need none (it takes the longest).
  let functionsStarting: Promise<EmulatorStack> | undefined;
  let functionsStartedAt = 0;

  before(async () => {
    coturn = await startCoturn([secret], { relayBetweenLocalClients: true, relayPortCount: 200 });
    functionsStartedAt = Date.now();
    // Its getTurnCredentials mints for this suite's coturn.
    functionsStarting = startEmulatorStack({ emulators: ["auth", "functions"], params: functionParams(coturn.uris(), { STUN_URIS: "none" }), secrets: { TURN_SHARED_SECRET: secret } });
    functionsStarting.catch(() => undefined);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  after(async () => {
    await (await functionsStarting?.catch(() => undefined))?.stop();
    await coturn?.stop();
  });

  /** What getTurnCredentials would answer, minted here for the suites that run no Functions emulator. */
  const mintedAnswer = (uid: () => string) => async () => {
    const { username, credential } = mintTurnCredential(secret, uid(), 3_600, Date.now());
    const uris = coturn.uris();
    return { username, credential, ttl: 3_600, expiresAt: Number(username.split(":")[0]), uris, iceServers: [{ urls: uris, username, credential }] };
  };

  const config = (functions: DocsAppConfig["functions"], firestorePort = suite.stack.ports.firestore, authPort = suite.stack.ports.auth, clock?: () => number): DocsAppConfig => ({
    projectId: PROJECT_ID,
    auth: { host: LOOPBACK, port: authPort },
    firestore: { host: LOOPBACK, port: firestorePort },
    functions,
    iceTransportPolicy: "relay",
    clock,
  });

  /** A docs-client app on the shared stack, its credentials minted as the callable would. */
  async function docsApp(): Promise<DocsApp> {
    const signedIn: { uid?: string } = {};
    const app = await DocsApp.start(config({ answer: mintedAnswer(() => signedIn.uid ?? "") }));
    signedIn.uid = app.uid;
    return track(app);
  }

  function track(app: DocsApp): DocsApp {
    // The emulator's Listen stream flake (listen-stream.ts) would silence a listener for 60 s.
    const streams = recoveringWatch(app.db);
    closers.push(async () => {
      streams.stop();
      await app.close();
    });
    return app;
  }

  function listen(app: DocsApp): IncomingCalls {
    const incoming = app.listenForCalls();
    closers.push(() => incoming.stop());
    return incoming;
  }

  async function webUser(): Promise<CallUser> {
    const user = await signInCallUser({ ports: suite.stack.ports, turn: { secret, uris: () => coturn.uris() } });
    closers.push(() => user.close());
    return user;
  }

  async function talk(a: DocsCall, b: DocsCall, text: string): Promise<void> {
    await Promise.all([a.connected.wait(30_000), b.connected.wait(30_000), a.channelOpen.wait(30_000), b.channelOpen.wait(30_000)]);
    a.send(`${text} from the ${a.role}`);
    b.send(`${text} from the ${b.role}`);
    await Promise.all([b.waitForMessage(`${text} from the ${a.role}`), a.waitForMessage(`${text} from the ${b.role}`)]);
  }

  const exists = async (sessionId: string, role: "caller" | "callee") => (await suite.admin.db.doc(candidatesPath(sessionId, role)).get()).exists;
  const session = async (sessionId: string) => (await suite.admin.db.doc(sessionPath(sessionId)).get()).data() ?? {};
  const generation = async (sessionId: string, role: "caller" | "callee") => (await suite.admin.db.doc(candidatesPath(sessionId, role)).get()).get("generation") as number | undefined;

  it("calls another docs client: rings, connects relay to relay, talks, restarts ICE on the caller's demand and on the callee's request, hangs up; no function runs", async () => {
    const [alice, bob] = [await docsApp(), await docsApp()];
    const incoming = listen(bob);
    await incoming.attached.wait();
    const started = Date.now();
    const outgoing = await alice.call(bob.uid);
    const answered = await bob.accept(await incoming.waitForRinging(alice.uid, outgoing.sessionId));
    await talk(outgoing, answered, "hello");
    const connected = Date.now();

    // The caller restarts on demand (an app's network monitor); the callee answers in its own document.
    await outgoing.restartIce();
    await waitFor("the callee's restart answer", async () => ((await generation(outgoing.sessionId, "callee")) === 1 ? true : undefined), 15_000);
    await talk(outgoing, answered, "after the restart");
    // The callee asks; the caller restarts into the generation it asked for.
    await answered.requestRestart();
    await waitFor("the second restart to be answered", async () => ((await generation(outgoing.sessionId, "callee")) === 2 ? true : undefined), 15_000);
    await talk(outgoing, answered, "after the requested restart");
    assert.deepEqual([outgoing.restarts, answered.restarts], [[1, 2], [1, 2]]);
    assert.equal((await suite.admin.db.doc(candidatesPath(outgoing.sessionId, "callee")).get()).get("restart_request"), 2);
    const restarted = Date.now();

    for (const call of [outgoing, answered]) {
      const written = call.outbox.written.map((item) => item.entry);
      assert.ok(written.every((entry) => entry.candidate === "" || / typ relay /.test(entry.candidate)), `relay only: ${JSON.stringify(written)}`);
      assert.deepEqual(call.skipped, [], `${call.role} skipped nothing`);
    }
    const live = await session(outgoing.sessionId);
    assert.equal(live.status, "pending", "no function ran: the record has not moved");
    assert.equal((live.connectivity as { by: string }).by, "caller");

    await answered.hangUp("hangup");
    assert.equal(await outgoing.ended.wait(), "the peer's candidates document is gone");
    await waitFor("both candidates documents to be gone (each side deletes its own)", async () => ((await exists(outgoing.sessionId, "caller")) || (await exists(outgoing.sessionId, "callee")) ? undefined : true), 10_000);
    assert.deepEqual((await session(outgoing.sessionId)).end_request && { ...((await session(outgoing.sessionId)).end_request as object), at: 0 }, { by: "callee", reason: "hangup", at: 0 });
    console.log(`      docs ↔ docs: dial to data ${connected - started} ms; two ICE restarts with data after each ${restarted - connected} ms`);
  });

  it("skips each of the peer's entries it cannot use with its reason code, once, and still connects", async () => {
    const [alice, bob] = [await docsApp(), await docsApp()];
    const incoming = listen(bob);
    const outgoing = await alice.call(bob.uid);
    const ring = await incoming.waitForRinging(alice.uid, outgoing.sessionId);
    // Written past the rules (a peer under older, laxer rules, or the Admin SDK).
    const hostile = [
      { candidate: "candidate:1 1 udp 4294967296 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0 },
      { candidate: "candidate:1 1 udp 2122260223 resolve-me.example 9 typ host", sdpMid: "0", sdpMLineIndex: 0 },
      42,
      { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0, extra: true },
    ];
    const { FieldValue } = adminFirestoreModule;
    for (const entry of hostile) await suite.admin.db.doc(candidatesPath(ring.sessionId, "caller")).update({ candidates: FieldValue.arrayUnion(entry) });
    const written = ((await suite.admin.db.doc(candidatesPath(ring.sessionId, "caller")).get()).get("candidates") as unknown[]).map((entry) => JSON.stringify(entry));
    const answered = await bob.accept(ring);
    await talk(outgoing, answered, "hello");
    const expected = ["bad-candidate-line", "address-is-a-name", "not-a-map", "unknown-key"].map((reason, index) => `candidates[${written.indexOf(JSON.stringify(hostile[index]))}]: ${reason}`);
    assert.deepEqual([...answered.skipped].sort(), expected.sort());
    await outgoing.hangUp("hangup");
    await answered.ended.wait();
  });

  it("stops ringing when declined, and the caller's session listener ends the call with the callee's reason", async () => {
    const [alice, bob] = [await docsApp(), await docsApp()];
    const incoming = listen(bob);
    const outgoing = await alice.call(bob.uid);
    const ring = await incoming.waitForRinging(alice.uid, outgoing.sessionId);
    await bob.decline(ring, "busy");
    assert.equal(await outgoing.ended.wait(), "session: busy");
    await incoming.waitForSilence(ring.sessionId);
    await waitFor("the caller's candidates document to be gone", async () => ((await exists(ring.sessionId, "caller")) ? undefined : true), 10_000);
  });

  /** The web client (packages/client) in Node on libwebrtc, relay only. */
  function webPeer(user: CallUser): RTCPeerConnection & PeerConnection {
    const pc = new RTCPeerConnection(user.peerConfig()) as RTCPeerConnection & PeerConnection;
    closers.push(() => pc.close());
    return pc;
  }

  function openChannel(pc: RTCPeerConnection, create: boolean): Promise<RTCDataChannel> {
    return new Promise((resolve) => {
      const wire = (channel: RTCDataChannel) => (channel.onopen = () => resolve(channel));
      if (create) wire(pc.createDataChannel("chat"));
      else pc.ondatachannel = (event) => wire(event.channel);
    });
  }

  /** The texts a web side's data channel received. */
  function heard(channel: RTCDataChannel): string[] {
    const texts: string[] = [];
    channel.onmessage = (event: MessageEvent) => texts.push(String(event.data));
    return texts;
  }

  /** The docs side sends until the web side hears it (a path that just came back may drop the first), then the web side answers. */
  async function talkWithWeb(call: DocsCall, channel: RTCDataChannel, text: string): Promise<void> {
    const texts = heard(channel);
    await waitFor(`"${text}" to reach the web side`, async () => {
      call.send(text);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return texts.includes(text) ? true : undefined;
    }, 15_000);
    channel.send(`${text}, back`);
    await call.waitForMessage(`${text}, back`);
  }

  const webPhase = (call: Call, phase: string) => waitFor(`the web ${call.role} to be ${phase}`, () => (call.state.phase === phase ? true : undefined), 30_000, 10);

  it("calls the web client and is called by it (relay only, both ways): connects, talks, answers the web caller's ICE restart, hangs up", async () => {
    const docs = await docsApp();
    const web = await webUser();

    // docs → web
    const webPc = webPeer(web);
    const webChannel = openChannel(webPc, false);
    let ringing: IncomingCall | undefined;
    const stop = listenForCalls(web.store, web.uid, (calls) => (ringing ??= calls[0]), () => undefined);
    closers.push(stop);
    const outgoing = await docs.call(web.uid);
    const incoming = await waitFor("the web client to ring", () => (ringing?.sessionId === outgoing.sessionId ? ringing : undefined), 20_000, 10);
    const webCallee = await incoming.answer(webPc);
    await Promise.all([outgoing.connected.wait(30_000), outgoing.channelOpen.wait(30_000), webPhase(webCallee, "connected")]);
    await talkWithWeb(outgoing, await webChannel, "hello web");
    await outgoing.hangUp("hangup");
    await webPhase(webCallee, "ended");
    assert.deepEqual(webCallee.state.phase === "ended" && webCallee.state.reason, "hangup");

    // web → docs, with an ICE restart the web caller makes and the docs callee answers
    const rings = listen(docs);
    await rings.attached.wait();
    const callerPc = webPeer(web);
    const callerChannel = openChannel(callerPc, true);
    const webCaller = await startCall(web.store, callerPc, { callerId: web.uid, calleeId: docs.uid }, { iceServers: async () => web.peerConfig().iceServers ?? [] });
    const answered = await docs.accept(await rings.waitForRinging(web.uid, webCaller.sessionId));
    await Promise.all([answered.connected.wait(30_000), answered.channelOpen.wait(30_000), webPhase(webCaller, "connected")]);
    const channel = await callerChannel;
    await talkWithWeb(answered, channel, "hello web caller");
    webCaller.restartIce();
    await waitFor("the docs callee's restart answer", async () => ((await generation(webCaller.sessionId, "callee")) === 1 ? true : undefined), 15_000);
    assert.deepEqual(answered.restarts, [1]);
    await talkWithWeb(answered, channel, "after the restart");
    await answered.hangUp("hangup");
    await webPhase(webCaller, "ended");
    assert.deepEqual(answered.skipped, []);
  });

  it("redials a callee it is still in a call with in one batch each time: the ringing call ends with cancel, the answered one with hangup, on both sides, with no refusal and no function", async () => {
    const [alice, bob] = [await docsApp(), await docsApp()];
    const incoming = listen(bob);
    await incoming.attached.wait();

    const first = await alice.call(bob.uid);
    await incoming.waitForRinging(alice.uid, first.sessionId);
    const redialledAt = Date.now();
    const second = await alice.call(bob.uid);
    assert.equal(await first.ended.wait(), "replaced by a redial to the same callee");
    await incoming.waitForSilence(first.sessionId);
    const answered = await bob.accept(await incoming.waitForRinging(alice.uid, second.sessionId));
    await talk(second, answered, "hello");

    const third = await alice.call(bob.uid);
    const calleeEnded = await answered.ended.wait();
    const endedAt = Date.now();
    assert.equal(calleeEnded, "the peer's candidates document is gone");
    assert.equal(await second.ended.wait(), "replaced by a redial to the same callee");
    const again = await bob.accept(await incoming.waitForRinging(alice.uid, third.sessionId));
    await talk(third, again, "hello again");

    // One batch per dial, none refused: no permission-denied, no read, no second batch.
    assert.deepEqual(alice.dials.map((dial) => [dial.sessionId, dial.outcome, dial.ends.map((end) => `${end.sessionId}:${end.reason}`)]), [
      [first.sessionId, "committed", []],
      [second.sessionId, "committed", [`${first.sessionId}:cancel`]],
      [third.sessionId, "committed", [`${second.sessionId}:hangup`]],
    ]);
    for (const [old, reason] of [[first.sessionId, "cancel"], [second.sessionId, "hangup"]] as const) {
      const ended = await session(old);
      assert.deepEqual([(ended.end_request as { by: string }).by, (ended.end_request as { reason: string }).reason, ended.status], ["caller", reason, "pending"]);
      await waitFor(`the candidates documents of ${old} to be gone (no function runs)`, async () => ((await exists(old, "caller")) || (await exists(old, "callee")) ? undefined : true), 10_000);
    }
    const limits = (await suite.admin.db.doc(`call_limits/${alice.uid}`).get()).data();
    assert.deepEqual(limits?.live, { [bob.uid]: third.sessionId });
    await third.hangUp("hangup");
    await again.ended.wait();
    console.log(`      redial of an answered call: the callee's call ended ${endedAt - redialledAt} ms after the first redial began (three dials, three batches)`);
  });

  it("refuses an eleventh dial within the minute on the device, naming the wait, and sends nothing", async () => {
    const [alice, bob] = [await docsApp(), await docsApp()];
    // Ten dials in a row to one callee: each a redial that ends the one before in its batch.
    for (let dial = 0; dial < 10; dial += 1) await alice.call(bob.uid);
    await assert.rejects(alice.call(bob.uid), (error: unknown) => {
      assert.ok(error instanceof DialRefused, String(error));
      assert.equal(error.cause, "too-many-calls-per-minute");
      const wait = Number(/try again in about (\d+) s/.exec(error.message)?.[1]);
      assert.ok(wait > 30 && wait <= 60, error.message);
      return true;
    });
    assert.deepEqual(alice.dials.map((dial) => dial.outcome), Array(10).fill("committed"), "ten batches, none refused, nothing sent for the eleventh");
    const limits = (await suite.admin.db.doc(`call_limits/${alice.uid}`).get()).data();
    assert.equal(Object.keys(limits?.recent as object).length, 10);
  });

  describe("TURN credentials through a Functions outage", () => {
    let functionsStack: EmulatorStack;
    let forward: TcpForward;

    before(async function () {
      this.timeout(120_000);
      // The apps reach the callable through a forward, whose closing is the outage.
      functionsStack = await (functionsStarting as Promise<EmulatorStack>);
      console.log(`      (the Auth and Functions emulators of this suite were ready ${((Date.now() - functionsStartedAt) / 1_000).toFixed(1)} s after they started, beside the calls above)`);
      forward = await startTcpForward({ listen: { host: LOOPBACK, port: await freePort() }, target: { host: LOOPBACK, port: functionsStack.ports.functions } });
    });
    after(async () => {
      await forward?.close();
    });

    it("fetches a credential once, relays a second call on it with the function unreachable (and a refresh due), and tells a client with nothing cached why it cannot call", async () => {
      let skewMs = 0;
      const clock = () => Date.now() + skewMs;
      const viaForward = { host: LOOPBACK, port: forward.port };
      const start = async () => track(await DocsApp.start(config(viaForward, suite.stack.ports.firestore, functionsStack.ports.auth, clock)));
      const [alice, bob] = [await start(), await start()];
      const incoming = listen(bob);
      await incoming.attached.wait();

      const first = await alice.call(bob.uid);
      const firstAnswer = await bob.accept(await incoming.waitForRinging(alice.uid, first.sessionId));
      await talk(first, firstAnswer, "with Functions up");
      await first.hangUp("hangup");
      await firstAnswer.ended.wait();
      assert.deepEqual([alice.credentials.fetches, bob.credentials.fetches], [1, 1]);
      const credential = await alice.credentials.get();
      assert.match(credential.username, new RegExp(`^\\d+:${alice.uid}$`));

      // The outage: nothing listens on the callable's port any more.
      await forward.close();
      // 56 minutes on: a refresh is due (less than a fifth of the hour, at most 5 min, is left), the credential still good.
      skewMs = 56 * 60_000;
      const second = await alice.call(bob.uid);
      const secondAnswer = await bob.accept(await incoming.waitForRinging(alice.uid, second.sessionId));
      await talk(second, secondAnswer, "with Functions down");
      assert.deepEqual([alice.credentials.fetches, bob.credentials.fetches], [2, 2], "each side tried the callable once more and fell back");
      assert.equal((await alice.credentials.get()).username, credential.username, "the cached credential");
      await second.hangUp("hangup");
      await secondAnswer.ended.wait();

      const fresh = await start();
      await assert.rejects(fresh.call(bob.uid), (error: unknown) => error instanceof CredentialsUnavailable && /getTurnCredentials could not be reached/.test(error.message) && !(error instanceof DialRefused));
    });
  });
});
