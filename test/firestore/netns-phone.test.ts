import { strict as assert } from "node:assert";
import { chromium } from "playwright-core";
import { candidatesPath } from "@webrtc-lite/contract";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { useNetworkNamespace } from "@webrtc-lite/dev-stack/netns";
import { prefixesOverlap } from "@webrtc-lite/dev-stack/netns-subnets";
import { Phone, type PhoneReport, type PhoneRtcConfiguration } from "@webrtc-lite/dev-stack/phone";
import { useSharedSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../helpers/chromium";

/** How often each side sends a numbered message while the test watches the path. */
const TICK_MS = 200;
/** How long the call may take to carry data again after the address changed (the recovery window is 30 s). */
const RECOVERY_TIMEOUT_MS = 30_000;

/**
 * The plumbing for calls whose network changes under them: a phone in a network namespace the
 * test made (its only neighbour the root end of a veth pair) calls a libwebrtc client in the
 * test process on loopback, relay only, through a coturn that listens on 127.0.0.1 and on the
 * veth's root end and relays on 127.0.0.1. The emulators are reached through TCP forwards on
 * the root end. No traffic leaves loopback and the namespace.
 */
describe("a phone in a network namespace calls a libwebrtc client on loopback through coturn, relay only", function () {
  this.timeout(120_000);
  const secret = newSecret();
  let coturn: TestCoturn | undefined;
  let phone: Phone | undefined;
  let local: Phone | undefined;
  // Registered first, so it runs first: the phones hang up while the emulators still run.
  after(async () => {
    await Promise.all([phone?.close(), local?.close()]);
    await coturn?.stop();
  });
  const suite = useSharedSignalingStack(["auth", "firestore"]);
  const namespace = useNetworkNamespace();
  let phoneUid: string;
  let localUid: string;
  let callSessionId: string | undefined;

  const rtc = (uid: string, host: string): PhoneRtcConfiguration => {
    const { username, credential } = mintTurnCredential(secret, uid, 3_600, Date.now());
    return { iceServers: [{ urls: [`turn:${host}:${coturn!.port}?transport=udp`], username, credential }], iceTransportPolicy: "relay" };
  };

  before(async () => {
    const ns = namespace();
    coturn = await startCoturn([secret], { relayBetweenLocalClients: true, extraListeningIps: [ns.hostAddress] });
    const { auth, firestore } = suite.stack.ports;
    await Promise.all([ns.forwardToLoopback(auth), ns.forwardToLoopback(firestore)]);
    phone = await Phone.start(ns, "phone in the namespace");
    local = Phone.local("client on loopback");
    [phoneUid, localUid] = await Promise.all([
      phone.signIn({ projectId: PROJECT_ID, auth: { host: ns.hostAddress, port: auth }, firestore: { host: ns.hostAddress, port: firestore }, restartStreamsOnNetworkChange: true }),
      local.signIn({ projectId: PROJECT_ID, auth: { host: "127.0.0.1", port: auth }, firestore: { host: "127.0.0.1", port: firestore } }),
    ]);
  });

  it("has no route out of the namespace but to the veth's root end", async () => {
    const ns = namespace();
    for (const route of await ns.routes()) {
      const inside = route.dev === "lo" || prefixesOverlap(route.dst, ns.subnet);
      assert.ok(inside, `route ${JSON.stringify(route)} leads out of ${ns.subnet}`);
    }
    assert.equal(await ns.hasRouteTo(ns.hostAddress), true);
    for (const outside of ["192.0.2.1", "10.0.0.1", "172.16.0.1", "192.168.0.1", "8.8.8.8"]) {
      assert.equal(await ns.hasRouteTo(outside), false, `the namespace has a route to ${outside}`);
    }
  });

  it("connects relay to relay and carries data-channel messages both ways", async () => {
    const ns = namespace();
    const answered = local!.answer({ rtc: rtc(localUid, "127.0.0.1") }, 30_000);
    await phone!.call(localUid, { rtc: rtc(phoneUid, ns.hostAddress) });
    const { callerId, sessionId } = await answered;
    assert.equal(callerId, phoneUid);
    callSessionId = sessionId;
    for (const side of [phone!, local!]) {
      await side.waitForEvent("the call connected", (event) => event.type === "state" && event.phase === "connected", 30_000);
      await side.waitForEvent("the data channel open", (event) => event.type === "channel" && event.state === "open", 30_000);
    }
    await phone!.send("from the namespace");
    await local!.waitForEvent("the phone's message", (event) => event.type === "message" && event.text === "from the namespace", 10_000);
    await local!.send("from loopback");
    await phone!.waitForEvent("the loopback client's message", (event) => event.type === "message" && event.text === "from loopback", 10_000);

    // Relay to relay, both relays on coturn's loopback address: the phone's only traffic is to coturn on the root end.
    const pair = await phone!.stats();
    assert.deepEqual([pair?.local.candidateType, pair?.local.address, pair?.remote.candidateType, pair?.remote.address], ["relay", "127.0.0.1", "relay", "127.0.0.1"]);
    const counters = await ns.counters();
    assert.ok(counters.txPackets > 0 && counters.rxPackets > 0, `the namespace end carried the call: ${JSON.stringify(counters)}`);
  });

  it("runs Chromium inside too: it loads a page through a forward and gathers a relay candidate through coturn on the root end", async () => {
    const ns = namespace();
    const browser = await chromium.launch({ executablePath: await ns.wrapperFor(CHROMIUM_PATH), headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const response = await page.goto(`http://${ns.hostAddress}:${suite.stack.ports.auth}/`);
      assert.equal(response?.status(), 200);
      const { iceServers } = rtc("chromium", ns.hostAddress);
      const candidates = await page.evaluate(async (servers) => {
        const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: "relay" });
        pc.createDataChannel("probe");
        const gathered: string[] = [];
        await new Promise<void>((resolve) => {
          pc.addEventListener("icecandidate", (event) => (event.candidate ? gathered.push(event.candidate.candidate) : resolve()));
          void pc.createOffer().then((offer) => pc.setLocalDescription(offer));
        });
        pc.close();
        return gathered;
      }, iceServers);
      assert.ok(candidates.some((candidate) => / 127\.0\.0\.1 \d+ typ relay /.test(candidate)), `no relay candidate on coturn's loopback address: ${JSON.stringify(candidates)}`);
    } finally {
      await browser.close();
    }
  });

  it("after the phone's address changes mid-call, restarts ICE through Firestore alone and carries data both ways again", async () => {
    const ns = namespace();
    const sides = [
      { name: "phone", phone: phone! },
      { name: "loopback client", phone: local! },
    ];
    let sequence = 0;
    const tick = setInterval(() => {
      // The text carries its send time; a send fails once the channel has closed.
      for (const side of sides) void side.phone.send(`${side.name} ${Date.now()} ${sequence++}`).catch(() => undefined);
    }, TICK_MS);
    try {
      const start = Date.now();
      for (const side of sides) await side.phone.waitForEvent("a message before the change", (event) => event.type === "message" && event.at > start, 10_000);
      const change = await ns.changeAddress();
      const after = (event: PhoneReport): boolean => event.at >= change.removedAt;
      const sentAfter = (event: PhoneReport): boolean => event.type === "message" && Number(event.text.split(" ").at(-2)) > change.removedAt;
      const back: number[] = [];
      try {
        for (const side of sides) back.push((await side.phone.waitForEvent("a message sent after the change", sentAfter, RECOVERY_TIMEOUT_MS)).at);
      } finally {
        console.log(`   address ${change.from} → ${change.to}; ms after the old address went:\n${sides.map((side) => describeTimeline(side.name, side.phone.events.filter(after), change.removedAt)).join("\n")}`);
      }
      const recovery = Math.max(...back) - change.removedAt;
      console.log(`   address change → data both ways again: ${recovery} ms`);
      for (const side of sides) {
        const ended = side.phone.events.some((event) => after(event) && event.type === "state" && event.phase === "ended");
        assert.equal(ended, false, `the ${side.name}'s call ended`);
      }
      const generations = await Promise.all(
        (["caller", "callee"] as const).map(async (role) => (await suite.admin.db.doc(candidatesPath(callSessionId!, role)).get()).get("generation") as number | undefined),
      );
      assert.ok((generations[0] ?? 0) >= 1 && generations[0] === generations[1], `both sides moved to a new ICE generation: ${JSON.stringify(generations)}`);
    } finally {
      clearInterval(tick);
    }
  });
});

/** One side's ICE, call, data-channel and address changes after `origin`, one line each, and how many messages arrived. */
function describeTimeline(name: string, events: PhoneReport[], origin: number): string {
  const lines: string[] = [];
  let lastStates = "";
  for (const event of events) {
    const time = `${event.at - origin} ms`;
    if (event.type === "ice") {
      // libwebrtc fires both change events for most changes, and at times reads the states late: one line per pair read.
      const states = `ICE ${event.iceConnectionState}, connection ${event.connectionState}`;
      if (states !== lastStates) lines.push(`${time}  ${states}`);
      lastStates = states;
    } else if (event.type === "state") {
      lines.push(`${time}  call ${event.phase}${event.reason ? ` (${event.reason}${event.error ? `: ${event.error}` : ""})` : ""}`);
    } else if (event.type === "channel") {
      lines.push(`${time}  data channel ${event.state}`);
    } else if (event.type === "network") {
      const restarted = event.restartedAt === undefined ? "could not be restarted" : `restarted after ${event.restartedAt - event.at} ms`;
      lines.push(`${time}  addresses now ${event.addresses.join(", ") || "none"}; Firestore's streams ${restarted}`);
    }
  }
  lines.push(`${events.filter((event) => event.type === "message").length} messages arrived`);
  return `   ${name}:\n${lines.map((line) => `     ${line}`).join("\n")}`;
}
