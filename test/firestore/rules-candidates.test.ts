// firestore.rules for the two candidates documents of a call, run in the Firestore emulator:
// who creates them and when (the caller with its dial, the callee with its answer), what an
// entry may hold, appends, deletion on hang-up, and who may read them, present or missing.
// Session documents: rules.test.ts.
import { strict as assert } from "node:assert";
import { Timestamp, arrayUnion, collection, deleteDoc, doc, getDoc, getDocs, limit, onSnapshot, query, serverTimestamp, setDoc, updateDoc, type DocumentData } from "firebase/firestore";
import { LIMITS, ROLES, answerFields, candidatesPath, endRequestFields, peerOf, type CandidateEntry, type Role } from "@webrtc-lite/contract";
import {
  CALLEE,
  CALLER,
  STATUSES_BEHIND,
  STRANGER,
  UID,
  allowed,
  answer,
  candidateFields,
  createFields,
  denied,
  maximalEntries,
  numberedEntries,
  sdpOfLength,
  secondsFromNow,
  useRulesFixture,
  without,
  type Call,
} from "../helpers/rules";
import { REAL_CANDIDATE_LINES } from "../helpers/arbitraries";
import { sampleCandidates } from "../helpers/sdp";
import { Signal } from "../helpers/snapshots";

const HOUR = 3_600;
const TWO_DAYS = 2 * 86_400;
const MARGIN = 10;
const LINE = "candidate:1 1 udp 1 192.0.2.10 9 typ host";

const badEntries: Array<[string, unknown]> = [
  ["a malformed line", { candidate: "candidate:1 1 udp 1 192.0.2.10 9 typ peer", sdpMid: "0", sdpMLineIndex: 0 }],
  ["an SDP attribute line", { candidate: `a=${LINE}`, sdpMid: "0", sdpMLineIndex: 0 }],
  ["a port above 65535", { candidate: "candidate:1 1 udp 1 192.0.2.10 65536 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
  ["a component of 0", { candidate: "candidate:1 0 udp 1 192.0.2.10 9 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
  ["a line longer than 512", { candidate: `${LINE}${" ext v".repeat(100)}`, sdpMid: "0", sdpMLineIndex: 0 }],
  ["a priority of 2^32", { candidate: "candidate:1 1 udp 4294967296 192.0.2.10 9 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
  ["a port with a leading zero", { candidate: "candidate:1 1 udp 1 192.0.2.10 09 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
  ["a component of 257", { candidate: "candidate:1 257 udp 1 192.0.2.10 9 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
  ["raddr without rport", { candidate: "candidate:1 1 udp 1 203.0.113.7 9 typ srflx raddr 192.0.2.10 generation 0", sdpMid: "0", sdpMLineIndex: 0 }],
  ["rport without raddr", { candidate: "candidate:1 1 udp 1 203.0.113.7 9 typ srflx rport 9 generation 0", sdpMid: "0", sdpMLineIndex: 0 }],
  ["raddr and rport after an extension", { candidate: "candidate:1 1 udp 1 203.0.113.7 9 typ srflx generation 0 raddr 192.0.2.10 rport 9", sdpMid: "0", sdpMLineIndex: 0 }],
  ["markup as the address", { candidate: "candidate:1 1 udp 1 <script>alert(1)</script> 9 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
  ["markup as an extension value", { candidate: `${LINE} ufrag <b>x</b>`, sdpMid: "0", sdpMLineIndex: 0 }],
  ["a double space", { candidate: LINE.replace(" ", "  "), sdpMid: "0", sdpMLineIndex: 0 }],
  ["non-ASCII in the address", { candidate: "candidate:1 1 udp 1 exämple.com 9 typ host", sdpMid: "0", sdpMLineIndex: 0 }],
  ["an sdpMid with markup", { candidate: LINE, sdpMid: "<b>0</b>", sdpMLineIndex: 0 }],
  ["an sdpMid with a control character", { candidate: LINE, sdpMid: "0\u0000", sdpMLineIndex: 0 }],
  ["an sdpMLineIndex of -0 (stored as a double)", { candidate: LINE, sdpMid: "0", sdpMLineIndex: -0 }],
  ["neither sdpMid nor sdpMLineIndex", { candidate: LINE, sdpMid: null, sdpMLineIndex: null }],
  ["sdpMLineIndex 64", { candidate: LINE, sdpMid: null, sdpMLineIndex: 64 }],
  ["a negative sdpMLineIndex", { candidate: LINE, sdpMid: null, sdpMLineIndex: -1 }],
  ["a fractional sdpMLineIndex", { candidate: LINE, sdpMid: null, sdpMLineIndex: 0.5 }],
  ["an sdpMid longer than 64", { candidate: LINE, sdpMid: "m".repeat(65), sdpMLineIndex: null }],
  ["an unknown key", { candidate: LINE, sdpMid: "0", sdpMLineIndex: 0, relay: true }],
  ["no sdpMLineIndex key", { candidate: LINE, sdpMid: "0" }],
  ["no sdpMid key", { candidate: LINE, sdpMLineIndex: 0 }],
  ["a usernameFragment with a character outside ice-char", { candidate: LINE, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "ab-cd" }],
  ["a usernameFragment with a space", { candidate: LINE, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "ab cd" }],
  ["a usernameFragment of 257 characters", { candidate: LINE, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "u".repeat(257) }],
  ["an empty usernameFragment", { candidate: LINE, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "" }],
  ["a usernameFragment that is not a string", { candidate: LINE, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: 7 }],
  ["a string instead of an entry", LINE],
];

/** What RTCIceCandidate.toJSON() gives: usernameFragment a string, null, or (older engines) absent. */
const toJsonEntries: CandidateEntry[] = [
  { candidate: LINE, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "Gq2b" },
  { candidate: "candidate:2 1 udp 1 192.0.2.10 10 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "u".repeat(LIMITS.maxUsernameFragmentLength) },
  { candidate: "candidate:3 1 udp 1 192.0.2.10 11 typ host", sdpMid: "0", sdpMLineIndex: null, usernameFragment: "a+b/C9" },
  { candidate: "candidate:4 1 udp 1 192.0.2.10 12 typ host", sdpMid: null, sdpMLineIndex: 0, usernameFragment: null },
  { candidate: "candidate:5 1 udp 1 192.0.2.10 13 typ host", sdpMid: "0", sdpMLineIndex: 0 },
  { candidate: "", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "Gq2b" },
];

describe("firestore.rules: candidates documents (Firestore emulator)", function () {
  this.timeout(60_000);
  const f = useRulesFixture();

  const append = (call: Call, uid: string | undefined, sender: Role, entries: unknown[]) => updateDoc(call.candidates(uid, sender), { candidates: arrayUnion(...entries) });
  const create = (call: Call, uid: string | undefined, sender: Role, fields: DocumentData) => setDoc(call.candidates(uid, sender), fields);

  describe("the caller's document", () => {
    it(`is created in the dial batch with 0 to ${LIMITS.maxCandidatesPerWrite} entries, not ${LIMITS.maxCandidatesPerWrite + 1}`, async () => {
      await allowed(f.newCall().dial(CALLER, createFields(), candidateFields("caller")));
      await allowed(f.newCall().dial(CALLER, createFields(), candidateFields("caller", sampleCandidates("caller"))));
      await allowed(f.newCall().dial(CALLER, createFields(), candidateFields("caller", numberedEntries(0, LIMITS.maxCandidatesPerWrite))));
      await denied(f.newCall().dial(CALLER, createFields(), candidateFields("caller", numberedEntries(0, LIMITS.maxCandidatesPerWrite + 1))));
    });

    it("may also be created after the dial (a retried write), whether the server shows pending or offered", async () => {
      for (const status of STATUSES_BEHIND.offered) {
        const call = await f.seedCall("offered", { status, candidates: [] });
        await allowed(create(call, CALLER, "caller", candidateFields("caller", numberedEntries(0, 2))));
      }
    });

    it("accepts entries as RTCIceCandidate.toJSON() gives them: usernameFragment a string, null or absent", async () => {
      await allowed(f.newCall().dial(CALLER, createFields(), candidateFields("caller", toJsonEntries)));
    });

    it("accepts the lines Chromium (through coturn), libwebrtc and Firefox give, and lines at every numeric bound", async () => {
      const bounds = ["candidate:1 256 udp 4294967295 198.51.100.20 65535 typ relay raddr 203.0.113.7 rport 65535", "candidate:1 1 udp 0 192.0.2.10 0 typ host"];
      const entries = [...REAL_CANDIDATE_LINES, ...bounds].map((candidate) => ({ candidate, sdpMid: "0", sdpMLineIndex: 0 }));
      const calls = await f.seedCalls(Math.ceil(entries.length / LIMITS.maxCandidatesPerWrite), "offered", { candidates: [] });
      for (const [index, call] of calls.entries()) {
        const batch = entries.slice(index * LIMITS.maxCandidatesPerWrite, (index + 1) * LIMITS.maxCandidatesPerWrite);
        await allowed(create(call, CALLER, "caller", candidateFields("caller", batch)));
      }
    });

    for (const [what, entry] of badEntries) {
      it(`refuses the dial when an entry has ${what}`, async () => {
        await denied(f.newCall().dial(CALLER, createFields(), candidateFields("caller", [...numberedEntries(0, 2), entry as CandidateEntry])));
      });
    }

    // Built when each test runs: candidateFields() stamps expire_at from the clock.
    const refused: Array<[string, string | undefined, () => DocumentData]> = [
      ["by the callee", CALLEE, () => candidateFields("caller")],
      ["by a stranger naming the caller", STRANGER, () => candidateFields("caller")],
      ["by a stranger naming itself", STRANGER, () => candidateFields("caller", [], { caller_id: STRANGER })],
      ["signed out", undefined, () => candidateFields("caller")],
      ["with the wrong callee id", CALLER, () => candidateFields("caller", [], { callee_id: STRANGER })],
      ["with the wrong caller id", CALLER, () => candidateFields("caller", [], { caller_id: CALLEE, callee_id: CALLER })],
      ["with a sender other than its id", CALLER, () => candidateFields("caller", [], { sender: "callee" })],
      ["at client time", CALLER, () => candidateFields("caller", [], { created_at: Timestamp.now() })],
      ["with expire_at just before request.time + 1 h", CALLER, () => candidateFields("caller", [], { expire_at: secondsFromNow(HOUR - MARGIN) })],
      ["with expire_at just after request.time + 2 d", CALLER, () => candidateFields("caller", [], { expire_at: secondsFromNow(TWO_DAYS + MARGIN) })],
      ["without expire_at", CALLER, () => without(candidateFields("caller"), "expire_at")],
      ["without candidates", CALLER, () => without(candidateFields("caller"), "candidates")],
      ["with candidates that are not a list", CALLER, () => candidateFields("caller", [], { candidates: "none" })],
      ["with an unknown key", CALLER, () => candidateFields("caller", [], { note: "x" })],
    ];
    for (const [what, uid, fields] of refused) {
      it(`is refused ${what}`, async () => {
        const call = await f.seedCall("offered", { status: "pending", candidates: [] });
        await denied(create(call, uid, "caller", fields()));
      });
    }

    it("accepts expire_at just inside request.time + 1 h … + 2 d", async () => {
      for (const seconds of [HOUR + MARGIN, TWO_DAYS - MARGIN]) {
        const call = await f.seedCall("offered", { candidates: [] });
        await allowed(create(call, CALLER, "caller", candidateFields("caller", [], { expire_at: secondsFromNow(seconds) })));
      }
    });

    it("is refused alone for a session that does not exist, and for someone else's session", async () => {
      await denied(create(f.newCall(), CALLER, "caller", candidateFields("caller")));
      const others = await f.seedCall("offered", { candidates: [], fields: { caller_id: STRANGER } });
      await denied(create(others, CALLER, "caller", candidateFields("caller")));
    });

    it("is refused under an id other than caller or callee", async () => {
      const call = await f.seedCall("offered", { candidates: [] });
      await denied(setDoc(doc(f.db(CALLER), `webrtc_sessions/${call.id}/ice_candidates/extra`), candidateFields("caller", [], { sender: "extra" })));
    });

    it("is refused after an end request, whatever the server shows", async () => {
      for (const status of STATUSES_BEHIND.offered) {
        const call = await f.seedCall("offered", { status, candidates: [], fields: { end_request: { by: "caller", reason: "cancel", at: Timestamp.now() } } });
        await denied(create(call, CALLER, "caller", candidateFields("caller")));
      }
      await denied(f.newCall().dial(CALLER, createFields({ end_request: { by: "caller", reason: "cancel", at: serverTimestamp() } }), candidateFields("caller")));
    });
  });

  describe("the callee's document", () => {
    it("is refused before the answer, whether the server shows pending or offered", async () => {
      for (const status of STATUSES_BEHIND.offered) {
        const call = await f.seedCall("offered", { status });
        await denied(create(call, CALLEE, "callee", candidateFields("callee")));
      }
    });

    it(`is created in the answer's batch with up to ${LIMITS.maxCandidatesPerWrite} entries, whether the server shows pending or offered`, async () => {
      for (const status of STATUSES_BEHIND.offered) {
        const call = await f.seedCall("offered", { status });
        await allowed(call.updateWithCandidates(CALLEE, answerFields(answer), "callee", candidateFields("callee", numberedEntries(0, LIMITS.maxCandidatesPerWrite))));
        assert.equal((await allowed(getDoc(call.candidates(CALLER, "callee")))).get("candidates").length, LIMITS.maxCandidatesPerWrite);
      }
    });

    it("may be created after the answer, alone, whatever the server shows", async () => {
      for (const status of STATUSES_BEHIND.answered) {
        const call = await f.seedCall("answered", { status, candidates: ["caller"] });
        await allowed(create(call, CALLEE, "callee", candidateFields("callee", sampleCandidates("callee"))));
      }
    });

    it("is refused when the answer in its batch is refused (too late, from the caller)", async () => {
      const late = await f.seedCall("offered", { fields: { created_at: secondsFromNow(-120) } });
      await denied(late.updateWithCandidates(CALLEE, answerFields(answer), "callee", candidateFields("callee")));
      const call = await f.seedCall("offered");
      await denied(call.updateWithCandidates(CALLER, answerFields(answer), "callee", candidateFields("callee")));
    });

    it("is refused from the caller, a stranger, or with wrong ids, even after the answer", async () => {
      const call = await f.seedCall("answered", { status: "pending", candidates: ["caller"] });
      await denied(create(call, CALLER, "callee", candidateFields("callee")));
      await denied(create(call, STRANGER, "callee", candidateFields("callee")));
      await denied(create(call, STRANGER, "callee", candidateFields("callee", [], { callee_id: STRANGER })));
      await denied(create(call, CALLEE, "callee", candidateFields("callee", [], { sender: "caller" })));
      await denied(create(call, CALLEE, "callee", candidateFields("callee", [], { caller_id: STRANGER })));
      await denied(create(call, CALLEE, "callee", candidateFields("callee", numberedEntries(0, LIMITS.maxCandidatesPerWrite + 1))));
    });

    it("is refused after an end request, whatever the server shows", async () => {
      for (const status of STATUSES_BEHIND.answered) {
        const call = await f.seedCall("answered", { status, candidates: ["caller"], fields: { end_request: { by: "caller", reason: "cancel", at: Timestamp.now() } } });
        await denied(create(call, CALLEE, "callee", candidateFields("callee")));
      }
    });
  });

  describe("appending entries", () => {
    for (const role of ROLES) {
      it(`lets the ${role} append to its own document in writes of 1 to ${LIMITS.maxCandidatesPerWrite}, up to ${LIMITS.maxCandidatesPerSide}, whatever the server shows`, async () => {
        for (const status of STATUSES_BEHIND.connected) {
          const call = await f.seedCall("connected", { status });
          await allowed(append(call, UID[role], role, numberedEntries(0, 1)));
          await allowed(append(call, UID[role], role, numberedEntries(1, LIMITS.maxCandidatesPerWrite)));
          await allowed(append(call, UID[role], role, numberedEntries(7, LIMITS.maxCandidatesPerWrite)));
          await allowed(append(call, UID[role], role, numberedEntries(13, LIMITS.maxCandidatesPerWrite)));
          await allowed(append(call, UID[role], role, numberedEntries(19, 1)));
          await denied(append(call, UID[role], role, numberedEntries(20, 1)));
          assert.deepEqual((await allowed(getDoc(call.candidates(UID[peerOf(role)], role)))).get("candidates"), numberedEntries(0, LIMITS.maxCandidatesPerSide));
        }
      });
    }

    it("accepts usernameFragment (string, null or absent) and the end-of-candidates marker", async () => {
      const call = await f.seedCall("answered");
      await allowed(append(call, CALLER, "caller", toJsonEntries));
      await allowed(append(call, CALLEE, "callee", [{ candidate: "", sdpMid: null, sdpMLineIndex: null }]));
    });

    it(`refuses ${LIMITS.maxCandidatesPerWrite + 1} entries in one write, a write that adds nothing, and rewriting or dropping earlier entries`, async () => {
      const call = await f.seedCall("answered");
      await denied(append(call, CALLER, "caller", numberedEntries(0, LIMITS.maxCandidatesPerWrite + 1)));
      await allowed(append(call, CALLER, "caller", numberedEntries(0, 3)));
      await denied(append(call, CALLER, "caller", numberedEntries(0, 2)));
      const entries = numberedEntries(0, 4);
      await denied(updateDoc(call.candidates(CALLER, "caller"), { candidates: [entries[1], entries[0], entries[2], entries[3]] }));
      await denied(updateDoc(call.candidates(CALLER, "caller"), { candidates: [entries[0], entries[3], entries[1], entries[2]] }));
      await denied(updateDoc(call.candidates(CALLER, "caller"), { candidates: entries.slice(1) }));
      await denied(updateDoc(call.candidates(CALLER, "caller"), { candidates: entries.slice(0, 2) }));
      await allowed(updateDoc(call.candidates(CALLER, "caller"), { candidates: entries }));
    });

    it("refuses appends by the other participant, a stranger, or a signed-out user", async () => {
      const call = await f.seedCall("connected");
      for (const role of ROLES) {
        await denied(append(call, UID[peerOf(role)], role, numberedEntries(0, 1)));
        await denied(append(call, STRANGER, role, numberedEntries(0, 1)));
        await denied(append(call, undefined, role, numberedEntries(0, 1)));
      }
    });

    const changes: Array<[string, DocumentData]> = [
      ["sender", { sender: "callee" }],
      ["caller_id", { caller_id: STRANGER }],
      ["callee_id", { callee_id: STRANGER }],
      ["created_at", { created_at: serverTimestamp() }],
      ["expire_at", { expire_at: secondsFromNow(TWO_DAYS) }],
      ["an unknown key", { note: "x" }],
    ];
    for (const [what, change] of changes) {
      it(`refuses a change of ${what}, even alongside an append`, async () => {
        const call = await f.seedCall("offered");
        await denied(updateDoc(call.candidates(CALLER, "caller"), change));
        await denied(updateDoc(call.candidates(CALLER, "caller"), { candidates: arrayUnion(...numberedEntries(0, 1)), ...change }));
      });
    }

    for (const [what, entry] of badEntries) {
      it(`refuses an entry with ${what}`, async () => {
        const call = await f.seedCall("offered");
        await denied(append(call, CALLER, "caller", [...numberedEntries(0, 1), entry]));
      });
    }

    it("are refused once the call ended and the document is gone", async () => {
      const call = await f.seedCall("connected", { status: "ended", fields: { ended_at: Timestamp.now(), ended_reason: "hangup" } });
      for (const role of ROLES) {
        await denied(append(call, UID[role], role, numberedEntries(0, 1)));
        await denied(create(call, UID[role], role, candidateFields(role, numberedEntries(0, 1))));
      }
    });
  });

  describe("deleting", () => {
    for (const role of ROLES) {
      it(`lets the ${role} delete its own document, not the other side's; a stranger neither`, async () => {
        const call = await f.seedCall("connected");
        await denied(deleteDoc(call.candidates(UID[peerOf(role)], role)));
        await denied(deleteDoc(call.candidates(STRANGER, role)));
        await denied(deleteDoc(call.candidates(undefined, role)));
        await allowed(deleteDoc(call.candidates(UID[role], role)));
        assert.equal((await allowed(getDoc(call.candidates(UID[peerOf(role)], role)))).exists(), false);
      });
    }
  });

  describe("reading", () => {
    it("lets both participants get both documents; strangers and signed-out users are refused", async () => {
      const call = await f.seedCall("answered", { status: "pending" });
      for (const sender of ROLES) {
        for (const uid of [CALLER, CALLEE]) assert.equal((await allowed(getDoc(call.candidates(uid, sender)))).get("sender"), sender);
        await denied(getDoc(call.candidates(STRANGER, sender)));
        await denied(getDoc(call.candidates(undefined, sender)));
      }
    });

    it("lets a participant get a missing document of its call; a stranger is refused whether or not it or its session exist", async () => {
      const call = await f.seedCall("offered", { status: "pending" });
      for (const uid of [CALLER, CALLEE]) assert.equal((await allowed(getDoc(call.candidates(uid, "callee")))).exists(), false);
      await denied(getDoc(call.candidates(STRANGER, "callee")));
      await denied(getDoc(call.candidates(STRANGER, "caller")));
      await denied(getDoc(call.candidates(undefined, "callee")));
      const nowhere = f.newCall();
      await denied(getDoc(nowhere.candidates(STRANGER, "caller")));
      await denied(getDoc(nowhere.candidates(CALLER, "caller")));
    });

    it("refuses listing a call's candidates documents", async () => {
      const call = await f.seedCall("answered");
      await denied(getDocs(query(collection(f.db(CALLER), `webrtc_sessions/${call.id}/ice_candidates`), limit(2))));
    });

    it("lets the other side listen through a hang-up: the listener sees the deletion, not an error", async () => {
      const call = await f.seedCall("connected", { status: "answered" });
      const present = new Signal("the callee's document in the caller's listener");
      const gone = new Signal<string>("the callee's document to disappear from the caller's listener");
      const unsubscribe = onSnapshot(
        call.candidates(CALLER, "callee"),
        (snapshot) => (snapshot.exists() ? present.resolve() : gone.resolve("deleted")),
        (error) => gone.resolve((error as { code?: string }).code ?? error.message),
      );
      try {
        await present.wait();
        await allowed(call.updateAndDelete(CALLEE, endRequestFields("callee", "hangup", serverTimestamp()), "callee"));
        assert.equal(await gone.wait(), "deleted");
      } finally {
        unsubscribe();
      }
    });

    it("never lets a stranger listen to a document, not even one that appears later", async () => {
      const call = await f.seedCall("offered", { candidates: [] });
      const outcome = new Signal<string>("the stranger's listener to be refused");
      const unsubscribe = onSnapshot(
        call.candidates(STRANGER, "caller"),
        (snapshot) => outcome.resolve(snapshot.exists() ? `saw the document: ${JSON.stringify(snapshot.data())}` : "saw it missing"),
        (error) => outcome.resolve((error as { code?: string }).code ?? error.message),
      );
      try {
        await f.seed(candidatesPath(call.id, "caller"), { sender: "caller", caller_id: CALLER, callee_id: CALLEE, candidates: sampleCandidates("caller"), created_at: Timestamp.now(), expire_at: secondsFromNow(25 * HOUR) });
        assert.equal(await outcome.wait(), "permission-denied");
      } finally {
        unsubscribe();
      }
      await denied(getDoc(call.candidates(STRANGER, "caller")));
    });
  });

  describe("the 1000-expression limit", () => {
    it(`admits a dial with ${LIMITS.maxCandidatesPerWrite} entries as a browser's toJSON() gives them (usernameFragment set)`, async () => {
      const entries = numberedEntries(0, LIMITS.maxCandidatesPerWrite).map((entry) => ({ ...entry, usernameFragment: "Gq2b" }));
      await allowed(f.newCall().dial(CALLER, createFields(), candidateFields("caller", entries)));
    });

    it(`admits a dial whose candidates document holds ${LIMITS.maxCandidatesPerWrite} entries of the largest size, with the largest offer`, async () => {
      const call = f.newCall();
      const offer = { type: "offer", sdp: sdpOfLength("offer", LIMITS.maxSdpLength) };
      await allowed(call.dial(CALLER, createFields({ offer }), candidateFields("caller", maximalEntries(LIMITS.maxCandidatesPerWrite))));
      assert.equal((await allowed(getDoc(call.candidates(CALLEE, "caller")))).get("candidates").length, LIMITS.maxCandidatesPerWrite);
    });

    it(`admits an answer batch with ${LIMITS.maxCandidatesPerWrite} such entries, and appends of ${LIMITS.maxCandidatesPerWrite} more`, async () => {
      const call = await f.seedCall("offered", { status: "pending" });
      const largest = { type: "answer", sdp: sdpOfLength("answer", LIMITS.maxSdpLength) };
      await allowed(call.updateWithCandidates(CALLEE, { answer: largest }, "callee", candidateFields("callee", maximalEntries(LIMITS.maxCandidatesPerWrite))));
      const more = maximalEntries(2 * LIMITS.maxCandidatesPerWrite).slice(LIMITS.maxCandidatesPerWrite);
      await allowed(append(call, CALLEE, "callee", more));
      await allowed(append(call, CALLER, "caller", maximalEntries(LIMITS.maxCandidatesPerWrite)));
    });
  });
});
