// firestore.rules for session documents, run in the Firestore emulator: every role × field ×
// moment, with the server's `status` both up to date and lagging behind the participants'
// fields (a late trigger must never block a legitimate write nor open an illegitimate one).
// Candidate documents: rules-candidates.test.ts.
import { strict as assert } from "node:assert";
import { Timestamp, collection, deleteDoc, deleteField, getDoc, getDocs, limit, orderBy, query, serverTimestamp, setDoc, updateDoc, where, type DocumentData } from "firebase/firestore";
import { LIMITS, RING_SECONDS, ROLES, answerFields, connectivityFields, endRequestFields, peerOf, type EndRequestReason } from "@webrtc-lite/contract";
import { END_RULES } from "#functions/sessions/transitions";
import {
  CALLEE,
  CALLER,
  PHASES,
  STATUSES_BEHIND,
  STRANGER,
  UID,
  allowed,
  answer,
  candidateFields,
  createFields,
  denied,
  numberedEntries,
  sdpOfLength,
  secondsFromNow,
  useRulesFixture,
  without,
} from "../helpers/rules";
import { sampleSdp } from "../helpers/sdp";

const HOUR = 3_600;
const TWO_DAYS = 2 * 86_400;
// Margin around request.time: the emulator's clock is this machine's; a request takes far less.
const MARGIN = 10;

/** The sample offer with its `prefix` lines moved to the end of its a=extmap-allow-mixed line. */
function withLinesInsideAnother(prefix: string): string {
  const lines = sampleSdp("offer").split("\r\n");
  const moved = lines.filter((line) => line.startsWith(prefix));
  return lines
    .filter((line) => !line.startsWith(prefix))
    .map((line) => (line === "a=extmap-allow-mixed" ? `${line} ${moved.join(" ")}` : line))
    .join("\r\n");
}

describe("firestore.rules: sessions (Firestore emulator)", function () {
  this.timeout(60_000);
  const f = useRulesFixture();

  describe("creating a session (the caller's dial)", () => {
    it("lets the caller create a pending call, as itself, to someone else, with its candidates document in the same batch", async () => {
      await allowed(f.newCall().dial(CALLER, createFields(), candidateFields("caller", numberedEntries(0, LIMITS.maxCandidatesPerWrite))));
      await allowed(f.newCall().dial(CALLER, createFields(), candidateFields("caller")));
      await allowed(f.newCall().dial(CALLER, createFields()));
    });

    it(`accepts ring_seconds of ${RING_SECONDS.min} and ${RING_SECONDS.max}, and refuses 9, 601, 60.5, "60", null or none`, async () => {
      await allowed(f.newCall().dial(CALLER, createFields({ ring_seconds: RING_SECONDS.min })));
      await allowed(f.newCall().dial(CALLER, createFields({ ring_seconds: RING_SECONDS.max })));
      for (const ringSeconds of [RING_SECONDS.min - 1, RING_SECONDS.max + 1, 60.5, "60", null]) {
        await denied(f.newCall().dial(CALLER, createFields({ ring_seconds: ringSeconds })));
      }
      await denied(f.newCall().dial(CALLER, without(createFields(), "ring_seconds")));
    });

    it("accepts an expire_at just inside request.time + 1 h … + 2 d and refuses one just outside", async () => {
      await allowed(f.newCall().dial(CALLER, createFields({ expire_at: secondsFromNow(HOUR + MARGIN) })));
      await allowed(f.newCall().dial(CALLER, createFields({ expire_at: secondsFromNow(TWO_DAYS - MARGIN) })));
      await denied(f.newCall().dial(CALLER, createFields({ expire_at: secondsFromNow(HOUR - MARGIN) })));
      await denied(f.newCall().dial(CALLER, createFields({ expire_at: secondsFromNow(TWO_DAYS + MARGIN) })));
    });

    // Built when each test runs: createFields() stamps expire_at from the clock.
    const refused: Array<[string, () => DocumentData]> = [
      ["as someone else", () => createFields({ caller_id: CALLEE, callee_id: CALLER })],
      ["to the caller itself", () => createFields({ callee_id: CALLER })],
      ["to an empty callee", () => createFields({ callee_id: "" })],
      ["to a callee id longer than 128", () => createFields({ callee_id: "b".repeat(129) })],
      ["to a callee id that is not a string", () => createFields({ callee_id: 42 })],
      ["to a callee id with a slash", () => createFields({ callee_id: "bob/evil" })],
      ["to a callee id with a control character", () => createFields({ callee_id: "bob\u0000" })],
      ["to a callee id with markup", () => createFields({ callee_id: "<script>alert(1)</script>" })],
      ["to a callee id with non-ASCII", () => createFields({ callee_id: "bób" })],
      ["in a state other than pending", () => createFields({ status: "offered" })],
      ["without a status", () => without(createFields(), "status")],
      ["without an offer", () => without(createFields(), "offer")],
      ["with a null offer", () => createFields({ offer: null })],
      ["with an offer typed as an answer", () => createFields({ offer: { type: "answer", sdp: sampleSdp("offer") } })],
      ["with an oversized offer (32769 characters)", () => createFields({ offer: { type: "offer", sdp: sdpOfLength("offer", 32_769) } })],
      ["with an implausible offer (no DTLS fingerprint)", () => createFields({ offer: { type: "offer", sdp: sampleSdp("offer").replaceAll("a=fingerprint:", "a=x-fp:") } })],
      ["with an offer that is not SDP", () => createFields({ offer: { type: "offer", sdp: "hello" } })],
      ...(["o=", "s=", "t=", "m=", "a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:"] as const).map((prefix): [string, () => DocumentData] => [
        `with an offer whose ${prefix} lines are only in the middle of another line`,
        () => createFields({ offer: { type: "offer", sdp: withLinesInsideAnother(prefix) } }),
      ]),
      ["with an offer holding non-ASCII", () => createFields({ offer: { type: "offer", sdp: sampleSdp("offer").replace("s=-", "s=é") } })],
      ["with an offer holding a tab", () => createFields({ offer: { type: "offer", sdp: sampleSdp("offer").replace("s=-", "s=\t") } })],
      ["with an offer holding a lone CR", () => createFields({ offer: { type: "offer", sdp: sampleSdp("offer").replace("s=-\r\n", "s=-\r") } })],
      ["with an offer holding an empty line", () => createFields({ offer: { type: "offer", sdp: sampleSdp("offer").replace("s=-\r\n", "s=-\r\n\r\n") } })],
      ["with an offer not starting with v=0", () => createFields({ offer: { type: "offer", sdp: `\r\n${sampleSdp("offer")}` } })],
      ["with extra keys in the offer", () => createFields({ offer: { type: "offer", sdp: sampleSdp("offer"), note: "x" } })],
      ["with an answer already", () => createFields({ answer })],
      ["without the explicit null answer", () => without(createFields(), "answer")],
      ["with an end request already", () => createFields({ end_request: { by: "caller", reason: "cancel", at: serverTimestamp() } })],
      ["without the explicit null end request", () => without(createFields(), "end_request")],
      ["with a connectivity key", () => createFields({ connectivity: null })],
      ["with a server-owned field (ended_at)", () => createFields({ ended_at: serverTimestamp() })],
      ["with a server-owned field (error)", () => createFields({ error: null })],
      ["with an unknown key", () => createFields({ priority: "high" })],
      ["with a client-chosen created_at", () => createFields({ created_at: Timestamp.now() })],
      ["without created_at", () => without(createFields(), "created_at")],
      ["with a client-chosen updated_at", () => createFields({ updated_at: Timestamp.now() })],
      ["without updated_at", () => without(createFields(), "updated_at")],
      ["with expire_at at server time", () => createFields({ expire_at: serverTimestamp() })],
      ["with expire_at as a number", () => createFields({ expire_at: Date.now() + 25 * HOUR * 1_000 })],
      ["with a null expire_at", () => createFields({ expire_at: null })],
      ["without expire_at", () => without(createFields(), "expire_at")],
    ];
    for (const [what, fields] of refused) {
      it(`refuses a create ${what}`, async () => {
        await denied(f.newCall().dial(CALLER, fields()));
      });
    }

    it("accepts an offer of exactly 32768 characters and a callee id of 128", async () => {
      await allowed(f.newCall().dial(CALLER, createFields({ offer: { type: "offer", sdp: sdpOfLength("offer", 32_768) } })));
      await allowed(f.newCall().dial(CALLER, createFields({ callee_id: "b".repeat(128) })));
    });

    it("accepts offers with LF or mixed line ends, and without the last line break", async () => {
      for (const sdp of [sampleSdp("offer").replaceAll("\r\n", "\n"), sampleSdp("offer").replace("\r\ns=-\r\n", "\ns=-\n"), sampleSdp("offer").slice(0, -2)]) {
        await allowed(f.newCall().dial(CALLER, createFields({ offer: { type: "offer", sdp } })));
      }
    });

    it("accepts callee ids of the Firebase Auth alphabet: generated (28 alphanumerics) or custom with _ and -", async () => {
      await allowed(f.newCall().dial(CALLER, createFields({ callee_id: "Qx7RkTn2bYc9LmPz4WvS8dF1hJ3G" })));
      await allowed(f.newCall().dial(CALLER, createFields({ callee_id: "user_42-test" })));
    });

    it("refuses a caller whose own uid is outside the Firebase Auth alphabet (a custom token's)", async () => {
      for (const uid of ["a.b@example.com", "team/alice", "alicé"]) {
        await denied(f.newCall().dial(uid, createFields({ caller_id: uid })));
      }
    });

    it("refuses a create by a signed-out user, and a second create over an existing call", async () => {
      const call = f.newCall();
      await denied(call.dial(undefined, createFields()));
      await allowed(call.dial(CALLER, createFields()));
      await denied(call.dial(CALLER, createFields()));
      await denied(call.dial(STRANGER, createFields({ caller_id: STRANGER })));
    });

    it("refuses the whole dial when its candidates document is refused", async () => {
      const call = f.newCall();
      await denied(call.dial(CALLER, createFields(), candidateFields("caller", numberedEntries(0, LIMITS.maxCandidatesPerWrite + 1))));
      await denied(getDoc(call.session(CALLER)));
    });
  });

  describe("reading sessions", () => {
    it("lets both participants get the session, and nobody else", async () => {
      const call = await f.seedCall("offered", { status: "pending" });
      assert.equal((await allowed(getDoc(call.session(CALLER)))).get("caller_id"), CALLER);
      assert.equal((await allowed(getDoc(call.session(CALLEE)))).get("callee_id"), CALLEE);
      await denied(getDoc(call.session(STRANGER)));
      await denied(getDoc(call.session()));
    });

    it("refuses a get of a session that does not exist yet (the caller listens after its create)", async () => {
      await denied(getDoc(f.newCall().session(CALLER)));
    });

    it("allows the incoming-calls query: callee_id == uid, status in [pending, offered], answer and end_request null, newest first, limit 10", async () => {
      const pending = await f.seedCall("offered", { status: "pending" });
      const offered = await f.seedCall("offered");
      await f.seedCall("answered", { status: "offered" });
      await f.seedCall("offered", { fields: { end_request: { by: "caller", reason: "cancel", at: Timestamp.now() } } });
      await f.seedCall("offered", { fields: { callee_id: STRANGER } });
      const incoming = query(
        collection(f.db(CALLEE), "webrtc_sessions"),
        where("callee_id", "==", CALLEE),
        where("status", "in", ["pending", "offered"]),
        where("answer", "==", null),
        where("end_request", "==", null),
        orderBy("created_at", "desc"),
        limit(10),
      );
      const found = await allowed(getDocs(incoming));
      assert.deepEqual(found.docs.map((snapshot) => snapshot.id).sort(), [pending.id, offered.id].sort());
    });

    it("allows 'my calls' with the user's own id and a limit of at most 20", async () => {
      await f.seedCall("connected");
      const mine = (uid: string, field: string, count: number) => query(collection(f.db(uid), "webrtc_sessions"), where(field, "==", uid), orderBy("created_at", "desc"), limit(count));
      assert.equal((await allowed(getDocs(mine(CALLER, "caller_id", 20)))).size, 1);
      assert.equal((await allowed(getDocs(mine(CALLEE, "callee_id", 20)))).size, 1);
      await denied(getDocs(mine(CALLER, "caller_id", 21)));
    });

    it("refuses wider queries: no limit, no own id, someone else's id, signed out", async () => {
      await f.seedCall("offered");
      const sessions = (uid?: string) => collection(f.db(uid), "webrtc_sessions");
      await denied(getDocs(query(sessions(CALLEE), where("callee_id", "==", CALLEE))));
      await denied(getDocs(query(sessions(CALLEE), where("status", "in", ["pending", "offered"]), limit(10))));
      await denied(getDocs(query(sessions(STRANGER), where("callee_id", "==", CALLEE), limit(10))));
      await denied(getDocs(query(sessions(), where("callee_id", "==", CALLEE), limit(10))));
    });
  });

  describe("the callee's answer", () => {
    it("is accepted once, from the callee, while the call rings, whether the server shows pending or offered", async () => {
      for (const status of STATUSES_BEHIND.offered) {
        const call = await f.seedCall("offered", { status });
        await allowed(updateDoc(call.session(CALLEE), answerFields(answer)));
        assert.deepEqual((await allowed(getDoc(call.session(CALLER)))).get("answer"), answer, status);
      }
    });

    it("is accepted just before the ring deadline and refused just after it", async () => {
      const inTime = await f.seedCall("offered", { fields: { created_at: secondsFromNow(-(RING_SECONDS.default - MARGIN)) } });
      await allowed(updateDoc(inTime.session(CALLEE), answerFields(answer)));
      for (const status of STATUSES_BEHIND.offered) {
        const late = await f.seedCall("offered", { status, fields: { created_at: secondsFromNow(-(RING_SECONDS.default + MARGIN)) } });
        await denied(updateDoc(late.session(CALLEE), answerFields(answer)));
      }
      const short = await f.seedCall("offered", { fields: { ring_seconds: RING_SECONDS.min, created_at: secondsFromNow(-(RING_SECONDS.min + MARGIN)) } });
      await denied(updateDoc(short.session(CALLEE), answerFields(answer)));
    });

    it("accepts an answer of exactly 32768 characters", async () => {
      const call = await f.seedCall("offered");
      await allowed(updateDoc(call.session(CALLEE), { answer: { type: "answer", sdp: sdpOfLength("answer", 32_768) } }));
    });

    const refused: Array<[string, string | undefined, DocumentData]> = [
      ["from the caller", CALLER, answerFields(answer)],
      ["from a third user", STRANGER, answerFields(answer)],
      ["from a signed-out user", undefined, answerFields(answer)],
      ["typed as an offer", CALLEE, { answer: { type: "offer", sdp: answer.sdp } }],
      ["oversized (32769 characters)", CALLEE, { answer: { type: "answer", sdp: sdpOfLength("answer", 32_769) } }],
      ["that is not SDP", CALLEE, { answer: { type: "answer", sdp: "v=0" } }],
      ["with extra keys", CALLEE, { answer: { ...answer, candidates: [] } }],
      ["together with a connectivity report", CALLEE, { ...answerFields(answer), ...connectivityFields("callee", serverTimestamp()) }],
    ];
    for (const [what, uid, update] of refused) {
      it(`is refused ${what}, whether the server shows pending or offered`, async () => {
        for (const status of STATUSES_BEHIND.offered) {
          const call = await f.seedCall("offered", { status });
          await denied(updateDoc(call.session(uid), update));
        }
      });
    }

    it("cannot be rewritten, removed or nulled once given, whatever the server shows", async () => {
      const other = { type: "answer", sdp: sampleSdp("answer").replace("kT9x", "zzzz") };
      for (const status of STATUSES_BEHIND.answered) {
        const call = await f.seedCall("answered", { status });
        await denied(updateDoc(call.session(CALLEE), { answer: other }));
        await denied(updateDoc(call.session(CALLEE), { answer: deleteField() }));
        await denied(updateDoc(call.session(CALLEE), { answer: null }));
      }
    });

    it("is refused after an end request, whatever the server shows", async () => {
      for (const status of STATUSES_BEHIND.offered) {
        const call = await f.seedCall("offered", { status, fields: { end_request: { by: "caller", reason: "cancel", at: Timestamp.now() } } });
        await denied(updateDoc(call.session(CALLEE), answerFields(answer)));
      }
    });
  });

  describe("the connectivity report", () => {
    for (const role of ROLES) {
      it(`is accepted once from the ${role}, as itself, at server time, after the answer, whether the server shows pending, offered or answered`, async () => {
        for (const status of STATUSES_BEHIND.answered) {
          const call = await f.seedCall("answered", { status });
          await allowed(updateDoc(call.session(UID[role]), connectivityFields(role, serverTimestamp())));
          await denied(updateDoc(call.session(UID[peerOf(role)]), connectivityFields(peerOf(role), serverTimestamp())));
        }
      });
    }

    it("is refused before the answer, whether the server shows pending or offered", async () => {
      for (const status of STATUSES_BEHIND.offered) {
        const call = await f.seedCall("offered", { status });
        for (const role of ROLES) await denied(updateDoc(call.session(UID[role]), connectivityFields(role, serverTimestamp())));
      }
    });

    it("is refused a second time, whatever the server shows", async () => {
      for (const status of STATUSES_BEHIND.connected) {
        const call = await f.seedCall("connected", { status });
        for (const role of ROLES) await denied(updateDoc(call.session(UID[role]), connectivityFields(role, serverTimestamp())));
        await denied(updateDoc(call.session(CALLER), { connectivity: deleteField() }));
      }
    });

    const refused: Array<[string, string | undefined, DocumentData]> = [
      ["under the other role", CALLEE, connectivityFields("caller", serverTimestamp())],
      ["at client time", CALLER, { connectivity: { by: "caller", at: Timestamp.now() } }],
      ["without a time", CALLER, { connectivity: { by: "caller" } }],
      ["with extra keys", CALLER, { connectivity: { by: "caller", at: serverTimestamp(), relay: true } }],
      ["as null", CALLER, { connectivity: null }],
      ["from a third user", STRANGER, connectivityFields("caller", serverTimestamp())],
      ["from a signed-out user", undefined, connectivityFields("caller", serverTimestamp())],
    ];
    for (const [what, uid, update] of refused) {
      it(`is refused ${what}`, async () => {
        const call = await f.seedCall("answered", { status: "pending" });
        await denied(updateDoc(call.session(uid), update));
      });
    }

    it("is refused after an end request, whatever the server shows", async () => {
      for (const status of STATUSES_BEHIND.answered) {
        const call = await f.seedCall("answered", { status, fields: { end_request: { by: "callee", reason: "hangup", at: Timestamp.now() } } });
        await denied(updateDoc(call.session(CALLER), connectivityFields("caller", serverTimestamp())));
      }
    });
  });

  describe("end requests (transitions.ts END_RULES, phase from the fields)", () => {
    for (const phase of PHASES) {
      for (const [reason, rule] of Object.entries(END_RULES) as Array<[EndRequestReason, (typeof END_RULES)[EndRequestReason]]>) {
        for (const role of ROLES) {
          const may = rule.by.includes(role) && rule.in.includes(phase);
          it(`${may ? "accepts" : "refuses"} ${reason} from the ${role} when ${phase}, whether the server shows ${STATUSES_BEHIND[phase].join(", ")}`, async () => {
            for (const status of STATUSES_BEHIND[phase]) {
              const call = await f.seedCall(phase, { status });
              const write = updateDoc(call.session(UID[role]), endRequestFields(role, reason, serverTimestamp()));
              if (may) await allowed(write);
              else await denied(write);
            }
          });
        }
      }
    }

    it("judges the phase after the write: hangup with the answer passes, reject with the answer does not", async () => {
      for (const status of STATUSES_BEHIND.offered) {
        const call = await f.seedCall("offered", { status });
        await denied(updateDoc(call.session(CALLEE), { ...answerFields(answer), ...endRequestFields("callee", "reject", serverTimestamp()) }));
        await allowed(updateDoc(call.session(CALLEE), { ...answerFields(answer), ...endRequestFields("callee", "hangup", serverTimestamp()) }));
      }
      const answered = await f.seedCall("answered", { status: "pending" });
      await denied(updateDoc(answered.session(CALLER), { ...connectivityFields("caller", serverTimestamp()), ...endRequestFields("caller", "cancel", serverTimestamp()) }));
      await allowed(updateDoc(answered.session(CALLER), { ...connectivityFields("caller", serverTimestamp()), ...endRequestFields("caller", "failed", serverTimestamp()) }));
    });

    for (const role of ROLES) {
      it(`lets the ${role} hang up in one batch with the deletion of its own candidates document, whatever the server shows`, async () => {
        // The callee's document exists from its answer on (a decline deletes nothing).
        for (const phase of role === "caller" ? PHASES : PHASES.filter((phase) => phase !== "offered")) {
          for (const status of STATUSES_BEHIND[phase]) {
            const call = await f.seedCall(phase, { status });
            await allowed(call.updateAndDelete(UID[role], endRequestFields(role, "hangup", serverTimestamp()), role));
            assert.equal((await allowed(getDoc(call.candidates(UID[role], role)))).exists(), false);
            assert.equal((await allowed(getDoc(call.candidates(UID[role], peerOf(role))))).exists(), phase !== "offered");
          }
        }
      });
    }

    const refused: Array<[string, string | undefined, DocumentData]> = [
      ["forged in the other participant's name", CALLEE, endRequestFields("caller", "hangup", serverTimestamp())],
      ["with an unknown reason", CALLER, { end_request: { by: "caller", reason: "bored", at: serverTimestamp() } }],
      ["without a reason", CALLER, { end_request: { by: "caller", at: serverTimestamp() } }],
      ["at client time", CALLER, { end_request: { by: "caller", reason: "hangup", at: Timestamp.now() } }],
      ["with extra keys", CALLER, { end_request: { by: "caller", reason: "hangup", at: serverTimestamp(), note: "x" } }],
      ["that is not a map", CALLER, { end_request: "hangup" }],
      ["from a third user", STRANGER, endRequestFields("caller", "hangup", serverTimestamp())],
      ["from a signed-out user", undefined, endRequestFields("caller", "hangup", serverTimestamp())],
    ];
    for (const [what, uid, update] of refused) {
      it(`refuses one ${what}`, async () => {
        for (const status of STATUSES_BEHIND.connected) {
          const call = await f.seedCall("connected", { status });
          await denied(updateDoc(call.session(uid), update));
        }
      });
    }

    it("take nothing after an end request: no second request, answer or report, whatever the server shows", async () => {
      for (const phase of PHASES) {
        for (const status of STATUSES_BEHIND[phase]) {
          const call = await f.seedCall(phase, { status, fields: { end_request: { by: "caller", reason: "hangup", at: Timestamp.now() } } });
          for (const role of ROLES) {
            await denied(updateDoc(call.session(UID[role]), endRequestFields(role, "hangup", serverTimestamp())));
            await denied(updateDoc(call.session(UID[role]), connectivityFields(role, serverTimestamp())));
          }
          await denied(updateDoc(call.session(CALLEE), answerFields(answer)));
          await denied(updateDoc(call.session(CALLER), { end_request: null }));
        }
      }
    });
  });

  describe("fields only the server writes", () => {
    const attempts: Array<[string, DocumentData]> = [
      ["the offer (rewrite)", { offer: { type: "offer", sdp: sampleSdp("offer").replace("Gq2b", "evil") } }],
      ["the offer (removal)", { offer: deleteField() }],
      ["status", { status: "connected" }],
      ["caller_id", { caller_id: STRANGER }],
      ["callee_id", { callee_id: STRANGER }],
      ["ring_seconds", { ring_seconds: RING_SECONDS.max }],
      ["created_at", { created_at: serverTimestamp() }],
      ["updated_at", { updated_at: serverTimestamp() }],
      ["ended_at", { ended_at: serverTimestamp() }],
      ["ended_reason", { ended_reason: "hangup" }],
      ["error", { error: { code: "x", message: "y" } }],
      ["expire_at", { expire_at: secondsFromNow(TWO_DAYS) }],
      ["an unknown key", { note: "hi" }],
    ];
    for (const [what, update] of attempts) {
      it(`refuses ${what} from either participant, whatever the server shows`, async () => {
        for (const status of STATUSES_BEHIND.answered) {
          const call = await f.seedCall("answered", { status });
          for (const uid of [CALLER, CALLEE]) await denied(updateDoc(call.session(uid), update));
          // Not even alongside a write that is allowed on its own.
          await denied(updateDoc(call.session(CALLER), { ...connectivityFields("caller", serverTimestamp()), ...update }));
        }
      });
    }

    it("refuses deleting a session, even by a participant", async () => {
      const call = await f.seedCall("connected");
      await denied(deleteDoc(call.session(CALLER)));
      await denied(deleteDoc(call.session(CALLEE)));
    });
  });

  describe("once the server has recorded the end (status ended)", () => {
    for (const phase of PHASES) {
      it(`takes no write from anyone in a call that ended ${phase}, with or without an end request`, async () => {
        for (const endRequest of [null, { by: "caller", reason: "hangup", at: Timestamp.now() }]) {
          const call = await f.seedCall(phase, { status: "ended", fields: { end_request: endRequest, ended_at: Timestamp.now(), ended_reason: endRequest ? "hangup" : "timeout" } });
          for (const role of ROLES) {
            for (const reason of Object.keys(END_RULES) as EndRequestReason[]) {
              await denied(updateDoc(call.session(UID[role]), endRequestFields(role, reason, serverTimestamp())));
            }
            await denied(updateDoc(call.session(UID[role]), connectivityFields(role, serverTimestamp())));
          }
          await denied(updateDoc(call.session(CALLEE), answerFields(answer)));
          await denied(updateDoc(call.session(CALLEE), { status: "offered" }));
          await denied(updateDoc(call.session(CALLER), { status: "pending" }));
          await denied(setDoc(call.candidates(CALLER, "caller"), candidateFields("caller")));
          await denied(setDoc(call.candidates(CALLEE, "callee"), candidateFields("callee")));
          assert.equal((await allowed(getDoc(call.session(CALLEE)))).get("status"), "ended");
        }
      });
    }
  });
});
