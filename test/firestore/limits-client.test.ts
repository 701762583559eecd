// The caller's side of its limits through the real rules (Auth and Firestore emulators, no
// Functions emulator): a client that knows nothing of its limits document (an app restarted,
// another device) dials, is refused, reads the document and the sessions it names, and dials
// once more; a client at a limit gets the sentence, not a bare permission-denied; and the web
// client redials a callee it is still in a call with in one batch, and refuses an eleventh dial
// in a minute without sending anything. (The SDK logs each refused write; those lines are
// expected here.)
import { strict as assert } from "node:assert";
import { RTCPeerConnection } from "@roamhq/wrtc";
import { writeBatch, type Firestore } from "firebase/firestore";
import { CALL_LIMITS, CallLimitError, SESSIONS_COLLECTION, candidatesPath, sessionPath } from "@webrtc-lite/contract";
import { startCall, type PeerConnection } from "@webrtc-lite/client/call/call";
import { CallLimitsTracker } from "@webrtc-lite/client/call/limits";
import { CallError } from "@webrtc-lite/client/call/state";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { connectCall, nowMs, useRelayedCalls, type CallPair } from "@webrtc-lite/dev-stack/web-calls";
import { IncomingCalls, OutgoingCall, signIn, type Party } from "../helpers/signaling-client";
import { useSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";

/**
 * Counts the batches `db` commits from now on, and the codes of those that fail, by wrapping
 * the SDK's `WriteBatch.commit` (every client shares the one prototype; `_firestore` is the
 * instance a batch belongs to). Returns the counts and the function that unwraps it.
 */
function countBatches(db: Firestore): { commits: number; failures: string[]; stop(): void } {
  type Commit = (this: { _firestore: Firestore }) => Promise<void>;
  const prototype = Object.getPrototypeOf(writeBatch(db)) as { commit: Commit };
  const original = Object.getOwnPropertyDescriptor(prototype, "commit")!.value as Commit;
  const counts = {
    commits: 0,
    failures: [] as string[],
    stop: () => (prototype.commit = original),
  };
  prototype.commit = function (this: { _firestore: Firestore }) {
    const committed = original.call(this);
    if (this._firestore !== db) return committed;
    counts.commits += 1;
    return committed.catch((error: unknown) => {
      counts.failures.push(String((error as { code?: unknown }).code));
      throw error;
    });
  };
  return counts;
}

describe("the caller's limits from the client's side (Auth and Firestore emulators)", function () {
  this.timeout(120_000);
  const suite = useSignalingStack(["auth", "firestore"]);
  const parties: Party[] = [];
  const incomings: IncomingCalls[] = [];

  afterEach(async () => {
    incomings.splice(0).forEach((incoming) => incoming.stop());
    await Promise.all(parties.splice(0).map((party) => party.close()));
  });

  async function party(): Promise<Party> {
    const signedIn = await signIn(suite.stack.ports);
    parties.push(signedIn);
    return signedIn;
  }

  async function listening(callee: Party): Promise<IncomingCalls> {
    const incoming = new IncomingCalls(callee);
    incomings.push(incoming);
    await incoming.attached.wait();
    return incoming;
  }

  it("after a restart, a redial replaces the call still ringing from before: refused once on what it knew, then one batch ends the old call and creates the new one", async () => {
    const [caller, callee] = [await party(), await party()];
    const incoming = await listening(callee);
    const before = await OutgoingCall.place(caller, callee.uid);
    await incoming.waitForRinging(before.sessionId);
    before.stop();

    // The app restarts: it knows nothing of its limits document, and the old call still rings.
    caller.limits = new CallLimitsTracker();
    const after = await OutgoingCall.place(caller, callee.uid);
    await incoming.waitForRinging(after.sessionId);
    await incoming.waitForGone(before.sessionId);
    const old = await suite.admin.db.doc(sessionPath(before.sessionId)).get();
    assert.deepEqual([old.get("end_request.by"), old.get("end_request.reason")], ["caller", "cancel"]);
    const limits = await suite.admin.db.doc(`call_limits/${caller.uid}`).get();
    assert.deepEqual(limits.get("live"), { [callee.uid]: after.sessionId });
    after.stop();
  });

  it(`says "${CALL_LIMITS.maxLiveCalls} calls in progress" when every entry is a call still ringing elsewhere`, async () => {
    const caller = await party();
    const callees = [await party(), await party(), await party(), await party()];
    for (const callee of callees.slice(0, CALL_LIMITS.maxLiveCalls)) (await OutgoingCall.place(caller, callee.uid)).stop();
    caller.limits = new CallLimitsTracker();
    await assert.rejects(OutgoingCall.place(caller, callees[CALL_LIMITS.maxLiveCalls].uid), (error: unknown) => {
      assert.ok(error instanceof CallLimitError, String(error));
      assert.equal(error.reason, "too-many-live-calls");
      return true;
    });
  });

  describe("through the web client (@webrtc-lite/client on libwebrtc, relay only)", () => {
    const relayed = useRelayedCalls(() => suite.stack.ports, { relayBetweenLocalClients: true, relayPortCount: 60 });

    it("redials a callee it is still in a call with in one batch, never refused, and the old call ends on both sides with no function running", async () => {
      const [alice, bob] = [await relayed.signIn(), await relayed.signIn()];
      const first = relayed.keep(await connectCall(alice, bob));
      const batches = countBatches(alice.db);
      const redialled = nowMs();
      let second: CallPair;
      try {
        second = await connectCall(alice, bob);
      } finally {
        batches.stop();
      }
      relayed.keep(second);
      assert.deepEqual([batches.commits, batches.failures], [1, []], "the redial is one batch, and the rules take it");
      assert.deepEqual(alice.repeats, []);
      // Ended here by the redial itself, and there by the deletion in its batch: a hang-up on both sides.
      assert.deepEqual(first.outgoing.call.state, { phase: "ended", reason: "hangup" });
      const calleeEnded = await first.incoming.phaseAfter("ended", redialled, 10_000);
      assert.deepEqual(first.incoming.call.state, { phase: "ended", reason: "hangup" });
      const old = await suite.admin.db.doc(sessionPath(first.sessionId)).get();
      assert.deepEqual([old.get("end_request.by"), old.get("end_request.reason")], ["caller", "hangup"]);
      await waitFor(
        "the old call's candidates documents to be gone (no function runs)",
        async () => {
          const left = await Promise.all((["caller", "callee"] as const).map(async (role) => (await suite.admin.db.doc(candidatesPath(first.sessionId, role)).get()).exists));
          return left.some(Boolean) ? undefined : true;
        },
        10_000,
      );
      const limits = await suite.admin.db.doc(`call_limits/${alice.uid}`).get();
      assert.deepEqual(limits.get("live"), { [bob.uid]: second.sessionId });
      console.log(`      redial → the old call's callee ended after ${((calleeEnded - redialled) / 1_000).toFixed(2)} s; the new call connected after ${((second.times.connected - redialled) / 1_000).toFixed(2)} s`);
      await second.outgoing.call.hangUp();
      await second.incoming.phaseAfter("ended", 0, 10_000);
    });

    it(`refuses the dial after ${CALL_LIMITS.callsPerMinute} in a minute on the device, with the wait, and sends nothing`, async () => {
      const [alice, bob] = [await relayed.signIn(), await relayed.signIn()];
      const dial = async (): Promise<void> => {
        const pc = new RTCPeerConnection(alice.peerConfig()) as RTCPeerConnection & PeerConnection;
        pc.createDataChannel("ticks");
        try {
          const call = await startCall(alice.store, pc, { callerId: alice.uid, calleeId: bob.uid });
          await call.hangUp();
        } finally {
          pc.close();
        }
      };
      for (let index = 0; index < CALL_LIMITS.callsPerMinute; index += 1) await dial();
      const batches = countBatches(alice.db);
      try {
        await assert.rejects(dial(), (error: unknown) => {
          assert.ok(error instanceof CallError, String(error));
          assert.equal(error.code, "resource-exhausted");
          assert.match(error.message, new RegExp(`^You started ${CALL_LIMITS.callsPerMinute} calls in the last ${CALL_LIMITS.windowSeconds} seconds; try again in about \\d+ s\\.$`));
          return true;
        });
      } finally {
        batches.stop();
      }
      assert.deepEqual([batches.commits, batches.failures], [0, []]);
      const sessions = await suite.admin.db.collection(SESSIONS_COLLECTION).where("caller_id", "==", alice.uid).get();
      assert.equal(sessions.size, CALL_LIMITS.callsPerMinute);
    });
  });

  it(`says how long to wait after ${CALL_LIMITS.callsPerMinute} calls in a minute`, async () => {
    const caller = await party();
    const callee = await party();
    for (let index = 0; index < CALL_LIMITS.callsPerMinute; index += 1) {
      const call = await OutgoingCall.place(caller, callee.uid);
      await call.end("cancel");
      call.stop();
    }
    await assert.rejects(OutgoingCall.place(caller, callee.uid), (error: unknown) => {
      assert.ok(error instanceof CallLimitError, String(error));
      assert.equal(error.reason, "too-many-calls-per-minute");
      assert.match(error.message, /try again in about \d+ s\./);
      return true;
    });
  });
});
