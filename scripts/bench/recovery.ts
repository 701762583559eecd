// Part of section 4 of `npm run bench` (calls): how long a relay-only call takes to carry data
// again after its path breaks, beside a fresh call's answer → connected measured in the same run.
// Two breaks: coturn restarted (every allocation lost; web client on @roamhq/wrtc in this
// process), and one client's address changed (a phone process in a network namespace this run
// makes, whose network monitor tells its call, as Android's NetworkCallback would). All traffic
// stays on loopback and inside the namespace. Figures only.
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { createNetworkNamespace, type NetworkNamespace } from "@webrtc-lite/dev-stack/netns";
import { Phone, type PhoneReport } from "@webrtc-lite/dev-stack/phone";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { connectCall, nowMs, signInCallUser, type CallUser } from "@webrtc-lite/dev-stack/web-calls";
import { signalingStackOrSkip } from "./signaling";
import { fmt, median, percentile } from "./stats";

/** Samples per kind of break; BENCH_RECOVERY_SAMPLES overrides it. */
const SAMPLES = Math.max(10, Number(process.env.BENCH_RECOVERY_SAMPLES ?? 10) || 10);
const WAIT_MS = 40_000;
/** How long coturn stays down in the restart case. */
const OUTAGE_MS = 1_000;
/** How often each side of the phone call sends a stamped message. */
const TICK_MS = 50;

interface Series {
  fresh: number[];
  /** From the break to data arriving on both sides again. */
  recovery: number[];
  /** From the moment a side showed `reconnecting` (the detection) to data both ways. */
  afterDetection: number[];
  failures: string[];
}

function row(label: string, values: number[], baseline?: number[]): string {
  if (values.length === 0) return `   ${label.padEnd(46)} no sample`;
  const cells = `${label.padEnd(46)} median ${fmt(median(values), 0).padStart(6)} ms   p90 ${fmt(percentile(values, 90), 0).padStart(6)} ms   (${values.length})`;
  return baseline && baseline.length > 0 ? `   ${cells}   ${fmt(median(values) / median(baseline), 2)}x a fresh connect` : `   ${cells}`;
}

async function coturnRestarts(users: CallUser[], coturn: TestCoturn): Promise<Series> {
  const series: Series = { fresh: [], recovery: [], afterDetection: [], failures: [] };
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    const [caller, callee] = sample % 2 === 0 ? users : [users[1], users[0]];
    try {
      const pair = await connectCall(caller, callee);
      try {
        series.fresh.push(pair.times.connected - pair.times.answerStart);
        pair.outgoing.startTicking();
        pair.incoming.startTicking();
        await Promise.all([pair.outgoing.tickAfter(pair.times.connected, 10_000), pair.incoming.tickAfter(pair.times.connected, 10_000)]);
        const broken = nowMs();
        await coturn.halt();
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        await coturn.restart();
        const flowing = Math.max(...(await Promise.all([pair.outgoing.tickAfter(broken + OUTAGE_MS, WAIT_MS), pair.incoming.tickAfter(broken + OUTAGE_MS, WAIT_MS)])));
        series.recovery.push(flowing - broken);
        const detected = [pair.outgoing, pair.incoming].flatMap((side) => side.phases.filter((entry) => entry.phase === "reconnecting" && entry.at >= broken).map((entry) => entry.at));
        if (detected.length > 0) series.afterDetection.push(flowing - Math.min(...detected));
        await pair.outgoing.call.hangUp();
        await pair.incoming.phaseAfter("ended", 0, 10_000);
      } finally {
        pair.outgoing.close();
        pair.incoming.close();
      }
    } catch (error) {
      series.failures.push(`coturn restart ${sample}: ${(error as Error).message}`);
    }
  }
  return series;
}

async function addressChanges(ports: { auth: number; firestore: number }, coturn: TestCoturn, ns: NetworkNamespace, secret: string): Promise<Series> {
  const series: Series = { fresh: [], recovery: [], afterDetection: [], failures: [] };
  const phone = await Phone.start(ns, "phone in the namespace");
  const local = Phone.local("client on loopback");
  try {
    const [phoneUid, localUid] = await Promise.all([
      phone.signIn({ projectId: PROJECT_ID, auth: { host: ns.hostAddress, port: ports.auth }, firestore: { host: ns.hostAddress, port: ports.firestore }, restartStreamsOnNetworkChange: true }),
      local.signIn({ projectId: PROJECT_ID, auth: { host: "127.0.0.1", port: ports.auth }, firestore: { host: "127.0.0.1", port: ports.firestore } }),
    ]);
    const rtc = (uid: string, host: string) => {
      const { username, credential } = mintTurnCredential(secret, uid, 3_600, Date.now());
      return { iceServers: [{ urls: [`turn:${host}:${coturn.port}?transport=udp`], username, credential }], iceTransportPolicy: "relay" as const };
    };
    const sides = [phone, local];
    for (let sample = 0; sample < SAMPLES; sample += 1) {
      const since = Date.now();
      try {
        const answered = local.answer({ rtc: rtc(localUid, "127.0.0.1") }, WAIT_MS);
        // Awaited below; a refusal that comes first must not end the run as an unhandled rejection.
        answered.catch(() => undefined);
        const answerStart = Date.now();
        await phone.call(localUid, { rtc: rtc(phoneUid, ns.hostAddress) });
        await answered;
        const connected = await Promise.all(sides.map((side) => side.waitForEvent("connected", (event) => event.at >= since && event.type === "state" && event.phase === "connected", WAIT_MS)));
        await Promise.all(sides.map((side) => side.waitForEvent("the data channel", (event) => event.at >= since && event.type === "channel" && event.state === "open", WAIT_MS)));
        series.fresh.push(Math.max(...connected.map((event) => event.at)) - answerStart);
        let sequence = 0;
        const tick = setInterval(() => {
          for (const side of sides) void side.send(`${Date.now()} ${sequence++}`).catch(() => undefined);
        }, TICK_MS);
        try {
          const change = await ns.changeAddress();
          const sentAfter = (event: PhoneReport): boolean => event.type === "message" && Number(event.text.split(" ")[0]) > change.removedAt;
          const arrivals = await Promise.all(sides.map((side) => side.waitForEvent("data after the change", sentAfter, WAIT_MS)));
          const flowing = Math.max(...arrivals.map((event) => event.at));
          series.recovery.push(flowing - change.removedAt);
          const detected = sides.flatMap((side) => side.events.filter((event) => event.at >= change.removedAt && event.type === "state" && event.phase === "reconnecting").map((event) => event.at));
          if (detected.length > 0) series.afterDetection.push(flowing - Math.min(...detected));
        } finally {
          clearInterval(tick);
        }
        await phone.hangUp();
        await local.waitForEvent("the end", (event) => event.at >= since && event.type === "state" && event.phase === "ended", WAIT_MS);
      } catch (error) {
        series.failures.push(`address change ${sample}: ${(error as Error).message.slice(0, 300)}`);
        await phone.hangUp().catch(() => undefined);
      }
    }
  } finally {
    await Promise.all([phone.close(), local.close()]);
  }
  return series;
}

/** Calls set up at once, for the load series. */
const AT_ONCE = [1, 5, 10, 20];

/** Answer → both connected of K relay-only calls set up at the same moment, each between two fresh users. */
async function atOnce(network: Parameters<typeof signInCallUser>[0]): Promise<void> {
  console.log("\n   K relay-only calls set up at once (fresh users, one coturn): answer → both connected");
  for (const k of AT_ONCE) {
    const users = await Promise.all(Array.from({ length: 2 * k }, () => signInCallUser(network)));
    try {
      const results = await Promise.allSettled(Array.from({ length: k }, (_, index) => connectCall(users[2 * index], users[2 * index + 1], {}, 60_000)));
      const pairs = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
      const setup = pairs.map((pair) => pair.times.connected - pair.times.answerStart);
      console.log(`   K = ${String(k).padStart(2)}: ${pairs.length} of ${k} connected; median ${fmt(median(setup), 0)} ms, max ${fmt(Math.max(...setup), 0)} ms`);
      for (const result of results) if (result.status === "rejected") console.log(`   failed: ${(result.reason as Error).message.slice(0, 200)}`);
      await Promise.all(pairs.map(async (pair) => {
        await pair.outgoing.call.hangUp().catch(() => undefined);
        pair.outgoing.close();
        pair.incoming.close();
      }));
    } finally {
      await Promise.all(users.map((user) => user.close()));
    }
  }
}

function print(title: string, series: Series): void {
  console.log(`\n   ${title}`);
  console.log(row("fresh call: answer → both connected", series.fresh));
  console.log(row("break → data both ways again", series.recovery, series.fresh));
  console.log(row("detected (reconnecting) → data both ways", series.afterDetection, series.fresh));
  const goal = 2_000 + 1.5 * median(series.fresh);
  if (series.afterDetection.length > 0) {
    console.log(`   ${"".padEnd(46)} goal ≤ 2 s + 1.5x a fresh connect = ${fmt(goal, 0)} ms: ${median(series.afterDetection) <= goal ? "met" : "missed"}`);
  }
  for (const failure of series.failures) console.log(`   failed: ${failure}`);
}

/** The recovery series: coturn restarted under a call, then one client's address changed. */
export async function recovery(): Promise<void> {
  console.log(`\n   C. Recovery of a relay-only call whose path breaks (ICE restart through Firestore; ${SAMPLES} samples per kind, no Functions emulator)`);
  const stack = await signalingStackOrSkip();
  if (!stack) return;
  const secret = newSecret();
  let ns: NetworkNamespace | undefined;
  let coturn: TestCoturn | undefined;
  const users: CallUser[] = [];
  try {
    if (process.getuid?.() === 0) ns = await createNetworkNamespace();
    coturn = await startCoturn([secret], { relayBetweenLocalClients: true, relayPortCount: 1_000, quotas: { user: 12, total: 3_000 }, extraListeningIps: ns ? [ns.hostAddress] : [] });
    const turn = coturn;
    for (let index = 0; index < 2; index += 1) users.push(await signInCallUser({ ports: stack.ports, turn: { secret, uris: () => turn.uris() } }));
    print("coturn restarted under the call (1 s down, every allocation lost):", await coturnRestarts(users, coturn));
    await atOnce({ ports: stack.ports, turn: { secret, uris: () => turn.uris() } });
    if (ns) {
      await Promise.all([ns.forwardToLoopback(stack.ports.auth), ns.forwardToLoopback(stack.ports.firestore)]);
      print("one client's address changed (network namespace; its network monitor restarts ICE at once):", await addressChanges(stack.ports, coturn, ns, secret));
    } else {
      console.log("   address change: SKIPPED (making a network namespace needs root)");
    }
  } finally {
    await Promise.all(users.map((user) => user.close()));
    await coturn?.stop();
    await ns?.destroy();
    await stack.stop();
  }
}
