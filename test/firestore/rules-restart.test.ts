// firestore.rules for ICE restarts, run in the Firestore emulator: the caller moves its
// candidates document to the next generation with a restart offer, the callee answers it in its
// own and may ask for one (role × phase × generation), the bounds, nothing after the end; and
// the deletion of a document that is already gone (a redial's batch).
import { strict as assert } from "node:assert";
import { Timestamp, arrayUnion, deleteDoc, doc, getDoc, updateDoc, writeBatch, type DocumentData } from "firebase/firestore";
import { ICE_RESTART, LIMITS, candidatesPath, endRequestFields, restartFields, restartRequestFields, type Role } from "@webrtc-lite/contract";
import { serverTimestamp } from "firebase/firestore";
import { CALLEE, CALLER, STRANGER, UID, allowed, denied, maximalEntries, numberedEntries, sdpOfLength, useRulesFixture, type Call } from "../helpers/rules";
import { sampleSdp } from "../helpers/sdp";

/** A restart description of `sender`'s type, unique per generation (new ICE credentials). */
function restartSdp(sender: Role, generation: number): string {
  return sampleSdp(sender === "caller" ? "offer" : "answer").replace(/a=ice-ufrag:[^\r\n]*/, `a=ice-ufrag:g${generation}`);
}

function restart(sender: Role, generation: number, entries = numberedEntries(100 * generation, 2)): DocumentData {
  return restartFields(sender, generation, restartSdp(sender, generation), entries);
}

describe("firestore.rules: ICE restarts (Firestore emulator)", function () {
  this.timeout(60_000);
  const fixture = useRulesFixture();

  const mine = (call: Call, sender: Role) => call.candidates(UID[sender], sender);

  /** Puts `sender`'s document of `call` into `generation` with the rules off. */
  async function seedGeneration(call: Call, sender: Role, generation: number, extra: DocumentData = {}): Promise<void> {
    const now = Timestamp.now();
    await fixture.seed(candidatesPath(call.id, sender), {
      sender,
      caller_id: CALLER,
      callee_id: CALLEE,
      candidates: [],
      created_at: now,
      expire_at: Timestamp.fromMillis(Date.now() + 25 * 3_600_000),
      ...(generation > 0 ? { generation, description: { type: sender === "caller" ? "offer" : "answer", sdp: restartSdp(sender, generation) } } : {}),
      ...extra,
    });
  }

  describe("the caller's restart offer", () => {
    for (const phase of ["answered", "connected"] as const) {
      it(`moves the caller's document one generation up with 0 to ${LIMITS.maxCandidatesPerWrite} entries while the call is ${phase}, whatever the server shows`, async () => {
        const call = await fixture.seedCall(phase, { status: "offered" });
        await allowed(updateDoc(mine(call, "caller"), restart("caller", 1, [])));
        await allowed(updateDoc(mine(call, "caller"), restart("caller", 2, numberedEntries(1, LIMITS.maxCandidatesPerWrite))));
        await denied(updateDoc(mine(call, "caller"), restart("caller", 3, numberedEntries(1, LIMITS.maxCandidatesPerWrite + 1))));
        const held = (await getDoc(mine(call, "caller"))).data()!;
        assert.deepEqual([held.generation, held.candidates.length, held.description.type], [2, LIMITS.maxCandidatesPerWrite, "offer"]);
      });
    }

    it("gives each generation its own entry cap: appends after a restart start from its entries", async () => {
      const call = await fixture.seedCall("connected");
      for (let start = 0; start < LIMITS.maxCandidatesPerSide; start += LIMITS.maxCandidatesPerWrite) {
        await allowed(updateDoc(mine(call, "caller"), { candidates: arrayUnion(...numberedEntries(start, Math.min(LIMITS.maxCandidatesPerWrite, LIMITS.maxCandidatesPerSide - start))) }));
      }
      await denied(updateDoc(mine(call, "caller"), { candidates: arrayUnion(...numberedEntries(500, 1)) }));
      await allowed(updateDoc(mine(call, "caller"), restart("caller", 1, numberedEntries(600, 6))));
      for (let start = 6; start < LIMITS.maxCandidatesPerSide; start += LIMITS.maxCandidatesPerWrite) {
        await allowed(updateDoc(mine(call, "caller"), { candidates: arrayUnion(...numberedEntries(600 + start, Math.min(LIMITS.maxCandidatesPerWrite, LIMITS.maxCandidatesPerSide - start))) }));
      }
      await denied(updateDoc(mine(call, "caller"), { candidates: arrayUnion(...numberedEntries(700, 1)) }));
    });

    it(`is refused before the answer, after an end request, once the server recorded the end, past generation ${ICE_RESTART.maxGeneration}, and skipping a generation`, async () => {
      const ringing = await fixture.seedCall("offered");
      await denied(updateDoc(mine(ringing, "caller"), restart("caller", 1)));
      const asked = await fixture.seedCall("connected", { fields: { end_request: { by: "callee", reason: "hangup", at: Timestamp.now() } } });
      await denied(updateDoc(mine(asked, "caller"), restart("caller", 1)));
      const ended = await fixture.seedCall("connected", { status: "ended", candidates: ["caller", "callee"] });
      await denied(updateDoc(mine(ended, "caller"), restart("caller", 1)));
      const last = await fixture.seedCall("connected");
      await seedGeneration(last, "caller", ICE_RESTART.maxGeneration);
      await denied(updateDoc(mine(last, "caller"), restart("caller", ICE_RESTART.maxGeneration + 1)));
      const live = await fixture.seedCall("connected");
      await denied(updateDoc(mine(live, "caller"), restart("caller", 2)));
      await denied(updateDoc(mine(live, "caller"), restart("caller", 0)));
      await allowed(updateDoc(mine(live, "caller"), restart("caller", 1)));
      await denied(updateDoc(mine(live, "caller"), restart("caller", 1)));
    });

    it("is refused with an answer for a description, an SDP the contract refuses, another key, a fractional generation, or from anyone but the caller", async () => {
      const call = await fixture.seedCall("connected");
      await denied(updateDoc(mine(call, "caller"), { ...restart("caller", 1), description: { type: "answer", sdp: restartSdp("callee", 1) } }));
      await denied(updateDoc(mine(call, "caller"), { ...restart("caller", 1), description: { type: "offer", sdp: "v=0\r\nhello" } }));
      await denied(updateDoc(mine(call, "caller"), { ...restart("caller", 1), description: { type: "offer", sdp: sdpOfLength("offer", LIMITS.maxSdpLength + 1) } }));
      await denied(updateDoc(mine(call, "caller"), { ...restart("caller", 1), sender: "callee" }));
      await denied(updateDoc(mine(call, "caller"), { ...restart("caller", 1), restart_request: 1 }));
      await denied(updateDoc(mine(call, "caller"), { ...restart("caller", 1), generation: 1.5 }));
      await denied(updateDoc(mine(call, "caller"), { generation: 1, candidates: [] }));
      await denied(updateDoc(call.candidates(CALLEE, "caller"), restart("caller", 1)));
      await denied(updateDoc(call.candidates(STRANGER, "caller"), restart("caller", 1)));
      await denied(updateDoc(call.candidates(undefined, "caller"), restart("caller", 1)));
      await allowed(updateDoc(mine(call, "caller"), restart("caller", 1)));
    });
  });

  describe("the callee's restart answer", () => {
    it("moves the callee's document to the caller's generation, which may be several up, and no other", async () => {
      const call = await fixture.seedCall("connected");
      await denied(updateDoc(mine(call, "callee"), restart("callee", 1)));
      await seedGeneration(call, "caller", 2);
      await denied(updateDoc(mine(call, "callee"), restart("callee", 1)));
      await denied(updateDoc(mine(call, "callee"), restart("callee", 3)));
      await allowed(updateDoc(mine(call, "callee"), restart("callee", 2, numberedEntries(1, LIMITS.maxCandidatesPerWrite))));
      await denied(updateDoc(mine(call, "callee"), restart("callee", 2)));
      await seedGeneration(call, "caller", 3);
      await allowed(updateDoc(mine(call, "callee"), restart("callee", 3)));
    });

    it("is refused with an offer for a description, from the caller, or after the end", async () => {
      const call = await fixture.seedCall("connected");
      await seedGeneration(call, "caller", 1);
      await denied(updateDoc(mine(call, "callee"), { ...restart("callee", 1), description: { type: "offer", sdp: restartSdp("caller", 1) } }));
      await denied(updateDoc(call.candidates(CALLER, "callee"), restart("callee", 1)));
      await allowed(updateDoc(call.session(CALLER), endRequestFields("caller", "hangup", serverTimestamp())));
      await denied(updateDoc(mine(call, "callee"), restart("callee", 1)));
    });
  });

  describe("the callee's restart request", () => {
    it(`asks for ever later generations, up to ${ICE_RESTART.maxGeneration}, and only while the call is live`, async () => {
      const call = await fixture.seedCall("connected");
      await allowed(updateDoc(mine(call, "callee"), restartRequestFields(1)));
      await denied(updateDoc(mine(call, "callee"), restartRequestFields(1)));
      await allowed(updateDoc(mine(call, "callee"), restartRequestFields(3)));
      await denied(updateDoc(mine(call, "callee"), restartRequestFields(2)));
      await denied(updateDoc(mine(call, "callee"), restartRequestFields(ICE_RESTART.maxGeneration + 1)));
      await denied(updateDoc(mine(call, "callee"), { restart_request: "4" }));
      await denied(updateDoc(mine(call, "callee"), { ...restartRequestFields(4), candidates: numberedEntries(1, 1) }));
      await allowed(updateDoc(mine(call, "callee"), restartRequestFields(ICE_RESTART.maxGeneration)));
      const ended = await fixture.seedCall("connected", { fields: { end_request: { by: "caller", reason: "hangup", at: Timestamp.now() } } });
      await denied(updateDoc(mine(ended, "callee"), restartRequestFields(1)));
    });

    it("is the callee's alone: the caller cannot write one into either document", async () => {
      const call = await fixture.seedCall("connected");
      await denied(updateDoc(mine(call, "caller"), restartRequestFields(1)));
      await denied(updateDoc(call.candidates(CALLER, "callee"), restartRequestFields(1)));
      await denied(updateDoc(call.candidates(STRANGER, "callee"), restartRequestFields(1)));
    });
  });

  describe("the 1000-expression limit", () => {
    it(`admits a restart offer and its answer with ${LIMITS.maxCandidatesPerWrite} entries of the largest size and the largest SDP`, async () => {
      const call = await fixture.seedCall("connected");
      const offer = { type: "offer", sdp: sdpOfLength("offer", LIMITS.maxSdpLength) };
      await allowed(updateDoc(mine(call, "caller"), { generation: 1, description: offer, candidates: maximalEntries(LIMITS.maxCandidatesPerWrite) }));
      const answer = { type: "answer", sdp: sdpOfLength("answer", LIMITS.maxSdpLength) };
      await allowed(updateDoc(mine(call, "callee"), { generation: 1, description: answer, candidates: maximalEntries(LIMITS.maxCandidatesPerWrite) }));
    });
  });

  describe("deleting a document that is gone", () => {
    it("lets a participant delete its own missing document (a redial ends an earlier call without knowing the server got there first); a stranger is refused", async () => {
      const call = await fixture.seedCall("connected", { candidates: [] });
      await allowed(deleteDoc(mine(call, "caller")));
      await allowed(deleteDoc(mine(call, "callee")));
      await denied(deleteDoc(call.candidates(STRANGER, "caller")));
      const store = fixture.db(CALLER);
      const batch = writeBatch(store);
      batch.update(doc(store, `webrtc_sessions/${call.id}`), endRequestFields("caller", "hangup", serverTimestamp()));
      batch.delete(doc(store, candidatesPath(call.id, "caller")));
      await allowed(batch.commit());
    });
  });
});
