import { strict as assert } from "node:assert";
import { candidatesPath, sessionPath } from "@webrtc-lite/contract";
import { emulatorAdmin, type EmulatorAdmin } from "@webrtc-lite/dev-stack/admin";
import { describeStreamTrouble, describeTimings, openCallPage, placeCall } from "../helpers/call-pages";
import { startSelfTestSite, type SelfTestSite } from "../helpers/selftest-site";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

describe("two browsers call each other through Firestore signaling and the TURN relay (Functions emulator running)", function () {
  this.timeout(240_000);
  let site: SelfTestSite;
  let admin: EmulatorAdmin;

  before(async () => {
    const secret = newSecret();
    site = await startSelfTestSite({ coturnSecret: secret, functionsSecret: secret, firestore: true });
    admin = emulatorAdmin(site.stack.ports.firestore);
  });
  after(async () => {
    await admin?.close();
    await site?.stop();
  });

  it("rings, connects relay to relay, carries data both ways, hangs up, and the trigger keeps the record", async () => {
    const url = `${site.url}call.html`;
    const alice = await openCallPage(site.browser, url, "caller");
    const bob = await openCallPage(site.browser, url, "callee");
    assert.notEqual(alice.uid, bob.uid);
    const status = async (sessionId: string): Promise<string | undefined> => (await admin.db.doc(sessionPath(sessionId)).get()).get("status") as string | undefined;

    const { sessionId, timings } = await placeCall(alice, bob, {
      connected: async (id) => {
        await waitFor("the trigger to record the session connected", async () => ((await status(id)) === "connected" ? true : undefined), 30_000);
      },
    });

    await waitFor("the trigger to record the end", async () => ((await status(sessionId)) === "ended" ? true : undefined), 30_000);
    const ended = (await admin.db.doc(sessionPath(sessionId)).get()).data()!;
    assert.equal(ended.ended_reason, "hangup");
    assert.deepEqual(ended.end_request?.by, "caller");
    assert.equal(ended.expire_at.toMillis() - ended.ended_at.toMillis(), 3_600_000, "an ended session expires one hour after it ended");
    for (const sender of ["caller", "callee"] as const) {
      await waitFor(`ice_candidates/${sender} to be deleted`, async () => ((await admin.db.doc(candidatesPath(sessionId, sender)).get()).exists ? undefined : true), 30_000);
    }
    console.log(describeTimings("call (trigger running)", timings));
    console.log(describeStreamTrouble([alice, bob]));
  });
});
