// The caller's side of its limits through the real rules (Auth and Firestore emulators, no
// Functions emulator): a client that knows nothing of its limits document (an app restarted,
// another device) dials, is refused, reads the document and the sessions it names, and dials
// once more; and a client at a limit gets the sentence, not a bare permission-denied. (The SDK
// logs each refused write; those lines are expected here.)
import { strict as assert } from "node:assert";
import { CALL_LIMITS, CallLimitError, sessionPath } from "@webrtc-lite/contract";
import { CallLimitsTracker } from "@webrtc-lite/client/call/limits";
import { IncomingCalls, OutgoingCall, signIn, type Party } from "../helpers/signaling-client";
import { useSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";

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
