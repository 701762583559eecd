import { strict as assert } from "node:assert";
import { createSocket } from "node:dgram";
import { createServer, type Socket as NetSocket } from "node:net";
import { performance } from "node:perf_hooks";
import wrtc from "@roamhq/wrtc";
import { handleGetTurnCredentials } from "#functions/credentials/handler";
import { parseTurnHosts, pickTurnHost } from "#functions/credentials/hosts";
import type { TurnCredentials } from "@webrtc-lite/contract/credentials";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";

// Two coturn hosts on two loopback addresses, as two VMs of a fleet; the call's two users both
// have the first as their own host, so stopping it is losing "the user's primary".
const ADDRESSES = ["127.0.0.1", "127.0.0.2"] as const;
const CALLS_PER_CASE = 3;
const CONNECT_TIMEOUT_MS = 15_000;

interface CallOutcome {
  connectMs: number;
  /** The relayed address the caller's selected candidate pair uses: which host carried the call. */
  relayHost: string;
}

/**
 * A relay-only call between two libwebrtc peers in this process, each configured with exactly
 * the `iceServers` its credential returned; candidates trickle straight across. Resolves once
 * the data channel is open (ICE and DTLS done), with the time since the offer was started.
 */
async function relayOnlyCall(caller: TurnCredentials, callee: TurnCredentials): Promise<CallOutcome> {
  const a = new wrtc.RTCPeerConnection({ iceServers: caller.iceServers, iceTransportPolicy: "relay" });
  const b = new wrtc.RTCPeerConnection({ iceServers: callee.iceServers, iceTransportPolicy: "relay" });
  try {
    a.onicecandidate = ({ candidate }) => void (candidate && b.addIceCandidate(candidate));
    b.onicecandidate = ({ candidate }) => void (candidate && a.addIceCandidate(candidate));
    const started = performance.now();
    const channel = a.createDataChannel("failover");
    const open = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms (ICE ${a.iceConnectionState})`)), CONNECT_TIMEOUT_MS);
      channel.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
    await open;
    const connectMs = performance.now() - started;
    return { connectMs, relayHost: await selectedRelayAddress(a) };
  } finally {
    a.close();
    b.close();
  }
}

/** How long the stats may take to name the selected pair after the data channel opened. */
const SELECTED_PAIR_TIMEOUT_MS = 5_000;

/**
 * The address of the local relay candidate that the connection's transport selected. The data
 * channel can open before libwebrtc's stats mark the pair nominated and succeeded (seen under
 * load), so the transport's `selectedCandidatePairId` is read first, and the stats are asked
 * again until they name a pair.
 */
async function selectedRelayAddress(connection: RTCPeerConnection): Promise<string> {
  const deadline = performance.now() + SELECTED_PAIR_TIMEOUT_MS;
  for (;;) {
    const stats = [...(await connection.getStats()).values()] as Array<Record<string, unknown>>;
    const selectedId = stats.find((entry) => entry.type === "transport" && typeof entry.selectedCandidatePairId === "string")?.selectedCandidatePairId;
    const pair = stats.find((entry) => entry.type === "candidate-pair" && (entry.id === selectedId || (entry.nominated === true && entry.state === "succeeded")));
    const local = stats.find((entry) => entry.type === "local-candidate" && entry.id === pair?.localCandidateId);
    const address = local?.address ?? local?.ip;
    if (typeof address === "string") return address;
    if (performance.now() > deadline) {
      const pairs = stats.filter((entry) => entry.type === "candidate-pair").map((entry) => `${String(entry.state)}${entry.nominated ? " nominated" : ""}`);
      return `no selected relay pair in the stats ${SELECTED_PAIR_TIMEOUT_MS} ms after the channel opened (pairs: ${pairs.join(", ") || "none"})`;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Binds `address`:`port` over UDP and TCP and never answers: datagrams are dropped, connections accepted and left silent. */
async function swallowEverything(address: string, port: number): Promise<{ swallowed(): { datagrams: number; connections: number }; close(): Promise<void> }> {
  const counts = { datagrams: 0, connections: 0 };
  const udp = createSocket("udp4");
  udp.on("message", () => (counts.datagrams += 1));
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(port, address, () => resolve());
  });
  const held = new Set<NetSocket>();
  const tcp = createServer((socket) => {
    counts.connections += 1;
    held.add(socket);
    socket.on("error", () => held.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, address, () => resolve());
  });
  return {
    swallowed: () => ({ ...counts }),
    async close() {
      held.forEach((socket) => socket.destroy());
      await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), new Promise<void>((resolve) => tcp.close(() => resolve()))]);
    },
  };
}

const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;
const allocations = (coturn: TestCoturn): number => coturn.output().match(/ALLOCATE processed, success/g)?.length ?? 0;

describe("failover: a relay-only libwebrtc call with two TURN hosts configured and the users' own host stopped or silent", function () {
  this.timeout(90_000);
  const secret = newSecret();
  let fleet: TestCoturn[] = [];
  let turnUris = "";
  const uidsOnFirst: string[] = [];
  const bothUp: CallOutcome[] = [];
  const firstDown: CallOutcome[] = [];
  const firstSilent: CallOutcome[] = [];
  let allocationsPerCall = 0;

  before(async () => {
    fleet = await Promise.all(ADDRESSES.map((address) => startCoturn([secret], { relayBetweenLocalClients: true, address, relayPortCount: 200 })));
    turnUris = fleet.map((coturn) => coturn.uris().join(",")).join(";");
    const parsed = parseTurnHosts(turnUris);
    assert.ok(parsed.ok);
    // Two uids per call whose own host is the first (half of all uids are): fresh users per call,
    // because a closed peer's allocations hold its user-quota (12 per username) for a while.
    for (let index = 0; uidsOnFirst.length < 2 * 3 * CALLS_PER_CASE; index += 1) {
      if (pickTurnHost(parsed.hosts, `failover-user-${index}`).host === ADDRESSES[0]) uidsOnFirst.push(`failover-user-${index}`);
    }
  });
  after(async () => {
    await Promise.all(fleet.map((coturn) => coturn.stop()));
  });

  let nextUid = 0;
  const credentials = (): TurnCredentials[] =>
    uidsOnFirst.slice(nextUid, (nextUid += 2)).map((uid) =>
      handleGetTurnCredentials({ auth: { uid, token: {} } as never, app: undefined, data: { ttl: 600 } }, { secret, turnUris, stunUris: "", enforceAppCheck: false }),
    );

  // ICE allocates on both hosts at once and nominates whichever relay pair it finds working
  // first: with both up, a call may relay through either named host (the README says so).
  it("both hosts up: the call connects through one of the two hosts its credentials name", async () => {
    const before = fleet.map(allocations);
    for (let call = 0; call < CALLS_PER_CASE; call += 1) {
      const [caller, callee] = credentials();
      assert.ok(caller && callee);
      assert.deepEqual(caller.iceServers.slice(1).map((server) => server.urls), fleet.map((coturn) => coturn.uris()));
      bothUp.push(await relayOnlyCall(caller, callee));
    }
    allocationsPerCall = fleet.reduce((sum, coturn, index) => sum + allocations(coturn) - (before[index] ?? 0), 0) / CALLS_PER_CASE;
    for (const outcome of bothUp) assert.ok((ADDRESSES as readonly string[]).includes(outcome.relayHost), outcome.relayHost);
  });

  it("the users' own host stopped: credentials minted as usual connect through the fallback, with no retry", async () => {
    await fleet[0]?.halt();
    for (let call = 0; call < CALLS_PER_CASE; call += 1) {
      const [caller, callee] = credentials();
      assert.ok(caller && callee);
      firstDown.push(await relayOnlyCall(caller, callee));
    }
    assert.deepEqual(firstDown.map((outcome) => outcome.relayHost), firstDown.map(() => ADDRESSES[1]));
  });

  // A VM that is gone answers nothing (no ICMP, no RST): its port swallows every packet and
  // every connection, so libwebrtc's allocations there wait out their retransmissions.
  it("the users' own host silent, as a lost VM is: the call still connects through the fallback without waiting for it", async () => {
    const [own] = fleet;
    assert.ok(own);
    const silent = await swallowEverything(own.address, own.port);
    try {
      for (let call = 0; call < CALLS_PER_CASE; call += 1) {
        const [caller, callee] = credentials();
        assert.ok(caller && callee);
        firstSilent.push(await relayOnlyCall(caller, callee));
      }
      // libwebrtc did try the silent host, over UDP and TCP, and got nothing back.
      const { datagrams, connections } = silent.swallowed();
      assert.ok(datagrams > 0 && connections > 0, `the silent host saw ${datagrams} datagrams and ${connections} connections`);
    } finally {
      await silent.close();
    }
    assert.deepEqual(firstSilent.map((outcome) => outcome.relayHost), firstSilent.map(() => ADDRESSES[1]));
    const up = median(bothUp.map((outcome) => outcome.connectMs));
    const down = median(firstDown.map((outcome) => outcome.connectMs));
    const lost = median(firstSilent.map((outcome) => outcome.connectMs));
    console.log(
      `      time to connected (median of ${CALLS_PER_CASE}, relay only, loopback): both hosts up ${up.toFixed(0)} ms, ` +
        `own host stopped ${down.toFixed(0)} ms (${(down / up).toFixed(2)}x), own host silent ${lost.toFixed(0)} ms (${(lost / up).toFixed(2)}x); with both up ` +
        `${bothUp.filter((outcome) => outcome.relayHost === ADDRESSES[0]).length} of ${CALLS_PER_CASE} calls relayed through the users' own host; ` +
        `${allocationsPerCall.toFixed(1)} TURN allocations per call with both hosts up (2 peers × 2 hosts × each host's URIs × local networks)`,
    );
  });
});
