// firestore.rules for the caller's limits (packages/contract/src/sessions/limits.ts), run in the
// Firestore emulator: for each limit, the call at the limit is allowed, the one past it is
// refused, and the limit comes back once a call ends (or the minute passes), with no function
// running. Every create here is the real dial batch: session, caller's candidates, limits write.
import { strict as assert } from "node:assert";
import { Timestamp, collection, deleteDoc, deleteField, doc, getDoc, getDocs, serverTimestamp, setDoc, updateDoc, writeBatch, type DocumentData } from "firebase/firestore";
import { CALL_LIMITS, callLimitsFields, answerFields, endRequestFields, sessionPath } from "@webrtc-lite/contract";
import {
  CALLEE,
  CALLER,
  STRANGER,
  allowed,
  answer,
  candidateFields,
  createFields,
  denied,
  limitsFields,
  limitsPath,
  secondsFromNow,
  useRulesFixture,
  type Call,
  type RulesFixture,
} from "../helpers/rules";

const { maxLiveCalls, callsPerMinute, windowSeconds } = CALL_LIMITS;
/** Callees other than CALLEE, enough for every limit. */
const CALLEES = Array.from({ length: callsPerMinute + 2 }, (_, index) => `callee${index}`);

/** Dials `callee` as `caller` with the real three-document batch, taking `slot` and releasing `released`. */
async function dial(f: RulesFixture, callee: string, slot: string, released: string[] = [], caller = CALLER): Promise<Call> {
  const call = f.newCall();
  await call.dial(caller, createFields({ caller_id: caller, callee_id: callee }), candidateFields("caller", [], { caller_id: caller, callee_id: callee }), limitsFields(call.id, callee, slot, released));
  return call;
}

/** The caller asks to end `call` (cancel: it is still ringing). */
function cancel(call: Call, caller = CALLER): Promise<void> {
  return updateDoc(call.session(caller), endRequestFields("caller", "cancel", serverTimestamp()));
}

/** Seeds `uid`'s limits document as it would be after earlier calls. */
function seedLimits(f: RulesFixture, live: Record<string, string>, recent: Record<string, Timestamp>, uid = CALLER): Promise<void> {
  const [calleeId, sessionId] = Object.entries(live)[0] ?? ["nobody", "none"];
  return f.seed(limitsPath(uid), { live, recent, slot: Object.keys(recent)[0] ?? "0", session_id: sessionId, callee_id: calleeId });
}

/** Every slot written `secondsAgo` seconds ago. */
function slotsWritten(secondsAgo: number): Record<string, Timestamp> {
  return Object.fromEntries(Array.from({ length: callsPerMinute }, (_, slot) => [String(slot), secondsFromNow(-secondsAgo)]));
}

describe("firestore.rules: the caller's limits (Firestore emulator)", function () {
  this.timeout(60_000);
  const f = useRulesFixture();

  describe(`at most ${maxLiveCalls} live calls as the caller`, () => {
    async function fill(): Promise<Call[]> {
      const calls: Call[] = [];
      for (let index = 0; index < maxLiveCalls; index += 1) calls.push(await allowed(dial(f, CALLEES[index], String(index))));
      return calls;
    }

    it(`allows ${maxLiveCalls} live calls to different callees and refuses one more, whichever entry it would drop`, async () => {
      await fill();
      await denied(dial(f, CALLEES[maxLiveCalls], String(maxLiveCalls)));
      for (let index = 0; index < maxLiveCalls; index += 1) await denied(dial(f, CALLEES[maxLiveCalls], String(maxLiveCalls), [CALLEES[index]]));
    });

    const endings: Array<[string, (call: Call) => Promise<void>]> = [
      ["the caller cancels it", (call) => cancel(call)],
      ["the callee rejects it", (call) => updateDoc(call.session(CALLEE), endRequestFields("callee", "reject", serverTimestamp()))],
      ["the server records it ended (no end request)", (call) => f.seed(sessionPath(call.id), { ...createFields({ callee_id: CALLEES[0] }), created_at: Timestamp.now(), updated_at: Timestamp.now(), expire_at: secondsFromNow(3_600), status: "ended", ended_at: Timestamp.now(), ended_reason: "timeout" })],
      ["it is deleted (sweep or TTL)", (call) => f.clear(sessionPath(call.id))],
    ];
    for (const [how, end] of endings) {
      it(`gives the slot back once a call ends, with no function running: ${how}`, async () => {
        // CALLEES[0]'s call is the one that ends; for the callee's reject it must be CALLEE's.
        const calls = [await allowed(dial(f, how.includes("callee rejects") ? CALLEE : CALLEES[0], "0"))];
        for (let index = 1; index < maxLiveCalls; index += 1) calls.push(await allowed(dial(f, CALLEES[index], String(index))));
        const released = how.includes("callee rejects") ? CALLEE : CALLEES[0];
        await denied(dial(f, CALLEES[maxLiveCalls], String(maxLiveCalls), [released]));
        await end(calls[0]);
        await allowed(dial(f, CALLEES[maxLiveCalls], String(maxLiveCalls), [released]));
      });
    }

    it("keeps a call left ringing past its deadline counted until it is ended, which the releasing dial may do with timeout", async () => {
      const calls = await fill();
      // Its caller's app died while it rang: past the deadline nobody can answer it any more,
      // but it still sits in the callee's incoming-calls query until someone ends it.
      await f.seed(sessionPath(calls[0].id), {
        ...createFields({ callee_id: CALLEES[0] }),
        ring_seconds: 10,
        created_at: secondsFromNow(-11),
        updated_at: secondsFromNow(-11),
        expire_at: secondsFromNow(3_600),
      });
      await denied(dial(f, CALLEES[maxLiveCalls], String(maxLiveCalls), [CALLEES[0]]));
      const next = f.newCall();
      const store = f.db(CALLER);
      const batch = writeBatch(store);
      batch.update(doc(store, sessionPath(calls[0].id)), endRequestFields("caller", "timeout", serverTimestamp()));
      batch.set(doc(store, sessionPath(next.id)), createFields({ callee_id: CALLEES[maxLiveCalls] }));
      batch.set(doc(store, limitsPath(CALLER)), limitsFields(next.id, CALLEES[maxLiveCalls], String(maxLiveCalls), [CALLEES[0]]), { merge: true });
      await allowed(batch.commit());
    });

    it("keeps an answered call counted past its ring deadline until it ends or expires", async () => {
      const calls = await fill();
      const answered = (expireSecondsFromNow: number) => ({
        ...createFields({ callee_id: CALLEES[0] }),
        answer,
        ring_seconds: 10,
        created_at: secondsFromNow(-600),
        updated_at: secondsFromNow(-600),
        expire_at: secondsFromNow(expireSecondsFromNow),
      });
      await f.seed(sessionPath(calls[0].id), answered(3_600));
      await denied(dial(f, CALLEES[maxLiveCalls], String(maxLiveCalls), [CALLEES[0]]));
      await f.seed(sessionPath(calls[0].id), answered(-1));
      await allowed(dial(f, CALLEES[maxLiveCalls], String(maxLiveCalls), [CALLEES[0]]));
    });

    it("lets one write release every ended entry at once", async () => {
      const calls = await fill();
      for (const call of calls) await cancel(call);
      await allowed(dial(f, CALLEES[maxLiveCalls], String(maxLiveCalls), CALLEES.slice(0, maxLiveCalls)));
      const limits = await getDoc(doc(f.db(CALLER), limitsPath(CALLER)));
      assert.deepEqual(Object.keys(limits.get("live") as object), [CALLEES[maxLiveCalls]]);
    });
  });

  describe("one live call per callee", () => {
    it("refuses a second call to the same callee while the first is live, and allows it once the first has ended", async () => {
      const first = await allowed(dial(f, CALLEE, "0"));
      await denied(dial(f, CALLEE, "1"));
      await cancel(first);
      await allowed(dial(f, CALLEE, "1"));
    });

    it("allows a new call that ends the previous one to the same callee in the same batch (a redial replaces it)", async () => {
      const first = await allowed(dial(f, CALLEE, "0"));
      await updateDoc(first.session(CALLEE), answerFields(answer));
      const second = f.newCall();
      const store = f.db(CALLER);
      const batch = writeBatch(store);
      batch.update(doc(store, sessionPath(first.id)), endRequestFields("caller", "hangup", serverTimestamp()));
      batch.set(doc(store, sessionPath(second.id)), createFields());
      batch.set(doc(store, limitsPath(CALLER)), limitsFields(second.id, CALLEE, "1"), { merge: true });
      await allowed(batch.commit());
    });

    it("refuses a new call to a callee whose previous call lapsed unended, so the callee's incoming calls never hold two from one caller", async () => {
      const first = await allowed(dial(f, CALLEE, "0"));
      await f.seed(sessionPath(first.id), { ...createFields(), ring_seconds: 10, created_at: secondsFromNow(-30), updated_at: secondsFromNow(-30), expire_at: secondsFromNow(3_600) });
      await denied(dial(f, CALLEE, "1"));
      await cancel(first);
      await allowed(dial(f, CALLEE, "1"));
    });

    it("keeps other callers' calls to the same callee apart", async () => {
      await allowed(dial(f, CALLEE, "0"));
      await allowed(dial(f, CALLEE, "0", [], STRANGER));
    });
  });

  describe(`at most ${callsPerMinute} calls started in any ${windowSeconds} seconds`, () => {
    it(`allows ${callsPerMinute} creates in a row and refuses the next one in every slot`, async () => {
      for (let slot = 0; slot < callsPerMinute; slot += 1) {
        // Each call is cancelled at once, so only the rate limit is in play.
        const released = slot >= maxLiveCalls ? [CALLEES[slot - maxLiveCalls]] : [];
        await cancel(await allowed(dial(f, CALLEES[slot], String(slot), released)));
      }
      for (let slot = 0; slot < callsPerMinute; slot += 1) {
        await denied(dial(f, CALLEES[callsPerMinute], String(slot), [CALLEES[callsPerMinute - maxLiveCalls]]));
      }
    });

    it(`gives a slot back ${windowSeconds} s after it was written, and not before`, async () => {
      await seedLimits(f, {}, slotsWritten(windowSeconds - 5));
      for (let slot = 0; slot < callsPerMinute; slot += 1) await denied(dial(f, CALLEE, String(slot)));
      await seedLimits(f, {}, { ...slotsWritten(windowSeconds - 5), 7: secondsFromNow(-(windowSeconds + 1)) });
      for (const slot of ["0", "6", "8"]) await denied(dial(f, CALLEE, slot));
      await allowed(dial(f, CALLEE, "7"));
    });

    it(`refuses a slot outside 0–${callsPerMinute - 1} or not a plain number`, async () => {
      for (const slot of [String(callsPerMinute), "-1", "01", "1.0", " 1", "a"]) await denied(dial(f, CALLEE, slot));
      await allowed(dial(f, CALLEE, String(callsPerMinute - 1)));
    });
  });

  describe("the create is tied to its limits write", () => {
    it("refuses a session created without the limits write, or with a limits write for another session, callee or time", async () => {
      const call = f.newCall();
      await denied(call.dial(CALLER, createFields(), undefined, null));
      await denied(call.dial(CALLER, createFields(), undefined, limitsFields("another", CALLEE)));
      await denied(call.dial(CALLER, createFields(), undefined, { ...limitsFields(call.id, CALLEE), callee_id: CALLEES[0], live: { [CALLEES[0]]: call.id } }));
      // The limits document as an earlier batch left it does not count for this create.
      await f.seed(limitsPath(CALLER), { live: { [CALLEE]: call.id }, recent: { 0: Timestamp.now() }, slot: "0", session_id: call.id, callee_id: CALLEE });
      await denied(call.dial(CALLER, createFields(), undefined, null));
      await allowed(call.dial(CALLER, createFields()));
    });

    it("refuses two sessions created with one limits write", async () => {
      const [first, second] = [f.newCall(), f.newCall()];
      const store = f.db(CALLER);
      const batch = writeBatch(store);
      batch.set(doc(store, sessionPath(first.id)), createFields());
      batch.set(doc(store, sessionPath(second.id)), createFields({ callee_id: CALLEES[0] }));
      batch.set(doc(store, limitsPath(CALLER)), callLimitsFields({ sessionId: first.id, calleeId: CALLEE, slot: "0", released: [] }, serverTimestamp(), deleteField()), { merge: true });
      await denied(batch.commit());
    });
  });

  describe("call_limits/{uid} itself", () => {
    it("is readable by its owner only, and nobody lists or deletes it", async () => {
      await allowed(dial(f, CALLEE, "0"));
      const limits = await allowed(getDoc(doc(f.db(CALLER), limitsPath(CALLER))));
      assert.deepEqual(limits.get("live"), { [CALLEE]: limits.get("session_id") as string });
      await allowed(getDoc(doc(f.db(STRANGER), limitsPath(STRANGER))));
      await denied(getDoc(doc(f.db(STRANGER), limitsPath(CALLER))));
      await denied(getDoc(doc(f.db(), limitsPath(CALLER))));
      await denied(getDocs(collection(f.db(CALLER), "call_limits")));
      await denied(deleteDoc(doc(f.db(CALLER), limitsPath(CALLER))));
    });

    // The fields of one dial's limits write (limitsFields), to be changed one way each.
    type LimitsWrite = { live: Record<string, unknown>; recent: Record<string, unknown>; session_id: string };
    const refused: Array<[string, (fields: LimitsWrite) => DocumentData]> = [
      ["an unknown key", (fields) => ({ ...fields, note: "x" })],
      ["two slots written", (fields) => ({ ...fields, recent: { ...fields.recent, 1: serverTimestamp() } })],
      ["its slot written with another time", (fields) => ({ ...fields, recent: { 0: Timestamp.now() } })],
      ["a second entry added", (fields) => ({ ...fields, live: { ...fields.live, [CALLEES[0]]: "other" } })],
      ["an entry naming another session", (fields) => ({ ...fields, live: { [CALLEE]: "other" } })],
      ["a session id with a slash", (fields) => ({ ...fields, session_id: "a/b", live: { [CALLEE]: "a/b" } })],
      ["a callee that is not a uid", (fields) => ({ ...fields, callee_id: "<b>", live: { "<b>": fields.session_id } })],
    ];
    for (const [what, change] of refused) {
      it(`refuses a dial whose limits write has ${what}`, async () => {
        const call = f.newCall();
        const fields = limitsFields(call.id, CALLEE);
        await denied(call.dial(CALLER, createFields(), candidateFields("caller"), change(fields as LimitsWrite)));
        await allowed(call.dial(CALLER, createFields(), candidateFields("caller"), fields));
      });
    }

    it("refuses a write to another user's document, or signed out", async () => {
      await denied(setDoc(doc(f.db(STRANGER), limitsPath(CALLER)), limitsFields("session1", CALLEE), { merge: true }));
      await denied(setDoc(doc(f.db(), limitsPath(CALLER)), limitsFields("session1", CALLEE), { merge: true }));
    });

    it("refuses a limits write in a batch that creates no session: not for a session of the user's that exists, nor for one that does not", async () => {
      const earlier = await dial(f, CALLEE, "0");
      await denied(setDoc(doc(f.db(CALLER), limitsPath(CALLER)), limitsFields(earlier.id, CALLEE, "1"), { merge: true }));
      await denied(setDoc(doc(f.db(CALLER), limitsPath(CALLER)), limitsFields("never-created", CALLEES[0], "1"), { merge: true }));
      // The same write beside an update of the earlier session (not its create) is refused too.
      const store = f.db(CALLER);
      const batch = writeBatch(store);
      batch.update(doc(store, sessionPath(earlier.id)), endRequestFields("caller", "cancel", serverTimestamp()));
      batch.set(doc(store, limitsPath(CALLER)), limitsFields(earlier.id, CALLEE, "1"), { merge: true });
      await denied(batch.commit());
    });
  });

  describe("anonymous callers (anonymousCallersAllowed() true, the default)", () => {
    it("lets a user signed in anonymously start a call", async () => {
      const call = f.newCall();
      const store = f.db(CALLER, { firebase: { sign_in_provider: "anonymous" } });
      const batch = writeBatch(store);
      batch.set(doc(store, sessionPath(call.id)), createFields());
      batch.set(doc(store, limitsPath(CALLER)), limitsFields(call.id, CALLEE), { merge: true });
      await allowed(batch.commit());
    });
  });
});

describe("firestore.rules with anonymousCallersAllowed() false (Firestore emulator)", function () {
  this.timeout(60_000);
  const f = useRulesFixture({
    rules: (source) => {
      const switched = source.replace(/(function anonymousCallersAllowed\(\) \{\s*return )true;/, "$1false;");
      assert.notEqual(switched, source, "firestore.rules has no anonymousCallersAllowed() returning true");
      return switched;
    },
  });

  function dialAs(provider: "anonymous" | "password"): Promise<void> {
    const call = f.newCall();
    const store = f.db(CALLER, { firebase: { sign_in_provider: provider } });
    const batch = writeBatch(store);
    batch.set(doc(store, sessionPath(call.id)), createFields());
    batch.set(doc(store, limitsPath(CALLER)), limitsFields(call.id, CALLEE), { merge: true });
    return batch.commit();
  }

  it("refuses a call from a user signed in anonymously, and takes one from any other sign-in", async () => {
    await denied(dialAs("anonymous"));
    await allowed(dialAs("password"));
  });

  it("still lets an anonymous user answer a call", async () => {
    const call = await f.seedCall("offered");
    const store = f.db(CALLEE, { firebase: { sign_in_provider: "anonymous" } });
    const batch = writeBatch(store);
    batch.update(doc(store, sessionPath(call.id)), answerFields(answer));
    batch.set(doc(store, `${sessionPath(call.id)}/ice_candidates/callee`), candidateFields("callee"));
    await allowed(batch.commit());
  });
});
