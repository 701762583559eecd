// Section 6 of `npm run bench` (redial): dial → ring for a redial (a dial to a callee this device
// is still calling), planned from what the device remembers — one batch that ends the previous
// call — against, in the same run, a plain dial to someone new (the baseline) and a redial by an
// app that lost its memory (restarted): its batch is refused on stale knowledge, it reads its
// limits document and the session they name, and sends again, which is the path every redial
// took while the plan did not end the previous call up front. The web client (@webrtc-lite/client)
// on @roamhq/wrtc in this process, the Auth + Firestore emulators, no Functions emulator: the
// ring is the callee's incoming-calls listener seeing the new session. Figures only.
import { RTCPeerConnection as WrtcPeerConnection } from "@roamhq/wrtc";
import { firestoreSignaling, listenForCalls, startCall, type Call, type PeerConnection, type SignalingStore } from "@webrtc-lite/client";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { nowMs, signInCallUser, type CallUser } from "@webrtc-lite/dev-stack/web-calls";
import { signalingStackOrSkip } from "./signaling";
import { fmt, median, percentile } from "./stats";

/** Rounds of the three dials; BENCH_REDIAL_ROUNDS overrides it. */
const ROUNDS = Math.max(5, Number(process.env.BENCH_REDIAL_ROUNDS ?? 12) || 12);
const RING_WAIT_MS = 20_000;
/** How long a fresh callee's incoming-calls listener gets to attach before the first dial. */
const LISTENER_SETTLE_MS = 1_000;

interface Dialled {
  call: Call;
  pc: PeerConnection;
}

function row(label: string, values: number[], baseline: number[]): string {
  const cells = `${label.padEnd(52)} median ${fmt(median(values), 0).padStart(5)} ms   p90 ${fmt(percentile(values, 90), 0).padStart(5)} ms   (${values.length})`;
  return `   ${cells}   ${fmt(median(values) / median(baseline), 2)}x a plain dial`;
}

/** One round: a plain dial to a fresh callee, a redial from memory, and a redial after a restart. */
async function round(network: Parameters<typeof signInCallUser>[0], samples: Record<"plain" | "fromMemory" | "afterRestart", number[]>): Promise<void> {
  const users: CallUser[] = [await signInCallUser(network), await signInCallUser(network)];
  const [caller, callee] = users;
  const rang = new Map<string, number>();
  const errors: string[] = [];
  const stopListening = listenForCalls(
    callee.store,
    callee.uid,
    (calls) => {
      const at = nowMs();
      for (const call of calls) if (!rang.has(call.sessionId)) rang.set(call.sessionId, at);
    },
    (error) => errors.push(error.message),
  );
  const dialled: Dialled[] = [];
  const dial = async (store: SignalingStore): Promise<number> => {
    const pc = new WrtcPeerConnection() as unknown as RTCPeerConnection & PeerConnection;
    pc.createDataChannel("redial");
    const started = nowMs();
    const call = await startCall(store, pc, { callerId: caller.uid, calleeId: callee.uid }, { iceRestart: false });
    dialled.push({ call, pc });
    const at = await waitFor(`session ${call.sessionId} to ring`, () => {
      if (errors.length > 0) throw new Error(errors.join("; "));
      return rang.get(call.sessionId);
    }, RING_WAIT_MS, 5);
    return at - started;
  };
  try {
    await new Promise((resolve) => setTimeout(resolve, LISTENER_SETTLE_MS));
    samples.plain.push(await dial(caller.store));
    samples.fromMemory.push(await dial(caller.store));
    // A new store knows nothing of the caller's limits: the app as it starts again.
    samples.afterRestart.push(await dial(firestoreSignaling(caller.db)));
  } finally {
    stopListening();
    await Promise.all(dialled.map(({ call }) => call.hangUp().catch(() => undefined)));
    for (const { pc } of dialled) pc.close();
    await Promise.all(users.map((user) => user.close()));
  }
}

/** Section 6: the three dials, `ROUNDS` times each, interleaved. */
export async function redial(): Promise<void> {
  console.log(`\n6. Redial: dial → ring (the callee's incoming-calls listener), web client on libwebrtc, Auth + Firestore emulators, no Functions emulator; ${ROUNDS} rounds`);
  const stack = await signalingStackOrSkip();
  if (!stack) return;
  // No call here connects: TURN is never asked, but a user needs a secret to mint with.
  const network = { ports: stack.ports, turn: { secret: newSecret(), uris: () => [] } };
  const samples = { plain: [] as number[], fromMemory: [] as number[], afterRestart: [] as number[] };
  const failures: string[] = [];
  try {
    for (let index = 0; index < ROUNDS; index += 1) {
      await round(network, samples).catch((error: unknown) => failures.push(error instanceof Error ? error.message : String(error)));
    }
  } finally {
    await stack.stop();
  }
  if (samples.plain.length === 0) {
    console.log("   no round completed");
  } else {
    console.log(row("plain dial, to someone not called before (baseline)", samples.plain, samples.plain));
    console.log(row("redial from memory: one batch ends the previous call", samples.fromMemory, samples.plain));
    console.log(row("redial after a restart: refused, read, sent again", samples.afterRestart, samples.plain));
  }
  for (const failure of failures) console.log(`   failed round: ${failure}`);
}
