import { strict as assert } from "node:assert";
import { CREATE_EXPIRY, SESSIONS_COLLECTION, candidatesPath, sessionPath } from "@webrtc-lite/contract";
import { handleSessionWritten } from "#functions/sessions/trigger";
import type { EmulatorAdmin, AdminDocumentSnapshot } from "@webrtc-lite/dev-stack/admin";
import { describeStreamTrouble, describeTimings, openCallPage, phase, placeCall, sendMessage, type CallPage, type PageCredentials } from "../helpers/call-pages";
import { startServerlessCallSite, type ServerlessCallSite, type SelfTestSite } from "../helpers/selftest-site";
import { SUITE_TIMEOUTS } from "@webrtc-lite/dev-stack/signaling-stack";
import { waitFor } from "@webrtc-lite/dev-stack/wait";


/** How late the stand-in trigger handles each write (a cold start on a real deployment). */
const TRIGGER_DELAY_MS = 5_000;

/**
 * The proof that the call path needs no Cloud Function. Only the Auth, Firestore and Hosting
 * emulators run; the test mints the TURN credentials itself and answers the pages' callable
 * requests with them, so nothing could run a trigger while the browsers call.
 */
describe("two browsers call each other with no Functions emulator (client writes and listeners only)", function () {
  this.timeout(300_000);
  let serverless: ServerlessCallSite;
  let site: SelfTestSite;
  let admin: EmulatorAdmin;
  let credentials: PageCredentials;
  let url: string;

  before(async () => {
    serverless = await startServerlessCallSite("web-call-test");
    ({ site, admin, credentials } = serverless);
    url = `${site.url}call.html`;
  });
  after(async () => {
    await serverless?.stop();
  });

  const session = (id: string): Promise<AdminDocumentSnapshot> => admin.db.doc(sessionPath(id)).get();
  const exists = async (id: string, sender: "caller" | "callee"): Promise<boolean> => (await admin.db.doc(candidatesPath(id, sender)).get()).exists;

  it("calls end to end with no function, then the trigger handler run on the session as it is now records the end", async () => {
    const alice = await openCallPage(site.browser, url, "caller", credentials);
    const bob = await openCallPage(site.browser, url, "callee", credentials);
    const { sessionId, timings } = await placeCall(alice, bob, {
      connected: async (id) => {
        const live = (await session(id)).data()!;
        // Nothing but the clients wrote: the record is still the create's, the fields show the progress.
        assert.deepEqual([live.status, live.answer?.type, live.connectivity?.by], ["pending", "answer", "caller"]);
      },
    });

    // The hang-up's end request follows its deletion (sent back to back), so it may land just after.
    const before = await waitFor("the caller's end request", async () => {
      const snapshot = await session(sessionId);
      return snapshot.get("end_request") ? snapshot : undefined;
    }, 10_000);
    const created = before.data()!;
    assert.equal(created.status, "pending");
    assert.deepEqual([created.end_request?.by, created.end_request?.reason], ["caller", "hangup"]);
    // The create's own expiry: a session no function ever touches still leaves through the TTL policy.
    const expiresIn = created.expire_at.toMillis() - created.created_at.toMillis();
    assert.ok(Math.abs(expiresIn - CREATE_EXPIRY.clientSeconds * 1_000) < 60_000, `expire_at is ${expiresIn} ms after created_at`);
    // The caller's hang-up deleted its own document; the callee, learning of the end from that, deleted its own.
    await waitFor("both candidates documents to be gone with no function", async () => ((await exists(sessionId, "caller")) || (await exists(sessionId, "callee")) ? undefined : true), 10_000);

    const handled = await handleSessionWritten(admin.db, before, SUITE_TIMEOUTS);
    assert.deepEqual([handled.decision.kind, handled.outcome], ["transition", "written"]);
    const after = await session(sessionId);
    const ended = after.data()!;
    assert.deepEqual([ended.status, ended.ended_reason], ["ended", "hangup"]);
    assert.equal(ended.expire_at.toMillis() - ended.ended_at.toMillis(), SUITE_TIMEOUTS.sessionTtlSeconds * 1_000);
    assert.deepEqual([await exists(sessionId, "caller"), await exists(sessionId, "callee")], [false, false]);
    // Converged: the event of its own write (or a redelivery) changes nothing.
    assert.equal((await handleSessionWritten(admin.db, after, SUITE_TIMEOUTS)).decision.kind, "none");
    console.log(describeTimings("call (no Functions emulator)", timings));
    console.log(describeStreamTrouble([alice, bob]));
  });

  it("keeps a call between two browsers carrying data both ways through a coturn restart (every allocation lost): ICE restarts in place", async () => {
    const alice = await openCallPage(site.browser, url, "caller", credentials);
    const bob = await openCallPage(site.browser, url, "callee", credentials);
    let recovery = "";
    await placeCall(alice, bob, {
      connected: async (id) => {
        const broken = Date.now();
        await site.coturn.halt();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await site.coturn.restart();
        // Messages sent during the outage wait in SCTP; these go out once the relay is back.
        await Promise.all([sendMessage(alice, bob, "after the restart, to the callee", 40_000), sendMessage(bob, alice, "after the restart, to the caller", 40_000)]);
        recovery = `coturn restart → data both ways again ${Date.now() - broken} ms (includes the 1 s outage)`;
        const generation = async (role: "caller" | "callee") => (await admin.db.doc(candidatesPath(id, role)).get()).get("generation") as number | undefined;
        const [callerGeneration, calleeGeneration] = await Promise.all([generation("caller"), generation("callee")]);
        assert.ok((callerGeneration ?? 0) >= 1 && callerGeneration === calleeGeneration, `both pages moved to a new ICE generation: ${callerGeneration} / ${calleeGeneration}`);
        await Promise.all([phase(alice, "connected"), phase(bob, "connected")]);
      },
    });
    console.log(`      ${recovery}`);
  });

  it(`rings before any trigger has run and connects while a trigger handles each write ${TRIGGER_DELAY_MS / 1_000} s late`, async () => {
    const alice: CallPage = await openCallPage(site.browser, url, "caller", credentials);
    const bob: CallPage = await openCallPage(site.browser, url, "callee", credentials);
    const trouble: string[] = [];
    const timers = new Set<NodeJS.Timeout>();
    const runs: Array<{ at: number; status: string }> = [];
    // What this process saw, in the order it saw it: the callee's page ringing, and the stand-in
    // trigger's first handling (its timers fire here too, so the order is the event loop's).
    const order: Array<"rang" | "trigger ran"> = [];
    // The trigger as a cold deployment delivers it: the document as written, handled 5 s later.
    const stop = admin.db
      .collection(SESSIONS_COLLECTION)
      .where("caller_id", "==", alice.uid)
      .onSnapshot(
        (snapshot) => {
          for (const change of snapshot.docChanges()) {
            if (change.type === "removed") continue;
            const written = change.doc;
            const timer = setTimeout(() => {
              timers.delete(timer);
              if (!order.includes("trigger ran")) order.push("trigger ran");
              handleSessionWritten(admin.db, written, SUITE_TIMEOUTS).then(
                (outcome) => runs.push({ at: Date.now(), status: String(outcome.decision.kind === "transition" ? outcome.decision.to : outcome.decision.kind) }),
                (error: unknown) => trouble.push(`trigger stand-in: ${String(error)}`),
              );
            }, TRIGGER_DELAY_MS);
            timers.add(timer);
          }
        },
        (error) => trouble.push(`admin listener: ${error.message}`),
      );
    try {
      let statusAtConnect = "";
      const { sessionId, timings } = await placeCall(
        alice,
        bob,
        {
          ringing: async (id) => {
            order.push("rang");
            assert.equal((await session(id)).get("status"), "pending", "the callee rang from the create alone");
          },
          connected: async (id) => {
            statusAtConnect = String((await session(id)).get("status"));
          },
        },
        () => trouble,
      );
      // The hook runs once the callee's page shows the call: if that came first, the ring owed
      // nothing to a trigger, which at the earliest handles the create 5 s after it was written.
      assert.deepEqual(order.slice(0, 1), ["rang"], "the callee's page showed the call before any trigger had run");

      await waitFor(
        "the late trigger to record the end",
        async () => {
          const ended = (await session(sessionId)).data()!;
          return ended.status === "ended" && !(await exists(sessionId, "callee")) && !(await exists(sessionId, "caller")) ? ended : undefined;
        },
        60_000,
      ).then((ended) => {
        assert.equal(ended.ended_reason, "hangup");
        assert.equal(ended.expire_at.toMillis() - ended.ended_at.toMillis(), SUITE_TIMEOUTS.sessionTtlSeconds * 1_000);
      });
      assert.deepEqual(trouble, []);
      // The late trigger did run (it recorded the end), after the ring.
      assert.deepEqual(order, ["rang", "trigger ran"]);
      console.log(describeStreamTrouble([alice, bob]));
      console.log(
        `${describeTimings("call (trigger 5 s late)", timings)}; status when both connected: ${statusAtConnect}; trigger runs: ${runs.map((run) => run.status).join(", ")}`,
      );
    } finally {
      stop();
      timers.forEach((timer) => clearTimeout(timer));
    }
  });
});
