import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertFails, assertSucceeds, initializeTestEnvironment, type RulesTestEnvironment } from "@firebase/rules-unit-testing";
import {
  Timestamp,
  arrayUnion,
  collection,
  deleteDoc,
  deleteField,
  doc,
  documentId,
  getDoc,
  getDocs,
  limit,
  onSnapshot,
  orderBy,
  query,
  serverTimestamp,
  setDoc,
  setLogLevel,
  updateDoc,
  where,
  type DocumentData,
} from "firebase/firestore";
import { answerFields, candidatesPath, connectivityFields, endRequestFields, sessionCreateFields, sessionPath, type EndRequestReason, type Role } from "../../functions/src/sessions/model";
import { PROJECT_ID, REPO_ROOT, startEmulatorStack, type EmulatorStack } from "../helpers/emulators";
import { sampleCandidates, sampleSdp } from "../helpers/sdp";
import { Signal } from "../helpers/snapshots";

const ALICE = "alice"; // caller
const BOB = "bob"; // callee
const MALLORY = "mallory"; // signed in, not a participant

const offer = { type: "offer" as const, sdp: sampleSdp("offer") };
const answer = { type: "answer" as const, sdp: sampleSdp("answer") };

/** An SDP padded to exactly `length` characters with an extra attribute line. */
function sdpOfLength(type: "offer" | "answer", length: number): string {
  const base = sampleSdp(type) + "a=x-pad:";
  return base + "p".repeat(length - base.length);
}

describe("firestore.rules (Firestore emulator)", function () {
  this.timeout(120_000);
  let stack: EmulatorStack;
  let env: RulesTestEnvironment;
  let sessionId: string;

  before(async () => {
    // Each refused write is expected here; the SDK would also log it as a stream error.
    setLogLevel("silent");
    stack = await startEmulatorStack({ emulators: ["firestore"], params: {}, secrets: {} });
    env = await initializeTestEnvironment({
      projectId: PROJECT_ID,
      firestore: { host: "127.0.0.1", port: stack.ports.firestore, rules: readFileSync(join(REPO_ROOT, "firestore.rules"), "utf8") },
    });
  });
  after(async () => {
    await env?.cleanup();
    await stack?.stop();
  });
  beforeEach(async () => {
    await env.clearFirestore();
    sessionId = randomUUID();
  });

  const as = (uid?: string) => (uid ? env.authenticatedContext(uid).firestore() : env.unauthenticatedContext().firestore());
  const session = (uid?: string) => doc(as(uid), sessionPath(sessionId));
  const candidates = (uid: string | undefined, sender: Role) => doc(as(uid), candidatesPath(sessionId, sender));

  async function seed(path: string, data: DocumentData): Promise<void> {
    await env.withSecurityRulesDisabled(async (context) => {
      await setDoc(doc(context.firestore(), path), data);
    });
  }

  /** A session as the server leaves it in `status` (times are the server's). */
  async function seedSession(status: string, extra: DocumentData = {}): Promise<void> {
    const now = Timestamp.now();
    await seed(sessionPath(sessionId), { caller_id: ALICE, callee_id: BOB, status, offer, created_at: now, updated_at: now, expire_at: now, ...extra });
  }

  /** Both candidate documents as the trigger creates them when the call rings. */
  async function seedCandidateDocuments(): Promise<void> {
    for (const sender of ["caller", "callee"] as const) {
      const now = Timestamp.now();
      await seed(candidatesPath(sessionId, sender), { sender, caller_id: ALICE, callee_id: BOB, candidates: [], created_at: now, expire_at: now });
    }
  }

  async function denied(operation: Promise<unknown>): Promise<void> {
    const error = (await assertFails(operation)) as { code?: string };
    assert.equal(error.code, "permission-denied");
  }

  const create = (fields: DocumentData, uid = ALICE) => setDoc(session(uid), fields);
  const validCreate = () => sessionCreateFields({ caller_id: ALICE, callee_id: BOB, offer }, serverTimestamp());

  describe("creating a session", () => {
    it("lets the caller create a pending session, as itself, to someone else, carrying the offer", async () => {
      await assertSucceeds(create(validCreate()));
    });

    it("accepts an offer of exactly 32768 characters", async () => {
      await assertSucceeds(create({ ...validCreate(), offer: { type: "offer", sdp: sdpOfLength("offer", 32_768) } }));
    });

    const refused: Array<[string, DocumentData, string?]> = [
      ["as someone else", { ...validCreate(), caller_id: BOB, callee_id: ALICE }],
      ["to themself", { ...validCreate(), callee_id: ALICE }],
      ["to an empty callee", { ...validCreate(), callee_id: "" }],
      ["to a callee id longer than 128", { ...validCreate(), callee_id: "b".repeat(129) }],
      ["in a state other than pending", { ...validCreate(), status: "offered" }],
      ["without an offer", (({ offer: _offer, ...rest }) => rest)(validCreate())],
      ["with an offer typed as an answer", { ...validCreate(), offer: { type: "answer", sdp: offer.sdp } }],
      ["with an oversized offer (32769 characters)", { ...validCreate(), offer: { type: "offer", sdp: sdpOfLength("offer", 32_769) } }],
      ["with an implausible offer (no DTLS fingerprint)", { ...validCreate(), offer: { type: "offer", sdp: offer.sdp.replaceAll("a=fingerprint:", "a=x-fp:") } }],
      ["with an offer that is not SDP", { ...validCreate(), offer: { type: "offer", sdp: "hello" } }],
      ["with extra keys in the offer", { ...validCreate(), offer: { ...offer, note: "x" } }],
      ["with an answer already", { ...validCreate(), answer }],
      ["with server-owned fields", { ...validCreate(), expire_at: Timestamp.now() }],
      ["with an unknown key", { ...validCreate(), priority: "high" }],
      ["with a client-chosen created_at", { ...validCreate(), created_at: Timestamp.now() }],
      ["with a client-chosen updated_at", { ...validCreate(), updated_at: Timestamp.fromMillis(0) }],
    ];
    for (const [what, fields] of refused) {
      it(`refuses a create ${what}`, async () => {
        await denied(create(fields));
      });
    }

    it("refuses a create by a signed-out user", async () => {
      await denied(setDoc(session(), validCreate()));
    });
  });

  describe("reading sessions", () => {
    beforeEach(() => seedSession("offered"));

    it("lets both participants read the session, and nobody else", async () => {
      await assertSucceeds(getDoc(session(ALICE)));
      await assertSucceeds(getDoc(session(BOB)));
      await denied(getDoc(session(MALLORY)));
      await denied(getDoc(session()));
    });

    it("allows the callee's incoming-calls query (Q0) and the caller's session query (Q1)", async () => {
      const incoming = query(collection(as(BOB), "webrtc_sessions"), where("callee_id", "==", BOB), where("status", "==", "offered"), orderBy("created_at", "desc"), limit(10));
      assert.equal((await assertSucceeds(getDocs(incoming))).size, 1);
      const q1 = query(collection(as(ALICE), "webrtc_sessions"), where(documentId(), "==", sessionId), where("caller_id", "==", ALICE), where("status", "in", ["offered", "answered", "ended"]), limit(1));
      assert.equal((await assertSucceeds(getDocs(q1))).size, 1);
    });

    it("refuses a query by id for a session that does not exist yet or belongs to others", async () => {
      const q1 = (uid: string, id: string) =>
        query(collection(as(uid), "webrtc_sessions"), where(documentId(), "==", id), where("caller_id", "==", uid), where("status", "in", ["offered", "answered", "ended"]), limit(1));
      // Hence the caller attaches Q1 only after creating the session.
      await denied(getDocs(q1(ALICE, randomUUID())));
      await denied(getDocs(q1(MALLORY, sessionId)));
      await denied(getDocs(query(collection(as(MALLORY), "webrtc_sessions"), where(documentId(), "==", sessionId), limit(1))));
    });

    it("allows 'my calls' with a limit of at most 20", async () => {
      const mine = (uid: string, field: string, count: number) => query(collection(as(uid), "webrtc_sessions"), where(field, "==", uid), orderBy("created_at", "desc"), limit(count));
      assert.equal((await assertSucceeds(getDocs(mine(ALICE, "caller_id", 20)))).size, 1);
      assert.equal((await assertSucceeds(getDocs(mine(BOB, "callee_id", 20)))).size, 1);
      await denied(getDocs(mine(ALICE, "caller_id", 21)));
    });

    it("refuses wider queries: no limit, no own id, someone else's id", async () => {
      const sessions = collection(as(BOB), "webrtc_sessions");
      await denied(getDocs(query(sessions, where("callee_id", "==", BOB))));
      await denied(getDocs(query(sessions, where("status", "==", "offered"), limit(10))));
      await denied(getDocs(query(collection(as(MALLORY), "webrtc_sessions"), where("callee_id", "==", BOB), limit(10))));
    });
  });

  describe("the callee's answer", () => {
    it("is accepted from the callee while the call rings", async () => {
      await seedSession("offered");
      await assertSucceeds(updateDoc(session(BOB), answerFields(answer)));
    });

    it("accepts an answer of exactly 32768 characters", async () => {
      await seedSession("offered");
      await assertSucceeds(updateDoc(session(BOB), { answer: { type: "answer", sdp: sdpOfLength("answer", 32_768) } }));
    });

    const refused: Array<[string, string, string, DocumentData, DocumentData?]> = [
      ["from the caller", ALICE, "offered", answerFields(answer)],
      ["from a third user", MALLORY, "offered", answerFields(answer)],
      ["before the call rings (pending)", BOB, "pending", answerFields(answer)],
      ["after it was answered (a rewrite)", BOB, "answered", { answer: { type: "answer", sdp: sampleSdp("answer").replace("kT9x", "zzzz") } }, { answer }],
      ["typed as an offer", BOB, "offered", { answer: { type: "offer", sdp: answer.sdp } }],
      ["oversized (32769 characters)", BOB, "offered", { answer: { type: "answer", sdp: sdpOfLength("answer", 32_769) } }],
      ["that is not SDP", BOB, "offered", { answer: { type: "answer", sdp: "v=0" } }],
      ["with extra keys", BOB, "offered", { answer: { ...answer, candidates: [] } }],
    ];
    for (const [what, uid, status, update, extra] of refused) {
      it(`is refused ${what}`, async () => {
        await seedSession(status, extra);
        await denied(updateDoc(session(uid), update));
      });
    }
  });

  describe("fields nobody but the server writes", () => {
    beforeEach(() => seedSession("offered"));

    const attempts: Array<[string, DocumentData]> = [
      ["the offer (rewrite)", { offer: { type: "offer", sdp: sampleSdp("offer").replace("Gq2b", "evil") } }],
      ["status", { status: "connected" }],
      ["caller_id", { caller_id: MALLORY }],
      ["callee_id", { callee_id: MALLORY }],
      ["created_at", { created_at: serverTimestamp() }],
      ["updated_at", { updated_at: serverTimestamp() }],
      ["ended_at", { ended_at: serverTimestamp() }],
      ["ended_reason", { ended_reason: "hangup" }],
      ["error", { error: { code: "x", message: "y" } }],
      ["expire_at", { expire_at: Timestamp.fromMillis(0) }],
      ["an unknown key", { note: "hi" }],
    ];
    for (const [what, update] of attempts) {
      for (const uid of [ALICE, BOB]) {
        it(`refuses ${what} from the ${uid === ALICE ? "caller" : "callee"}`, async () => {
          await denied(updateDoc(session(uid), update));
        });
      }
    }

    it("refuses removing the offer", async () => {
      await denied(updateDoc(session(ALICE), { offer: deleteField() }));
    });

    it("refuses deleting a session, even by a participant", async () => {
      await denied(deleteDoc(session(ALICE)));
      await denied(deleteDoc(session(BOB)));
    });
  });

  describe("the connectivity report", () => {
    for (const [uid, role] of [
      [ALICE, "caller"],
      [BOB, "callee"],
    ] as const) {
      it(`is accepted from the ${role}, as itself, while answered`, async () => {
        await seedSession("answered", { answer });
        await assertSucceeds(updateDoc(session(uid), connectivityFields(role, serverTimestamp())));
      });
    }

    it("is refused before the answer, after connecting, under the other role, at client time, with extra keys, from a third user", async () => {
      await seedSession("offered");
      await denied(updateDoc(session(ALICE), connectivityFields("caller", serverTimestamp())));
      await seedSession("connected", { answer, connectivity: { by: "caller", at: Timestamp.now() } });
      await denied(updateDoc(session(BOB), connectivityFields("callee", serverTimestamp())));
      await seedSession("answered", { answer });
      await denied(updateDoc(session(BOB), connectivityFields("caller", serverTimestamp())));
      await denied(updateDoc(session(ALICE), { connectivity: { by: "caller", at: Timestamp.now() } }));
      await denied(updateDoc(session(ALICE), { connectivity: { by: "caller", at: serverTimestamp(), relay: true } }));
      await denied(updateDoc(session(MALLORY), connectivityFields("caller", serverTimestamp())));
    });
  });

  describe("the end request", () => {
    const allowed: Array<[string, string, Role, EndRequestReason, DocumentData?]> = [
      ["pending", ALICE, "caller", "cancel"],
      ["pending", ALICE, "caller", "timeout"],
      ["offered", ALICE, "caller", "cancel"],
      ["offered", BOB, "callee", "reject"],
      ["offered", BOB, "callee", "busy"],
      ["offered", BOB, "callee", "hangup", { answer }],
      ["answered", ALICE, "caller", "cancel", { answer }],
      ["answered", BOB, "callee", "failed", { answer }],
      ["connected", ALICE, "caller", "hangup", { answer }],
      ["connected", BOB, "callee", "hangup", { answer }],
      ["connected", ALICE, "caller", "failed", { answer }],
    ];
    for (const [status, uid, role, reason, extra] of allowed) {
      it(`accepts ${reason} from the ${role} while ${status}`, async () => {
        await seedSession(status, extra);
        await assertSucceeds(updateDoc(session(uid), endRequestFields(role, reason, serverTimestamp())));
      });
    }

    const refused: Array<[string, string, string, DocumentData]> = [
      ["a reject from the caller", "offered", ALICE, endRequestFields("caller", "reject", serverTimestamp())],
      ["a cancel from the callee", "offered", BOB, endRequestFields("callee", "cancel", serverTimestamp())],
      ["a cancel of a connected call", "connected", ALICE, endRequestFields("caller", "cancel", serverTimestamp())],
      ["a reject of an answered call", "answered", BOB, endRequestFields("callee", "reject", serverTimestamp())],
      ["a request forged in the other participant's name", "connected", BOB, endRequestFields("caller", "hangup", serverTimestamp())],
      ["an unknown reason", "connected", ALICE, { end_request: { by: "caller", reason: "bored", at: serverTimestamp() } }],
      ["a client-chosen time", "connected", ALICE, { end_request: { by: "caller", reason: "hangup", at: Timestamp.now() } }],
      ["extra keys", "connected", ALICE, { end_request: { by: "caller", reason: "hangup", at: serverTimestamp(), note: "x" } }],
      ["a request from a third user", "connected", MALLORY, endRequestFields("caller", "hangup", serverTimestamp())],
    ];
    for (const [what, status, uid, update] of refused) {
      it(`refuses ${what}`, async () => {
        await seedSession(status, { answer });
        await denied(updateDoc(session(uid), update));
      });
    }
  });

  describe("an ended session", () => {
    it("takes no more writes from anyone", async () => {
      await seedSession("ended", { answer, ended_at: Timestamp.now(), ended_reason: "hangup", end_request: { by: "caller", reason: "hangup", at: Timestamp.now() } });
      await denied(updateDoc(session(BOB), endRequestFields("callee", "hangup", serverTimestamp())));
      await denied(updateDoc(session(ALICE), connectivityFields("caller", serverTimestamp())));
      await denied(updateDoc(session(BOB), answerFields(answer)));
      await assertSucceeds(getDoc(session(ALICE)));
    });
  });

  describe("candidate documents", () => {
    beforeEach(async () => {
      await seedSession("offered");
      await seedCandidateDocuments();
    });
    const append = (uid: string | undefined, sender: Role, entries: unknown[]) => updateDoc(candidates(uid, sender), { candidates: arrayUnion(...entries) });

    it("let each side append its own candidates and end-of-candidates, in batches", async () => {
      const callerEntries = sampleCandidates("caller");
      await assertSucceeds(append(ALICE, "caller", callerEntries.slice(0, 3)));
      await assertSucceeds(append(ALICE, "caller", callerEntries.slice(3)));
      await assertSucceeds(append(BOB, "callee", sampleCandidates("callee")));
      await assertSucceeds(append(BOB, "callee", [{ candidate: "", sdpMid: null, sdpMLineIndex: null }]));
      const stored = await assertSucceeds(getDoc(candidates(BOB, "caller")));
      assert.deepEqual(stored.data()?.candidates, callerEntries);
    });

    const numbered = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => ({ candidate: `candidate:${from + index} 1 udp 1 192.0.2.10 ${1000 + from + index} typ host`, sdpMid: "0", sdpMLineIndex: 0 }));

    it("accept batches of up to 8 entries, 20 in all, and refuse the 21st", async () => {
      await assertSucceeds(append(ALICE, "caller", numbered(0, 8)));
      await assertSucceeds(append(ALICE, "caller", numbered(8, 8)));
      await assertSucceeds(append(ALICE, "caller", numbered(16, 4)));
      await denied(append(ALICE, "caller", numbered(20, 1)));
      const stored = await assertSucceeds(getDoc(candidates(ALICE, "caller")));
      assert.equal(stored.data()?.candidates.length, 20);
    });

    it("refuse a batch of 9 entries, a write that appends nothing, and rewriting earlier entries", async () => {
      await denied(append(ALICE, "caller", numbered(0, 9)));
      await assertSucceeds(append(ALICE, "caller", numbered(0, 2)));
      await denied(append(ALICE, "caller", numbered(0, 2)));
      await denied(updateDoc(candidates(ALICE, "caller"), { candidates: [...numbered(5, 1), ...numbered(1, 1), ...numbered(2, 1)] }));
      await denied(updateDoc(candidates(ALICE, "caller"), { candidates: numbered(0, 1) }));
    });

    it("refuse a forged sender: writing the other side's document, or renaming one's own", async () => {
      await denied(append(ALICE, "callee", sampleCandidates("caller")));
      await denied(append(BOB, "caller", sampleCandidates("callee")));
      await denied(updateDoc(candidates(ALICE, "caller"), { sender: "callee" }));
    });

    it("refuse server-owned fields and unknown keys", async () => {
      await denied(updateDoc(candidates(ALICE, "caller"), { caller_id: MALLORY }));
      await denied(updateDoc(candidates(ALICE, "caller"), { expire_at: Timestamp.now() }));
      await denied(updateDoc(candidates(ALICE, "caller"), { candidates: arrayUnion(sampleCandidates("caller")[0]), note: "x" }));
    });

    const badEntries: Array<[string, unknown]> = [
      ["a malformed line", { candidate: "candidate:1 1 udp 1 192.0.2.10 9 typ peer", sdpMid: "0", sdpMLineIndex: 0 }],
      ["an SDP attribute line", { candidate: "a=candidate:1 1 udp 1 192.0.2.10 9 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
      ["a port above 65535", { candidate: "candidate:1 1 udp 1 192.0.2.10 65536 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
      ["a component of 0", { candidate: "candidate:1 0 udp 1 192.0.2.10 9 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
      ["a line longer than 512", { candidate: `candidate:1 1 udp 1 192.0.2.10 9 typ host${" ext v".repeat(100)}`, sdpMid: "0", sdpMLineIndex: 0 }],
      ["neither sdpMid nor sdpMLineIndex", { candidate: "candidate:1 1 udp 1 192.0.2.10 9 typ host", sdpMid: null, sdpMLineIndex: null }],
      ["sdpMLineIndex 64", { candidate: "candidate:1 1 udp 1 192.0.2.10 9 typ host", sdpMid: null, sdpMLineIndex: 64 }],
      ["an sdpMid longer than 64", { candidate: "candidate:1 1 udp 1 192.0.2.10 9 typ host", sdpMid: "m".repeat(65), sdpMLineIndex: null }],
      ["an extra key", { candidate: "candidate:1 1 udp 1 192.0.2.10 9 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "x" }],
      ["a missing key", { candidate: "candidate:1 1 udp 1 192.0.2.10 9 typ host", sdpMid: "0" }],
      ["a string instead of an entry", "candidate:1 1 udp 1 192.0.2.10 9 typ host"],
    ];
    for (const [what, entry] of badEntries) {
      it(`refuse an entry with ${what}`, async () => {
        await denied(append(ALICE, "caller", [entry]));
      });
    }

    it("are readable by both participants only; a missing one reads as missing", async () => {
      await assertSucceeds(getDoc(candidates(ALICE, "callee")));
      await assertSucceeds(getDoc(candidates(BOB, "caller")));
      await denied(getDoc(candidates(MALLORY, "caller")));
      await denied(getDoc(candidates(undefined, "caller")));
      await denied(getDocs(query(collection(as(ALICE), sessionPath(sessionId), "ice_candidates"), limit(2))));
      const missing = await assertSucceeds(getDoc(doc(as(MALLORY), candidatesPath(randomUUID(), "caller"))));
      assert.equal(missing.exists(), false);
    });

    it("cannot be created or deleted by clients", async () => {
      await denied(setDoc(doc(as(ALICE), `${sessionPath(sessionId)}/ice_candidates/extra`), { sender: "caller", caller_id: ALICE, callee_id: BOB, candidates: [] }));
      await denied(deleteDoc(candidates(ALICE, "caller")));
    });

    it("take no writes once the call has ended and they are gone", async () => {
      await env.withSecurityRulesDisabled(async (context) => {
        await deleteDoc(doc(context.firestore(), candidatesPath(sessionId, "caller")));
      });
      await denied(append(ALICE, "caller", sampleCandidates("caller")));
      await denied(setDoc(candidates(ALICE, "caller"), { sender: "caller", caller_id: ALICE, callee_id: BOB, candidates: [] }));
    });

    it("never reach a third user who listened before they existed", async () => {
      const otherSession = randomUUID();
      const outcome = new Signal<string>("the third user's listener to be refused");
      const unsubscribe = onSnapshot(
        doc(as(MALLORY), candidatesPath(otherSession, "caller")),
        (snapshot) => {
          if (snapshot.exists()) outcome.resolve(`saw the document: ${JSON.stringify(snapshot.data())}`);
        },
        (error) => outcome.resolve((error as { code?: string }).code ?? error.message),
      );
      try {
        const now = Timestamp.now();
        await seed(candidatesPath(otherSession, "caller"), { sender: "caller", caller_id: ALICE, callee_id: BOB, candidates: sampleCandidates("caller"), created_at: now, expire_at: now });
        assert.equal(await outcome.wait(), "permission-denied");
      } finally {
        unsubscribe();
      }
    });
  });
});
