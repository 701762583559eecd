// Section "relay" of `npm run bench`: what relaying costs coturn, per CPU-second, against a plain
// UDP echo process moving the same packets in the same run, and the calls per Always Free shape
// that follow. turnutils_uclient (coturn's load client, ChannelData like libwebrtc) sends
// SESSIONS flows through a real coturn rendered from the kit's template to turnutils_peer, which
// echoes every packet, so coturn relays each one twice (out and back). The baseline: the same
// flows, packet size and rate sent from Node straight to a second turnutils_peer, whose work per
// packet (one recv, one send) is the floor of any user-space relay. CPU time is read from
// /proc/<pid>/stat, so the other processes on the machine do not count.
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { startCoturn } from "@webrtc-lite/dev-stack/coturn";
import { freePorts } from "@webrtc-lite/dev-stack/ports";
import { startProcess, type RunningProcess } from "@webrtc-lite/dev-stack/processes";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { fmt } from "./stats";

const run = promisify(execFile);

/** Concurrent relayed flows (one allocation each), as many one-way streams of calls. */
const SESSIONS = 40;
/** Seconds each flow sends for. */
const SECONDS = 8;
/** Packet profiles: audio-like (Opus at 20 ms) and video-like (full-size RTP every 10 ms). */
const PROFILES = [
  { name: "audio-like", bytes: 200, intervalMs: 20 },
  { name: "video-like", bytes: 1_200, intervalMs: 10 },
] as const;
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** Always Free shapes: CPUs a host may use for coturn and its network bandwidth. */
const SHAPES = [
  { name: "A1 Flex, 4 OCPU (Ampere)", cpus: 4, nicMbps: 4_000 },
  { name: "A1 Flex, 1 OCPU", cpus: 1, nicMbps: 1_000 },
  { name: "E2.1.Micro, 1/8 OCPU", cpus: 0.125, nicMbps: 480 },
] as const;
/** Per-call bitrates each way, with the payload size their packets have. */
const CALL_RATES = [
  { mbps: 0.1, packetBytes: 250 },
  { mbps: 1.5, packetBytes: 1_200 },
  { mbps: 4, packetBytes: 1_200 },
] as const;
/** OCI's Always Free outbound data per month, as an average rate. */
const EGRESS_BUDGET_MBPS = (10e12 * 8) / (30 * 86_400) / 1e6;

function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) throw new Error("the process has no pid");
  // Fields after the command name (which may contain spaces): utime is the 12th, stime the 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function startEchoPeer(port: number): Promise<RunningProcess> {
  const peer = startProcess("turnutils_peer", ["-L", "127.0.0.1", "-p", String(port)]);
  await waitFor("turnutils_peer to echo", () => echoes(port), 10_000);
  return peer;
}

function echoes(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => finish(undefined), 300);
    const finish = (answer: true | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    socket.on("message", () => finish(true));
    socket.on("error", () => finish(undefined));
    socket.send(Buffer.alloc(8), port, "127.0.0.1");
  });
}

interface Measured {
  /** Packets the measured process moved (received and sent on). */
  packets: number;
  cpuSeconds: number;
}

/**
 * The same flows straight to an echo process: SESSIONS sockets sending `rounds` packets each,
 * one per `intervalMs`, so packet count, size and pace match what uclient achieved.
 */
async function plainUdp(peerPort: number, peerPid: number | undefined, bytes: number, rounds: number, intervalMs: number): Promise<Measured> {
  const sockets: Socket[] = await Promise.all(
    Array.from({ length: SESSIONS }, () => new Promise<Socket>((resolve) => {
      const socket = createSocket("udp4");
      socket.bind(0, "127.0.0.1", () => resolve(socket));
    })),
  );
  let echoed = 0;
  for (const socket of sockets) socket.on("message", () => (echoed += 1));
  const payload = Buffer.alloc(bytes, 0x5a);
  const cpuBefore = cpuSeconds(peerPid);
  const started = performance.now();
  for (let round = 0; round < rounds; round += 1) {
    for (const socket of sockets) socket.send(payload, peerPort, "127.0.0.1");
    // Paced against the clock, so timer slack does not stretch the run.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (round + 1) * intervalMs - performance.now())));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const cpu = cpuSeconds(peerPid) - cpuBefore;
  sockets.forEach((socket) => socket.close());
  return { packets: echoed, cpuSeconds: cpu };
}

/** SESSIONS flows through coturn to the echo peer and back, with turnutils_uclient. */
async function throughCoturn(
  coturnPort: number,
  coturnPid: number | undefined,
  peerPort: number,
  credential: { username: string; credential: string },
  bytes: number,
  intervalMs: number,
): Promise<Measured & { lossPercent: number; messages: number; seconds: number }> {
  const messages = Math.round((SECONDS * 1000) / intervalMs);
  const cpuBefore = cpuSeconds(coturnPid);
  const started = performance.now();
  const { stdout, stderr } = await run(
    "turnutils_uclient",
    ["-c", "-e", "127.0.0.1", "-r", String(peerPort), "-m", String(SESSIONS), "-n", String(messages), "-l", String(bytes), "-z", String(intervalMs),
      "-u", credential.username, "-w", credential.credential, "-p", String(coturnPort), "127.0.0.1"],
    { timeout: (SECONDS + 60) * 1000, maxBuffer: 64 * 1024 * 1024 },
  );
  const cpu = cpuSeconds(coturnPid) - cpuBefore;
  const seconds = (performance.now() - started) / 1000;
  const output = stdout + stderr;
  // The last progress line holds the totals.
  const last = (name: string): number => Number([...output.matchAll(new RegExp(`${name}=(\\d+)`, "g"))].at(-1)?.[1] ?? NaN);
  const received = last("tot_recv_msgs");
  const sent = last("tot_send_msgs");
  if (!Number.isFinite(received) || received === 0) throw new Error(`turnutils_uclient relayed nothing:\n${output.slice(-2000)}`);
  // Each echoed packet crossed coturn twice: toward the peer and back.
  return { packets: 2 * received, cpuSeconds: cpu, lossPercent: (100 * (sent - received)) / sent, messages, seconds };
}

/** Prints section "relay": coturn vs plain UDP per CPU-second, then calls per Always Free shape. */
export async function turnCapacity(): Promise<void> {
  console.log(`\nrelay. coturn relaying UDP (turnutils_uclient → coturn → turnutils_peer echo), ${SESSIONS} flows, ${SECONDS} s of packets asked per profile`);
  console.log("   baseline: the same flows straight to a turnutils_peer echo (plain loopback UDP), same run; CPU from /proc");
  const secret = newSecret();
  const coturn = await startCoturn([secret], { relayBetweenLocalClients: true, quotas: { user: SESSIONS * 2, total: SESSIONS * 8 }, relayPortCount: SESSIONS * 8 });
  const [relayedPeerPort = 0, plainPeerPort = 0] = await freePorts(2);
  const relayedPeer = await startEchoPeer(relayedPeerPort);
  const plainPeer = await startEchoPeer(plainPeerPort);
  let perPacket = Number.NaN;
  try {
    for (const { name, bytes, intervalMs } of PROFILES) {
      // A user per profile: the previous profile's allocations may not be reaped yet.
      const credential = mintTurnCredential(secret, `bench-relay-${name}`, 3_600, Date.now());
      const relayed = await throughCoturn(coturn.port, coturn.pid(), relayedPeerPort, credential, bytes, intervalMs);
      // uclient paces more slowly than asked (its own timers): the baseline sends as many
      // packets over the same time it took.
      const plain = await plainUdp(plainPeerPort, plainPeer.child.pid, bytes, relayed.messages, (relayed.seconds * 1000) / relayed.messages);
      const rate = (measured: Measured): number => measured.packets / measured.cpuSeconds;
      const mbit = (measured: Measured): number => (rate(measured) * bytes * 8) / 1e6;
      const achieved = (SESSIONS * relayed.messages) / relayed.seconds;
      console.log(
        `   ${name} (${bytes} B every ${intervalMs} ms asked per flow; ${fmt(achieved)} pkt/s each way achieved over ${fmt(relayed.seconds, 1)} s, loss ${fmt(relayed.lossPercent, 2)} %):`,
      );
      console.log(
        `     coturn relaying   : ${fmt(relayed.packets)} packets in ${fmt(relayed.cpuSeconds, 2)} CPU-s → ${fmt(rate(relayed))} packets/s and ${fmt(mbit(relayed), 1)} Mbit/s per CPU-second`,
      );
      console.log(
        `     plain UDP echo    : ${fmt(plain.packets)} packets in ${fmt(plain.cpuSeconds, 2)} CPU-s → ${fmt(rate(plain))} packets/s and ${fmt(mbit(plain), 1)} Mbit/s per CPU-second`,
      );
      console.log(`     coturn / plain UDP: ${fmt(rate(relayed) / rate(plain), 2)}x the packets per CPU-second (1 = as cheap as a bare socket)`);
      // The table uses the dearer of the two profiles' cost per packet.
      perPacket = Math.max(Number.isNaN(perPacket) ? 0 : perPacket, relayed.cpuSeconds / relayed.packets);
    }
  } finally {
    await Promise.all([relayedPeer.stop(2_000), plainPeer.stop(2_000), coturn.stop()]);
  }
  console.log(`   → concurrent relayed calls (CPU at ${fmt(perPacket * 1e6, 2)} µs per relayed packet, both directions through coturn):`);
  for (const { mbps, packetBytes } of CALL_RATES) {
    const packetsPerCall = (2 * mbps * 1e6) / (8 * packetBytes);
    const perCpu = 1 / (perPacket * packetsPerCall);
    // coturn sends each direction on to the other peer: a call's egress is twice its bitrate.
    const byEgress = EGRESS_BUDGET_MBPS / (2 * mbps);
    const shapes = SHAPES.map(({ name, cpus, nicMbps }) => `${name}: ${fmt(Math.min(perCpu * cpus, nicMbps / (2 * mbps)))}`);
    console.log(`     ${mbps} Mbit/s each way: ${fmt(perCpu)} per CPU; ${shapes.join("; ")}; 10 TB/month egress sustains ${fmt(byEgress, 1)} around the clock`);
  }
}
