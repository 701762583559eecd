// Section 4 of `npm run bench`: how long a call takes to ring, connect and end through the
// emulators, side by side with a bare write→listen baseline measured on the same emulator in
// the same run. Caller and callee run in this process (one monotonic clock), each with its own
// Firebase app (its own Listen stream) and a libwebrtc peer connection (@roamhq/wrtc), relay
// only, through a coturn on 127.0.0.1 (loopback traffic only). Figures only: nothing here
// passes or fails on timing.
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { type Role, CALL_LIMITS } from "@webrtc-lite/contract";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { PROJECT_ID, type EmulatorName } from "@webrtc-lite/dev-stack/emulators";
import { StreamFailureWatch, captureFrameContexts, describeStreamFailure, frameContexts } from "@webrtc-lite/dev-stack/listen-stream";
import { startSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { firestoreEmulatorEnv } from "@webrtc-lite/dev-stack/firestore-emulator";
import { startBaseline, type BaselineSample } from "./baseline";
import { signInClient } from "./clients";
import { startLimitsCost, type LimitsCostSample } from "./limits-cost";
import { RTCPeerConnection as WrtcPeerConnection } from "@roamhq/wrtc";
import { CallPair, type CallTimes, type PeerConfig } from "./web-call";
import { recovery } from "./recovery";
import { fmt, median, percentile } from "./stats";

/** Warm calls per series (each preceded by one baseline sample); BENCH_CALLS overrides it. */
const WARM_CALLS = Math.max(10, Number(process.env.BENCH_CALLS ?? 12) || 12);
const WAIT_MS = 20_000;

/** The figures of one call, in milliseconds. */
interface CallFigures {
  dialToRing: number;
  answerToConnected: number;
  hangUpToOther: number;
}

function figures(times: CallTimes): CallFigures {
  return {
    dialToRing: times.ringing - times.dialStart,
    answerToConnected: Math.max(times.callerConnected, times.calleeConnected) - times.answerStart,
    hangUpToOther: times.otherEnded - times.hangUpStart,
  };
}

/** What one series measured. */
interface SeriesResult {
  title: string;
  cold: { call?: CallFigures; baseline?: BaselineSample; limits?: LimitsCostSample };
  calls: CallFigures[];
  baselines: BaselineSample[];
  /** The dial batch with and without the caller's limits, one pair per warm call. */
  limits: LimitsCostSample[];
  failures: string[];
  warnings: string[];
  streamFailures: number;
  attempted: number;
}

async function measureSeries(title: string, emulators: EmulatorName[], peerConfig: PeerConfig): Promise<SeriesResult> {
  const result: SeriesResult = { title, cold: {}, calls: [], baselines: [], limits: [], failures: [], warnings: [], streamFailures: 0, attempted: 0 };
  // Interrupted (Ctrl-C, SIGTERM), the emulators and coturn are killed by test/helpers/processes.ts.
  const stack = await startSignalingStack(emulators);
  const closers: Array<() => Promise<void> | void> = [];
  try {
    // A caller may start CALL_LIMITS.callsPerMinute calls a minute: enough callers take turns
    // that none of them starts more in the whole series, its own warm-up call included.
    const callers = await Promise.all(
      Array.from({ length: Math.ceil((WARM_CALLS + 1) / (CALL_LIMITS.callsPerMinute - 1)) }, () => signInClient(stack.ports, PROJECT_ID)),
    );
    const callee = await signInClient(stack.ports, PROJECT_ID);
    closers.push(...callers.map((caller) => () => caller.close()), () => callee.close());
    const baseline = await startBaseline(stack.ports, WAIT_MS, await sampleOffer(peerConfig));
    closers.push(() => baseline.close());
    const limitsCost = await startLimitsCost(stack.ports, WAIT_MS, await sampleOffer(peerConfig));
    closers.push(() => limitsCost.close());
    // The first rules evaluation in each project is a cold one.
    result.cold.limits = await limitsCost.sample();
    const pair = new CallPair(callers, callee, peerConfig);
    closers.push(() => pair.close());
    const watch = new StreamFailureWatch({
      recover: [...callers.map((caller) => caller.db), callee.db],
      onFailure: (failure) => console.log(`   !!! ${describeStreamFailure(failure)}; reconnecting the clients`),
    });
    closers.push(() => watch.stop());

    const call = async (hangUpBy: Role): Promise<CallFigures | undefined> => {
      result.attempted += 1;
      const before = watch.failures.length;
      try {
        return figures(await pair.run(hangUpBy, WAIT_MS));
      } catch (error) {
        const during = watch.failures.length > before ? " (a stream failure came first)" : "";
        result.failures.push(`call ${result.attempted}: ${error instanceof Error ? error.message : String(error)}${during}`);
        return undefined;
      }
    };
    // Cold: the first call after the emulators started (the trigger's first event too), then the first baseline sample.
    result.cold.call = await call("caller");
    result.cold.baseline = await baseline.sample();
    // The other callers' first calls, unmeasured: each warm call is a warm client's.
    for (let i = 1; i < callers.length; i += 1) await call("caller");
    // Warm: interleaved, so that drift (GC, the other core, the trigger) hits both alike.
    for (let i = 0; i < WARM_CALLS; i += 1) {
      result.baselines.push(await baseline.sample());
      result.limits.push(await limitsCost.sample());
      const figures = await call(i % 2 === 0 ? "callee" : "caller");
      if (figures) result.calls.push(figures);
    }
    result.streamFailures = watch.failures.length;
    result.warnings = [...new Set(pair.warnings)];
  } finally {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    await stack.stop();
  }
  return result;
}

function printSeries(result: SeriesResult): void {
  const row = (label: string, cold: number | undefined, values: number[], ratioTo?: { label: string; values: number[] }): string => {
    const coldCell = cold === undefined ? "failed" : `${fmt(cold, 1)} ms`;
    const cells = `${label.padEnd(34)} cold ${coldCell.padStart(9)}   median ${fmt(median(values), 1).padStart(6)} ms   p90 ${fmt(percentile(values, 90), 1).padStart(6)} ms`;
    if (!ratioTo) return `   ${cells}`;
    const ratio = median(values) / median(ratioTo.values);
    return `   ${cells}   ${fmt(ratio, 2)}x ${ratioTo.label} (goal ≤ 1.5x)`;
  };
  const pick = <T, K extends keyof T>(items: T[], key: K) => items.map((item) => item[key] as number);
  const bareCreate = pick(result.baselines, "createToQuery");
  const bareCreateOffer = pick(result.baselines, "createOfferToQuery");
  const bareDelete = pick(result.baselines, "deleteToDocument");
  console.log(`\n   ${result.title}: ${result.calls.length} warm calls measured of ${WARM_CALLS}, after 1 cold call`);
  console.log(row("bare create → query listener", result.cold.baseline?.createToQuery, bareCreate));
  console.log(row("  the same, carrying the offer", result.cold.baseline?.createOfferToQuery, bareCreateOffer));
  console.log(row("bare delete → document listener", result.cold.baseline?.deleteToDocument, bareDelete));
  console.log(row("dial → ring (incoming calls)", result.cold.call?.dialToRing, pick(result.calls, "dialToRing"), { label: "bare create→query", values: bareCreate }));
  const ringVsOffer = median(pick(result.calls, "dialToRing")) / median(bareCreateOffer);
  console.log(`   ${"".padEnd(34)} ${"".padEnd(61)}   ${fmt(ringVsOffer, 2)}x bare create carrying the offer`);
  const withoutLimits = pick(result.limits, "withoutLimits");
  const withLimits = pick(result.limits, "withLimits");
  console.log(row("dial batch → incoming calls, rules w/o limits", result.cold.limits?.withoutLimits, withoutLimits));
  console.log(row("  the same with the limits write", result.cold.limits?.withLimits, withLimits));
  console.log(`   ${"".padEnd(34)} ${"".padEnd(61)}   ${fmt(median(withLimits) / median(withoutLimits), 2)}x without limits (+${fmt(median(withLimits) - median(withoutLimits), 1)} ms)`);
  console.log(row("answer → both connected", result.cold.call?.answerToConnected, pick(result.calls, "answerToConnected")));
  console.log(row("hang-up → other side ended", result.cold.call?.hangUpToOther, pick(result.calls, "hangUpToOther"), { label: "bare delete→doc", values: bareDelete }));
  console.log(`   Listen/Write stream failures ("Received message larger than max"): ${result.streamFailures} in ${result.attempted} calls`);
  for (const failure of result.failures) console.log(`   failed: ${failure}`);
  for (const warning of result.warnings) console.log(`   client warning: ${warning}`);
  for (const context of frameContexts.splice(0)) console.log(`   refused frame header: ${JSON.stringify(context)}`);
}

/** An offer of the size the calls' creates carry: a data channel's, made by the same libwebrtc. */
async function sampleOffer(peerConfig: PeerConfig): Promise<string> {
  const pc = new WrtcPeerConnection(peerConfig("bench-offer"));
  try {
    pc.createDataChannel("bench");
    const offer = await pc.createOffer();
    return offer.sdp ?? "";
  } finally {
    pc.close();
  }
}

/** Runs section 4: one series with the Functions emulator running, one without. */
export async function callSetup(): Promise<void> {
  console.log("\n4. Call setup through the Auth + Firestore emulators vs a bare write→listen on the same emulator");
  const emulator = firestoreEmulatorEnv();
  if (!emulator.env) {
    console.log(`   SKIPPED: ${emulator.reason}, so the Firestore emulator cannot start`);
    return;
  }
  Object.assign(process.env, emulator.env);
  // BENCH_GRPC_DIAG=1 records the bytes around a refused gRPC frame header (test/helpers/listen-stream.ts).
  if (process.env.BENCH_GRPC_DIAG === "1") captureFrameContexts();
  console.log("   caller and callee: the client (@webrtc-lite/client: startCall, listenForCalls, hangUp) on @roamhq/wrtc in this process;");
  console.log("   ICE relay only (iceTransportPolicy relay) through coturn on 127.0.0.1; bare baseline: project demo-bench-baseline, allow-all rules");
  const secret = newSecret();
  const coturn: TestCoturn = await startCoturn([secret], { relayBetweenLocalClients: true });
  const peerConfig: PeerConfig = (uid) => {
    const { username, credential } = mintTurnCredential(secret, uid, 3_600, Date.now());
    return { iceServers: [{ urls: coturn.uris(), username, credential }], iceTransportPolicy: "relay" };
  };
  try {
    printSeries(await measureSeries("A. Functions emulator running (the trigger writes while calls happen)", ["auth", "firestore", "functions"], peerConfig));
    printSeries(await measureSeries("B. no Functions emulator (nothing but client writes)", ["auth", "firestore"], peerConfig));
  } finally {
    await coturn.stop();
  }
  await recovery();
}
