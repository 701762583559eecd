import { strict as assert } from "node:assert";
import { codelabCallCost, signalingCallCost, sessionPath } from "@webrtc-lite/contract";
import { sweepSessions } from "#functions/sessions/sweep";
import { captureOutputAsync } from "../helpers/capture";
import { sampleCandidates } from "../helpers/sdp";
import { CostMeter, IncomingCalls, OutgoingCall, signIn } from "../helpers/signaling-client";
import { SUITE_TIMEOUTS, useSignalingStack, waitForLogEntries } from "@webrtc-lite/dev-stack/signaling-stack";
import { waitFor } from "@webrtc-lite/dev-stack/wait";


describe("cost of one call (Functions, Firestore and Auth emulators)", function () {
  this.timeout(180_000);
  const suite = useSignalingStack(["auth", "functions", "firestore"]);


  // Polled (reads by the Admin SDK are not the call's cost), not listened to: the emulator's
  // Listen stream can break when a listener attaches while a write lands (listen-stream.ts).
  const waitForStatus = (sessionId: string, status: string) =>
    waitFor(`session ${sessionId} to be ${status}`, async () => {
      const snapshot = await suite.admin.db.doc(sessionPath(sessionId)).get();
      return snapshot.get("status") === status ? snapshot : undefined;
    }, 20_000, 50);

  it("counts a 5+5-candidate call, the caller's limits and cleanup included: at most 13 writes and 15 reads", async () => {
    const callerMeter = new CostMeter();
    const calleeMeter = new CostMeter();
    const caller = await signIn(suite.stack.ports, callerMeter);
    const callee = await signIn(suite.stack.ports, calleeMeter);
    try {
      // Q0 lives as long as the callee's app; its first snapshot is not a cost of this call.
      const incoming = new IncomingCalls(callee);
      await incoming.attached.wait();

      // The steady state of the limits: the caller called this person before, so the measured
      // call's limits write replaces that ended call's entry (the rules read it). The earlier
      // call's own operations are not counted.
      const earlier = await OutgoingCall.place(caller, callee.uid);
      await incoming.waitForRinging(earlier.sessionId);
      await earlier.end("cancel");
      await waitForStatus(earlier.sessionId, "ended");
      await incoming.waitForLeft(earlier.sessionId);
      earlier.stop();
      const before = { caller: callerMeter.snapshot(), callee: calleeMeter.snapshot() };

      const call = await OutgoingCall.place(caller, callee.uid);
      const id = call.sessionId;
      const ringing = await incoming.waitForRinging(id);
      // Waiting for the trigger here only makes the count deterministic; no step needs it.
      await call.offered.wait();
      await waitForStatus(id, "offered");
      await call.sendCandidates(sampleCandidates("caller"));
      await ringing.accept();
      await call.waitForAnswer();
      await incoming.waitForGone(id);
      await incoming.waitForLeft(id);
      // Q0 lets the call go at the answer; waiting for the trigger's `answered` here keeps its
      // report apart from the connectivity one (else one late delivery may record both at once).
      await waitForStatus(id, "answered");
      await ringing.sendCandidates(sampleCandidates("callee"));
      await Promise.all([call.candidates(6), ringing.candidates(6)]);
      await call.reportConnected();
      await waitForStatus(id, "connected");
      await ringing.end("hangup");
      await Promise.all([call.waitForEnd(), ringing.waitForEnd()]);
      const ended = await waitForStatus(id, "ended");
      incoming.stop();
      call.stop();
      ringing.stop();

      // Cleanup: the sweep, run once expire_at has passed, finds this session, whose candidates
      // the trigger already deleted, and the earlier call's: one read and one delete each.
      assert.equal((await suite.admin.db.collection(`${sessionPath(id)}/ice_candidates`).get()).size, 0);
      const swept = await captureOutputAsync(() => sweepSessions(suite.admin.db, ended.get("expire_at").toMillis(), SUITE_TIMEOUTS));
      if (swept.error) throw swept.error;
      assert.deepEqual(swept.result, { recorded: 0, ended: 0, superseded: 0, deleted: 2 });
      assert.equal((await suite.admin.db.doc(sessionPath(id)).get()).exists, false);
      assert.equal((await suite.admin.db.doc(sessionPath(earlier.sessionId)).get()).exists, false);
      const sweep = { deleted: swept.result.deleted - 1 };

      const server = await waitForLogEntries(suite.stack, "session transition", id, 4);
      const serverWrites = server.reduce((sum, entry) => sum + (entry.writes as number), 0);
      const serverDeletes = server.reduce((sum, entry) => sum + (entry.deletes as number), 0);
      const callerCounts = callerMeter.since(before.caller);
      const calleeCounts = calleeMeter.since(before.callee);
      const measured = {
        writes: callerCounts.writes + calleeCounts.writes + serverWrites,
        listenerReads: callerCounts.listenerReads + calleeCounts.listenerReads,
        // The rules' get()/getAfter() (declared by the steps that cause them) and the sweep's
        // query, which returned this one session.
        otherReads: callerCounts.ruleReads + calleeCounts.ruleReads + 1,
        deletes: callerCounts.deletes + calleeCounts.deletes + serverDeletes + sweep.deleted,
      };
      const model = signalingCallCost({ callerCandidates: 5, calleeCandidates: 5, callerBatches: 1, calleeBatches: 1 }).totals;
      // The model is the bound for a trigger that keeps up. When the trigger's `offered` beat a
      // listener's first sight of the call, that listener never pays for the change.
      const missedOffered = (call.offeredAtAttach ? 1 : 0) + (incoming.firstSeenStatus.get(id) === "offered" ? 1 : 0);
      const expectedReads = model.listenerReads - missedOffered;
      const codelab = codelabCallCost(5, 5);

      console.log(
        [
          "      measured Firestore operations for one 5+5-candidate call:",
          ...callerMeter.entries.slice(before.caller.entries).map((entry) => `        caller  ${entry}`),
          ...calleeMeter.entries.slice(before.callee.entries).map((entry) => `        callee  ${entry}`),
          ...server.map((entry) => `        server  ${String(entry.by)}: ${String(entry.from)} → ${String(entry.to)}, ${String(entry.writes)} write(s), ${String(entry.deletes)} delete(s)`),
          `        sweep   deleted ${sweep.deleted} session(s)`,
          `      totals: ${measured.writes} writes, ${measured.listenerReads} listener reads + ${measured.otherReads} other reads ` +
            `(rules gets and the sweep's query), ${measured.deletes} deletes; model: ${model.writes} writes, ` +
            `${model.listenerReads + model.otherReads} reads; codelab: ${codelab.writes} writes, ${codelab.listenerReads} listener reads`,
        ].join("\n"),
      );

      // A resumed Listen stream may bill its targets again: a count across one proves nothing.
      const broken = [...caller.streams.failures, ...callee.streams.failures];
      assert.equal(broken.length, 0, `the count is void: ${broken.length} emulator stream failure(s) during it (see the !!! line above)`);
      assert.deepEqual(measured, { writes: model.writes, listenerReads: expectedReads, otherReads: model.otherReads, deletes: model.deletes });
      assert.ok(measured.writes <= 13, `${measured.writes} writes`);
      assert.ok(measured.listenerReads + measured.otherReads <= 15, `${measured.listenerReads + measured.otherReads} reads`);
    } finally {
      await caller.close();
      await callee.close();
    }
  });
});
