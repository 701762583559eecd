import type { TurnCredentials } from "@webrtc-lite/client";
import {
  candidateRow,
  connectedVerdict,
  credentialsFailureSentence,
  median,
  noRelaySentence,
  notConnectedSentence,
  signInFailureSentence,
  type CandidateError,
  type CandidateRow,
  type SelectedPair,
} from "./diagnosis";
import { selectedCandidatePair } from "./stats";

/** How long the self-test waits for each ICE milestone before it gives its verdict. */
export const RELAY_TIMEOUT_MS = 10_000;
/** See `RELAY_TIMEOUT_MS`. */
export const CONNECT_TIMEOUT_MS = 15_000;
const PINGS = 5;

/** Milliseconds per phase; "ICE" phases count from the start of gathering, totals from the click. */
export interface SelfTestTimings {
  signInMs?: number;
  credentialsMs?: number;
  iceRelayCandidateMs?: number;
  iceConnectedMs?: number;
  totalRelayCandidateMs?: number;
  totalConnectedMs?: number;
  rttMs?: number;
}

/** The outcome of one self-test run. */
export interface SelfTestResult {
  pass: boolean;
  verdict: string;
  timings: SelfTestTimings;
  candidates: CandidateRow[];
  selectedPair?: SelectedPair;
}

/** What the self-test needs from Firebase; the page passes real SDK calls. */
export interface SelfTestServices {
  /** Signs in and returns the uid. */
  signIn(): Promise<string>;
  getCredentials(): Promise<TurnCredentials>;
}

/** Progress the page shows while the test runs. */
export interface SelfTestProgress {
  step(text: string): void;
  candidate(row: CandidateRow): void;
}

class SelfTestFailure extends Error {}

/**
 * Signs in, fetches TURN credentials, and connects two peer connections in this page to each
 * other through the relay only (`iceTransportPolicy: "relay"`), then measures the data
 * channel's round-trip time. Every failure ends as a verdict sentence, never as a throw.
 */
export async function runSelfTest(services: SelfTestServices, progress: SelfTestProgress): Promise<SelfTestResult> {
  const timings: SelfTestTimings = {};
  const candidates: CandidateRow[] = [];
  const startedAt = performance.now();
  const since = (mark: number): number => Math.round((performance.now() - mark) * 10) / 10;
  const peers: RTCPeerConnection[] = [];
  try {
    const uid = await phase(() => services.signIn(), signInFailureSentence);
    timings.signInMs = since(startedAt);
    progress.step(`Signed in anonymously as ${uid} (${timings.signInMs} ms).`);

    const credentialsStart = performance.now();
    const credentials = await phase(() => services.getCredentials(), credentialsFailureSentence);
    timings.credentialsMs = since(credentialsStart);
    progress.step(
      `Got TURN credentials for ${credentials.uris.join(", ")}, valid ${credentials.ttl} s (${timings.credentialsMs} ms).`,
    );

    const iceStart = performance.now();
    const config: RTCConfiguration = { iceServers: credentials.iceServers, iceTransportPolicy: "relay" };
    const a = new RTCPeerConnection(config);
    const b = new RTCPeerConnection(config);
    peers.push(a, b);
    const errors: CandidateError[] = [];
    let firstRelay: (() => void) | undefined;
    const relaySeen = new Promise<void>((resolve) => (firstRelay = resolve));
    const gatheringDone = Promise.all([a, b].map(gatheringComplete));
    const wire = (peer: "A" | "B", from: RTCPeerConnection, to: RTCPeerConnection): void => {
      from.addEventListener("icecandidate", (event) => {
        if (!event.candidate) return;
        const row = candidateRow(peer, event.candidate, since(iceStart));
        candidates.push(row);
        progress.candidate(row);
        if (row.type === "relay") firstRelay?.();
        to.addIceCandidate(event.candidate).catch(() => undefined);
      });
      from.addEventListener("icecandidateerror", (event) => errors.push({ errorCode: event.errorCode, url: event.url }));
    };
    wire("A", a, b);
    wire("B", b, a);

    const channel = a.createDataChannel("selftest");
    b.addEventListener("datachannel", (event) => {
      event.channel.addEventListener("message", (message) => event.channel.send(message.data as string));
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);

    const gathered = await within(
      Promise.race([relaySeen.then(() => "relay" as const), gatheringDone.then(() => "complete" as const)]),
      RELAY_TIMEOUT_MS,
      () => "timeout" as const,
    );
    if (gathered !== "relay") {
      throw new SelfTestFailure(
        noRelaySentence({ turnUris: credentials.uris, errors, complete: gathered === "complete", timeoutMs: RELAY_TIMEOUT_MS }),
      );
    }
    timings.iceRelayCandidateMs = candidates.find((row) => row.type === "relay")!.ms;
    timings.totalRelayCandidateMs = Math.round((iceStart - startedAt + timings.iceRelayCandidateMs) * 10) / 10;
    progress.step(`First relay candidate after ${timings.iceRelayCandidateMs} ms of ICE.`);

    const state = await within(connected(a), CONNECT_TIMEOUT_MS, () => a.connectionState);
    if (state !== "connected") throw new SelfTestFailure(notConnectedSentence(state, CONNECT_TIMEOUT_MS));
    timings.iceConnectedMs = since(iceStart);
    timings.totalConnectedMs = since(startedAt);
    progress.step(`Connected after ${timings.iceConnectedMs} ms of ICE.`);

    await within(opened(channel), CONNECT_TIMEOUT_MS, () => {
      throw new SelfTestFailure(`The peers connected but the data channel did not open within ${CONNECT_TIMEOUT_MS / 1000} s.`);
    });
    const samples: number[] = [];
    for (let ping = 0; ping < PINGS; ping += 1) samples.push(await roundTrip(channel, ping));
    timings.rttMs = Math.round(median(samples) * 100) / 100;
    progress.step(`Data channel round-trip time ${timings.rttMs} ms (median of ${PINGS}).`);

    const selectedPair = await selectedCandidatePair(a);
    const verdict = connectedVerdict(selectedPair, timings.rttMs);
    return { pass: verdict.pass, verdict: verdict.sentence, timings, candidates, ...(selectedPair ? { selectedPair } : {}) };
  } catch (error) {
    const verdict = error instanceof SelfTestFailure ? error.message : `The self-test stopped unexpectedly: ${String(error)}`;
    return { pass: false, verdict, timings, candidates };
  } finally {
    peers.forEach((peer) => peer.close());
  }
}

async function phase<T>(action: () => Promise<T>, describe: (error: unknown) => string): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new SelfTestFailure(describe(error));
  }
}

/** `promise`'s value, or `onTimeout`'s once `ms` have passed first. */
async function within<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  try {
    const first = await Promise.race([promise.then((value) => ({ value })), late]);
    return first === "late" ? onTimeout() : first.value;
  } finally {
    clearTimeout(timer);
  }
}

function gatheringComplete(peer: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (peer.iceGatheringState === "complete") resolve();
    };
    peer.addEventListener("icegatheringstatechange", check);
    check();
  });
}

function connected(peer: RTCPeerConnection): Promise<RTCPeerConnectionState> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (peer.connectionState === "connected" || peer.connectionState === "failed") resolve(peer.connectionState);
    };
    peer.addEventListener("connectionstatechange", check);
    check();
  });
}

function opened(channel: RTCDataChannel): Promise<void> {
  if (channel.readyState === "open") return Promise.resolve();
  return new Promise((resolve) => channel.addEventListener("open", () => resolve(), { once: true }));
}

function roundTrip(channel: RTCDataChannel, sequence: number): Promise<number> {
  return new Promise((resolve) => {
    const sentAt = performance.now();
    const onMessage = (event: MessageEvent): void => {
      if (event.data !== `ping ${sequence}`) return;
      channel.removeEventListener("message", onMessage);
      resolve(performance.now() - sentAt);
    };
    channel.addEventListener("message", onMessage);
    channel.send(`ping ${sequence}`);
  });
}
