import { strict as assert } from "node:assert";
import {
  answerFields,
  candidatesCreateFields,
  candidateBatchSchema,
  candidateDocumentSchema,
  candidateEntrySchema,
  candidatesPath,
  connectivityFields,
  describeIssues,
  endRequestFields,
  peerOf,
  ringDeadlineMillis,
  sessionCreateFields,
  sessionCreateInputSchema,
  sessionPath,
  sessionSchema,
  uidSchema,
} from "@webrtc-lite/contract";
import { sampleCandidates, sampleSdp } from "../../helpers/sdp";

const at = (millis: number) => ({ toMillis: () => millis });
const offer = { type: "offer" as const, sdp: sampleSdp("offer") };
const answer = { type: "answer" as const, sdp: sampleSdp("answer") };
const SERVER_TIME = Symbol("serverTimestamp");
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

function firstIssue(schema: { safeParse(value: unknown): { success: boolean; error?: unknown } }, value: unknown): string {
  const result = schema.safeParse(value);
  assert.equal(result.success, false, "expected the schema to refuse the value");
  return describeIssues(result.error as Parameters<typeof describeIssues>[0]);
}

describe("signaling model", () => {
  describe("creating a session", () => {
    it("accepts a caller, a different callee and a plausible offer, and builds the document", () => {
      const input = sessionCreateInputSchema.parse({ caller_id: "alice", callee_id: "bob", offer });
      assert.deepEqual(sessionCreateFields(input, SERVER_TIME, NOW), {
        caller_id: "alice",
        callee_id: "bob",
        status: "pending",
        offer,
        answer: null,
        end_request: null,
        ring_seconds: 60,
        created_at: SERVER_TIME,
        updated_at: SERVER_TIME,
        expire_at: new Date(NOW + 25 * 3_600_000),
      });
      assert.equal(sessionCreateFields({ ...input, ring_seconds: 15 }, SERVER_TIME, NOW).ring_seconds, 15);
    });

    it("bounds the ring time the caller chooses", () => {
      const input = { caller_id: "alice", callee_id: "bob", offer };
      assert.equal(sessionCreateInputSchema.parse({ ...input, ring_seconds: 10 }).ring_seconds, 10);
      assert.equal(sessionCreateInputSchema.parse({ ...input, ring_seconds: 600 }).ring_seconds, 600);
      assert.equal(firstIssue(sessionCreateInputSchema, { ...input, ring_seconds: 9 }), "ring_seconds: ring_seconds must be at least 10");
      assert.equal(firstIssue(sessionCreateInputSchema, { ...input, ring_seconds: 601 }), "ring_seconds: ring_seconds must be at most 600");
      assert.equal(firstIssue(sessionCreateInputSchema, { ...input, ring_seconds: 30.5 }), "ring_seconds: ring_seconds must be a whole number of seconds");
    });

    it("takes uids of the Firebase Auth alphabet, 1 to 128 characters, and nothing else", () => {
      const accepts = (uid: unknown) => uidSchema.safeParse(uid).success;
      for (const uid of ["a", "Qx7RkTn2bYc9LmPz4WvS8dF1hJ3G", "user_42-test", "b".repeat(128)]) assert.equal(accepts(uid), true, uid);
      for (const uid of ["", "b".repeat(129), "a/b", "a.b", "a b", "a\nb", "a\u0000b", "<script>", "a'b", 'a"b', "é", "🙂", "a@b.c", "a+b", "a:b"]) {
        assert.equal(accepts(uid), false, JSON.stringify(uid));
      }
    });

    it("builds each side's own candidates document, and reads the ring deadline from a session", () => {
      assert.deepEqual(candidatesCreateFields({ caller_id: "alice", callee_id: "bob" }, "callee", sampleCandidates("callee").slice(0, 2), SERVER_TIME, NOW), {
        sender: "callee",
        caller_id: "alice",
        callee_id: "bob",
        candidates: sampleCandidates("callee").slice(0, 2),
        created_at: SERVER_TIME,
        expire_at: new Date(NOW + 25 * 3_600_000),
      });
      assert.equal(ringDeadlineMillis({ created_at: at(NOW), ring_seconds: 45 }), NOW + 45_000);
    });

    it("refuses calling yourself, unknown keys, bad uids and a mistyped offer", () => {
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "alice", callee_id: "alice", offer }), "callee_id: callee_id must be a different user than caller_id");
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "alice", callee_id: "bob", offer, status: "connected" }), 'Unrecognized key: "status"');
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "", callee_id: "bob", offer }), "caller_id: must not be empty");
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "alice", callee_id: "b".repeat(129), offer }), "callee_id: must be at most 128 characters");
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "alice", callee_id: 7, offer }), "callee_id: must be a Firebase Auth uid (a string)");
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "alice", callee_id: "bob/1", offer }), "callee_id: must be made of A-Z, a-z, 0-9, _ and - (the Firebase Auth uid alphabet)");
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "alice", callee_id: "bob", offer: { ...offer, type: "answer" } }), 'offer.type: type must be "offer"');
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "alice", callee_id: "bob", offer: { type: "offer", sdp: 5 } }), "offer.sdp: sdp must be a string");
      assert.equal(firstIssue(sessionCreateInputSchema, { caller_id: "alice", callee_id: "bob", offer: { ...offer, extra: 1 } }), 'offer: Unrecognized key: "extra"');
    });
  });

  it("builds the participants' updates", () => {
    assert.deepEqual(answerFields(answer), { answer });
    assert.deepEqual(connectivityFields("callee", SERVER_TIME), { connectivity: { by: "callee", at: SERVER_TIME } });
    assert.deepEqual(endRequestFields("caller", "cancel", SERVER_TIME), { end_request: { by: "caller", reason: "cancel", at: SERVER_TIME } });
  });

  describe("candidate entries", () => {
    it("accepts what RTCIceCandidate.toJSON() gives, and the end-of-candidates marker with or without ids", () => {
      for (const entry of sampleCandidates("callee")) assert.deepEqual(candidateEntrySchema.parse(entry), entry);
      assert.deepEqual(candidateEntrySchema.parse({ candidate: "", sdpMid: null, sdpMLineIndex: null }), { candidate: "", sdpMid: null, sdpMLineIndex: null });
      const [first] = sampleCandidates("caller");
      assert.ok(candidateEntrySchema.safeParse({ ...first, sdpMid: null }).success);
      assert.ok(candidateEntrySchema.safeParse({ ...first, sdpMLineIndex: null }).success);
      // libwebrtc's and the spec's toJSON() add usernameFragment; it may also be null.
      assert.ok(candidateEntrySchema.safeParse({ ...first, usernameFragment: "8hhY" }).success);
      assert.ok(candidateEntrySchema.safeParse({ ...first, usernameFragment: null }).success);
      for (const sdpMid of ["1", "audio", "sdparta_0", "", "m".repeat(64), "a!#$%*+.^_|~-z"]) assert.ok(candidateEntrySchema.safeParse({ ...first, sdpMid }).success, sdpMid);
    });

    it("refuses each kind of bad entry with a sentence naming the field", () => {
      const [first] = sampleCandidates("caller");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, sdpMid: null, sdpMLineIndex: null }), "sdpMid: a candidate needs sdpMid or sdpMLineIndex");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, sdpMid: "m".repeat(65) }), "sdpMid: sdpMid must be at most 64 characters");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, sdpMid: 0 }), "sdpMid: sdpMid must be a string or null");
      for (const sdpMid of ["<b>", "a b", "0\n", "'0'", "{0}", "é", "a&b"]) {
        assert.equal(firstIssue(candidateEntrySchema, { ...first, sdpMid }), "sdpMid: sdpMid must be made of A-Z, a-z, 0-9 and ! # $ % * + - . ^ _ | ~", sdpMid);
      }
      assert.equal(firstIssue(candidateEntrySchema, { ...first, sdpMLineIndex: -0 }), "sdpMLineIndex: sdpMLineIndex must be a whole number or null, not -0");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, sdpMLineIndex: 64 }), "sdpMLineIndex: sdpMLineIndex must be at most 63");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, sdpMLineIndex: -1 }), "sdpMLineIndex: sdpMLineIndex must not be negative");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, sdpMLineIndex: 0.5 }), "sdpMLineIndex: sdpMLineIndex must be a whole number or null");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, candidate: 1 }), "candidate: candidate must be a string");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, candidate: "candidate:1 1 udp 1 192.0.2.10 9 typ peer" }), "candidate: candidate type must be host, srflx, prflx or relay.");
      assert.equal(firstIssue(candidateEntrySchema, { ...first, foundation: "x" }), 'Unrecognized key: "foundation"');
      assert.equal(
        firstIssue(candidateEntrySchema, { ...first, usernameFragment: "a b" }),
        "usernameFragment: usernameFragment must be 1 to 256 characters of A-Z, a-z, 0-9, + and /",
      );
      assert.equal(firstIssue(candidateEntrySchema, { ...first, usernameFragment: "u".repeat(257) }).startsWith("usernameFragment:"), true);
      assert.equal(firstIssue(candidateEntrySchema, { ...first, usernameFragment: 7 }), "usernameFragment: usernameFragment must be a string or null");
    });

    it("bounds a batch to 1–6 entries", () => {
      const entry = sampleCandidates("caller")[0];
      assert.equal(candidateBatchSchema.parse(Array(6).fill(entry)).length, 6);
      assert.equal(firstIssue(candidateBatchSchema, []), "a batch holds at least one entry");
      assert.equal(firstIssue(candidateBatchSchema, Array(7).fill(entry)), "a batch holds at most 6 entries; send the rest in another write");
      assert.equal(firstIssue(candidateBatchSchema, "x"), "candidates must be an array");
    });
  });

  describe("reading a session", () => {
    const base = { caller_id: "alice", callee_id: "bob", offer, created_at: at(1), updated_at: at(2) };

    it("accepts each state with the fields it has, and ignores fields it does not know", () => {
      assert.ok(sessionSchema.safeParse({ ...base, status: "offered", expire_at: at(3) }).success);
      assert.ok(sessionSchema.safeParse({ ...base, status: "answered", answer }).success);
      const created = sessionSchema.parse({ ...base, status: "pending", answer: null, end_request: null, ring_seconds: 30 });
      assert.deepEqual([created.answer, created.end_request, created.ring_seconds], [null, null, 30]);
      assert.equal(sessionSchema.parse({ ...base, status: "offered" }).ring_seconds, 60);
      const ended = sessionSchema.parse({
        ...base,
        status: "ended",
        answer,
        connectivity: { by: "caller", at: at(3) },
        end_request: { by: "callee", reason: "hangup", at: at(4) },
        ended_at: at(5),
        ended_reason: "hangup",
        error: { code: "end-not-allowed", message: "…" },
        expire_at: at(6),
        future_field: true,
      });
      assert.equal(ended.ended_reason, "hangup");
      assert.equal("future_field" in ended, false);
    });

    it("refuses documents whose state lacks what it implies", () => {
      assert.equal(firstIssue(sessionSchema, { ...base, offer: undefined, status: "offered" }), "offer: a session in state offered has an offer");
      assert.equal(firstIssue(sessionSchema, { ...base, status: "connected" }), "answer: a session in state connected has an answer");
      assert.equal(firstIssue(sessionSchema, { ...base, status: "ended", ended_reason: "hangup" }), "ended_reason: an ended session has ended_at and ended_reason");
      assert.equal(firstIssue(sessionSchema, { ...base, status: "ringing" }), "status: status must be one of pending, offered, answered, connected, ended");
      assert.equal(firstIssue(sessionSchema, { ...base, status: "pending", created_at: "yesterday" }), "created_at: must be a Firestore timestamp");
    });

    it("reads a candidates document", () => {
      const document = { sender: "caller", caller_id: "alice", callee_id: "bob", candidates: sampleCandidates("caller"), created_at: at(1), expire_at: at(2) };
      assert.equal(candidateDocumentSchema.parse(document).candidates.length, 6);
      assert.equal(firstIssue(candidateDocumentSchema, { ...document, sender: "mallory" }), 'sender: must be "caller" or "callee"');
    });
  });

  it("names paths and peers", () => {
    assert.equal(sessionPath("s1"), "webrtc_sessions/s1");
    assert.equal(candidatesPath("s1", "callee"), "webrtc_sessions/s1/ice_candidates/callee");
    assert.equal(peerOf("caller"), "callee");
    assert.equal(peerOf("callee"), "caller");
  });
});
