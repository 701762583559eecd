import { strict as assert } from "node:assert";
import { candidatesPath, sessionPath, type CandidateEntry } from "@webrtc-lite/contract";
import { handleSessionWritten } from "#functions/sessions/trigger";
import { adminFirestoreModule, type EmulatorAdmin } from "@webrtc-lite/dev-stack/admin";
import { openCallPage, phase, step, type CallPage, type PageCredentials } from "../helpers/call-pages";
import { captureOutputAsync } from "../helpers/capture";
import { NativeApp, type NativeCall } from "../helpers/native-client";
import { startServerlessCallSite, type ServerlessCallSite, type SelfTestSite } from "../helpers/selftest-site";
import { SUITE_TIMEOUTS } from "@webrtc-lite/dev-stack/signaling-stack";
import { Signal } from "../helpers/snapshots";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

/**
 * The docs stay true for native apps: a client on Google's libwebrtc (@roamhq/wrtc) written the
 * way docs/signaling.md tells an Android or iOS app to work calls another such client and the
 * web client in Chromium, both ways. Auth, Firestore and Hosting emulators and a loopback
 * coturn run; no Functions emulator (credentials are minted by the test).
 */
describe("a libwebrtc client that follows docs/signaling.md literally (no Functions emulator)", function () {
  this.timeout(180_000);
  let serverless: ServerlessCallSite;
  let site: SelfTestSite;
  let admin: EmulatorAdmin;
  let secret: string;
  let credentials: PageCredentials;
  const apps: NativeApp[] = [];

  before(async () => {
    serverless = await startServerlessCallSite("native-call-test");
    ({ site, admin, secret, credentials } = serverless);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  after(async () => {
    await serverless?.stop();
  });

  const start = async (): Promise<NativeApp> => {
    const app = await NativeApp.start({ ports: site.stack.ports, turn: { secret, uris: site.coturn.uris() } });
    apps.push(app);
    return app;
  };
  const entries = async (sessionId: string, sender: "caller" | "callee"): Promise<CandidateEntry[]> =>
    ((await admin.db.doc(candidatesPath(sessionId, sender)).get()).get("candidates") as CandidateEntry[] | undefined) ?? [];

  async function talk(caller: NativeCall, callee: NativeCall): Promise<void> {
    try {
      await Promise.all([caller.connected.wait(), callee.connected.wait(), caller.channelOpen.wait(), callee.channelOpen.wait()]);
    } catch (error) {
      // What each side went through, skipped and was sent: enough to tell ICE from signaling.
      const sessionId = caller.session.id;
      const sides = await Promise.all(
        ([["caller", caller], ["callee", callee]] as const).map(async ([role, call]) =>
          `${role}: states ${call.states.join(" ")}; skipped ${JSON.stringify(call.skipped)}; wrote ${JSON.stringify(await entries(sessionId, role))}`,
        ),
      );
      const coturn = site.coturn.output().split("\n").filter((line) => /error|fail|refus|quota|alloc/i.test(line)).slice(-20);
      throw new Error(`${(error as Error).message}\n${sides.join("\n")}\ncoturn:\n${coturn.join("\n")}`);
    }
    caller.send("hello callee");
    callee.send("hello caller");
    await Promise.all([callee.waitForMessage("hello callee"), caller.waitForMessage("hello caller")]);
  }

  it("calls another such client: rings, connects relay to relay, talks, hangs up; the record converges afterwards", async () => {
    const [alice, bob] = [await start(), await start()];
    const incoming = bob.listenForCalls();
    try {
      await incoming.attached.wait();
      const dialedAt = Date.now();
      const outgoing = await alice.call(bob.uid);
      const ring = await incoming.waitForRinging(alice.uid);
      const rangAt = Date.now();
      assert.equal(ring.sessionId, outgoing.sessionId);
      const answered = await bob.accept(ring);
      await talk(outgoing, answered);
      const connectedAt = Date.now();
      await Promise.all([outgoing.outbox.flushed.wait(), answered.outbox.flushed.wait()]);

      // What the docs say to write went through the rules as is: toJSON() with usernameFragment,
      // and one end-of-candidates entry with the last candidate's mid and index (libwebrtc may
      // still report a candidate after gathering completed; it follows the marker).
      for (const sender of ["caller", "callee"] as const) {
        const written = await entries(ring.sessionId, sender);
        const ends = written.filter((entry) => entry.candidate === "");
        assert.deepEqual(ends, [{ candidate: "", sdpMid: "0", sdpMLineIndex: 0 }], `${sender}: ${JSON.stringify(written)}`);
        const candidates = written.filter((entry) => entry.candidate !== "");
        assert.ok(candidates.length >= 1, `${sender}: at least one candidate`);
        for (const entry of candidates) {
          assert.match(entry.candidate, / typ relay /);
          assert.equal(typeof entry.usernameFragment, "string", `${sender}: toJSON() written as is, usernameFragment included`);
        }
      }
      const live = await admin.db.doc(sessionPath(ring.sessionId)).get();
      assert.equal(live.get("status"), "pending", "no function ran: the server's record has not moved");
      assert.deepEqual(Object.keys(live.get("connectivity") as object).sort(), ["at", "by"]);
      assert.equal(live.get("connectivity.by"), "caller");

      const hangingUpAt = Date.now();
      await answered.hangUp("hangup");
      assert.equal(await outgoing.ended.wait(), "the peer's candidates document is gone");
      const otherSideEndedAt = Date.now();

      // The trigger, run late on the final document, records every step in one write.
      const final = await admin.db.doc(sessionPath(ring.sessionId)).get();
      const handled = await captureOutputAsync(() => handleSessionWritten(admin.db, final, SUITE_TIMEOUTS));
      if (handled.error) throw handled.error;
      assert.equal(handled.result?.outcome, "written");
      assert.match(handled.output, /"from":"pending","to":"ended"/);
      const ended = await admin.db.doc(sessionPath(ring.sessionId)).get();
      assert.equal(ended.get("status"), "ended");
      assert.equal(ended.get("ended_reason"), "hangup");
      assert.ok(ended.get("expire_at"), "expire_at set");
      for (const sender of ["caller", "callee"] as const) {
        assert.equal((await admin.db.doc(candidatesPath(ring.sessionId, sender)).get()).exists, false);
      }
      console.log(
        `      libwebrtc ↔ libwebrtc: dial to ring ${rangAt - dialedAt} ms (create committed to ring ${rangAt - outgoing.committedAt} ms), ` +
          `ring to both connected with data ${connectedAt - rangAt} ms, hang-up to other side ended ${otherSideEndedAt - hangingUpAt} ms; ` +
          `caller states ${outgoing.states.join(" ")}`,
      );
    } finally {
      incoming.stop();
    }
  });

  it("skips each of the peer's entries it cannot use, reports it once, and still connects", async () => {
    const [alice, bob] = [await start(), await start()];
    const incoming = bob.listenForCalls();
    await incoming.attached.wait();
    const outgoing = await alice.call(bob.uid);
    const ring = await incoming.waitForRinging(alice.uid);
    // Written past the rules (a peer under older, laxer rules): one entry the schema refuses, one
    // whose address is a name (this side would resolve it), one that is not a map, and one
    // grammatical loopback entry for an m-line this session has not (addIceCandidate refuses it).
    const hostile = [
      { candidate: "candidate:1 1 udp 4294967296 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0 },
      { candidate: "candidate:1 1 udp 1 <script>alert(1)</script> 9 typ host", sdpMid: "0", sdpMLineIndex: 0 },
      42,
      { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host", sdpMid: "nope", sdpMLineIndex: null },
    ];
    const { FieldValue } = adminFirestoreModule;
    for (const entry of hostile) await admin.db.doc(candidatesPath(ring.sessionId, "caller")).update({ candidates: FieldValue.arrayUnion(entry) });
    const answered = await bob.accept(ring);
    await talk(outgoing, answered);
    await Promise.all([outgoing.outbox.flushed.wait(), answered.outbox.flushed.wait()]);
    const written = ((await admin.db.doc(candidatesPath(ring.sessionId, "caller")).get()).get("candidates") as unknown[]).map((entry) => JSON.stringify(entry));
    const positions = hostile.map((entry) => written.indexOf(JSON.stringify(entry)));
    assert.ok(positions.every((position) => position >= 0), JSON.stringify(written));
    assert.deepEqual(answered.skipped.map((line) => /^candidates\[(\d+)\]/.exec(line)?.[1]).map(Number).sort((a, b) => a - b), [...positions].sort((a, b) => a - b), answered.skipped.join("\n"));
    assert.match(answered.skipped.find((line) => line.startsWith(`candidates[${positions[3]}]`)) ?? "", /addIceCandidate refused it/);
    assert.deepEqual(outgoing.skipped, []);
    await outgoing.hangUp("hangup");
    assert.equal(await answered.ended.wait(), "the peer's candidates document is gone");
  });

  it("handles an answer that is already there when the caller's session listener attaches", async () => {
    const [alice, bob] = [await start(), await start()];
    const incoming = bob.listenForCalls();
    try {
      const answerWritten = new Signal("the callee's answer batch to commit");
      const placing = alice.call(bob.uid, { beforeL1: answerWritten.wait() });
      const answered = await bob.accept(await incoming.waitForRinging(alice.uid));
      answerWritten.resolve();
      const outgoing = await placing;
      await talk(outgoing, answered);
      assert.equal(outgoing.answerInFirstSnapshot, true);
      await outgoing.hangUp("hangup");
      assert.equal(await answered.ended.wait(), "the peer's candidates document is gone");
    } finally {
      incoming.stop();
    }
  });

  it("stops ringing on cancel, and an accept that comes too late finds the caller's document gone and writes no answer", async () => {
    const [alice, bob] = [await start(), await start()];
    const incoming = bob.listenForCalls();
    try {
      const outgoing = await alice.call(bob.uid);
      const ring = await incoming.waitForRinging(alice.uid);
      await outgoing.hangUp("cancel");
      // The session listener may see the end request in the local cache before the batch's commit resolves.
      assert.match(await outgoing.ended.wait(), /^(hung up \(cancel\)|session: cancel)$/);
      await incoming.waitForSilence(ring.sessionId);
      const late = await bob.accept(ring);
      assert.equal(await late.ended.wait(), "the peer's candidates document is gone");
      const session = await waitFor("the caller's end request", async () => {
        const snapshot = await admin.db.doc(sessionPath(ring.sessionId)).get();
        return snapshot.get("end_request") ? snapshot : undefined;
      }, 10_000);
      assert.equal(session.get("answer"), null);
      assert.equal(session.get("end_request.reason"), "cancel");
      assert.equal((await admin.db.doc(candidatesPath(ring.sessionId, "callee")).get()).exists, false);
    } finally {
      incoming.stop();
    }
  });
  async function talkWithPage(call: NativeCall, web: CallPage): Promise<void> {
    call.send("hello web");
    await step("libwebrtc → web data", [web], () => web.page.locator("#messages li", { hasText: "hello web" }).waitFor({ timeout: 10_000 }));
    await web.page.fill("#message", "hello libwebrtc");
    await web.page.click("#send:enabled");
    await call.waitForMessage("hello libwebrtc");
  }

  async function openWebPage(name: string): Promise<CallPage> {
    return openCallPage(site.browser, `${site.url}call.html`, name, credentials);
  }

  it("calls the web client in Chromium: the page rings, answers, connects, talks, and hangs up", async () => {
    const app = await start();
    const web = await openWebPage("web callee");
    const outgoing = await app.call(web.uid);
    const ringing = web.page.locator(`#incoming li[data-caller="${app.uid}"]`);
    await step("the page to ring", [web], () => ringing.waitFor({ timeout: 30_000 }));
    assert.equal(await ringing.getAttribute("data-session"), outgoing.sessionId);
    await ringing.locator("button.answer").click();
    await step("both sides to connect", [web], () => Promise.all([phase(web, "connected"), outgoing.connected.wait(30_000), outgoing.channelOpen.wait(30_000)]));
    await talkWithPage(outgoing, web);
    await web.page.click("#hangup");
    assert.match(await outgoing.ended.wait(), /^the peer's candidates document is gone$/);
    await phase(web, "ended");
    assert.equal(await web.page.textContent("#state"), "ended (hangup)");
    // The hang-up's end request follows its deletion (sent back to back), so it may land just after.
    const endRequest = await waitFor("the callee's end request", async () => ((await admin.db.doc(sessionPath(outgoing.sessionId)).get()).get("end_request") as { by: string } | null) ?? undefined, 10_000);
    assert.equal(endRequest.by, "callee");
    await web.page.context().close();
  });

  it("is called by the web client in Chromium: rings here, answers, connects, talks, and hangs up", async () => {
    const app = await start();
    const incoming = app.listenForCalls();
    try {
      await incoming.attached.wait();
      const web = await openWebPage("web caller");
      await web.page.fill("#callee", app.uid);
      await web.page.click("#call");
      const ring = await step("the libwebrtc client to ring", [web], () => incoming.waitForRinging(web.uid));
      const answered = await app.accept(ring);
      await step("both sides to connect", [web], () => Promise.all([phase(web, "connected"), answered.connected.wait(30_000), answered.channelOpen.wait(30_000)]));
      await talkWithPage(answered, web);
      // The page's caller reported connectivity; this callee did not (only the caller reports).
      assert.equal((await admin.db.doc(sessionPath(ring.sessionId)).get()).get("connectivity.by"), "caller");
      await answered.hangUp("hangup");
      await step("the page to see the hang-up", [web], () => phase(web, "ended"));
      assert.equal(await web.page.textContent("#state"), "ended (hangup)");
      await web.page.context().close();
    } finally {
      incoming.stop();
    }
  });
});
