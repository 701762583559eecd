import { strict as assert } from "node:assert";
import { decideAfterWrite, decideStale, type Decision, type SessionPatch } from "../../../functions/src/sessions/decide";
import type { Timeouts } from "../../../functions/src/sessions/model";
import { sampleSdp } from "../../helpers/sdp";

const T: Timeouts = { pendingSeconds: 30, ringSeconds: 45, answerSeconds: 20, maxCallSeconds: 7_200, sessionTtlSeconds: 3_600 };
const CREATED = Date.UTC(2026, 10, 24, 8, 0, 0);
const NOW = CREATED + 2_000;

/** What a Firestore Timestamp looks like to the pure code. */
const at = (millis: number) => ({ toMillis: () => millis });

type Doc = Record<string, unknown>;

function session(fields: Doc = {}): Doc {
  return {
    caller_id: "alice",
    callee_id: "bob",
    status: "pending",
    offer: { type: "offer", sdp: sampleSdp("offer") },
    created_at: at(CREATED),
    updated_at: at(CREATED),
    ...fields,
  };
}
const answer = { type: "answer", sdp: sampleSdp("answer") };
const connectivity = (by: "caller" | "callee") => ({ by, at: at(NOW - 1) });
const endRequest = (by: "caller" | "callee", reason: string) => ({ by, reason, at: at(NOW - 1) });

/** Applies a decision's patch the way Firestore would, so decisions can be chained. */
function applyPatch(doc: Doc, patch: SessionPatch): Doc {
  const next: Doc = { ...doc };
  for (const [key, value] of Object.entries(patch)) {
    if (key === "remove") continue;
    next[key] = key.endsWith("_at") ? at(value as number) : value;
  }
  for (const field of patch.remove ?? []) delete next[field];
  return next;
}

function write(decision: Decision) {
  assert.notEqual(decision.kind, "none", `expected a write, got none (${decision.kind === "none" ? decision.why : ""})`);
  return decision as Exclude<Decision, { kind: "none" }>;
}

describe("decideAfterWrite", () => {
  it("does nothing for a deleted or an ended session", () => {
    assert.deepEqual(decideAfterWrite(undefined, NOW, T), { kind: "none", why: "the session was deleted" });
    assert.deepEqual(decideAfterWrite(session({ status: "ended", answer: "junk" }), NOW, T), { kind: "none", why: "the session has ended" });
  });

  it("moves a new session to offered and creates both candidate documents", () => {
    assert.deepEqual(decideAfterWrite(session(), NOW, T), {
      kind: "transition",
      event: "offer",
      from: "pending",
      to: "offered",
      patch: { status: "offered", updated_at: NOW, expire_at: NOW + (45 + 3_600) * 1_000 },
      candidates: "create",
      newCandidates: (["caller", "callee"] as const).map((sender) => ({
        sender,
        caller_id: "alice",
        callee_id: "bob",
        candidates: [],
        created_at: NOW,
        expire_at: NOW + (45 + 20 + 7_200 + 3_600) * 1_000,
      })),
    });
  });

  it("waits while nothing new has arrived", () => {
    assert.deepEqual(decideAfterWrite(session({ status: "offered" }), NOW, T), { kind: "none", why: "offered: waiting for the callee's answer" });
    assert.deepEqual(decideAfterWrite(session({ status: "answered", answer }), NOW, T), { kind: "none", why: "answered: waiting for a connectivity report" });
    assert.deepEqual(decideAfterWrite(session({ status: "connected", answer, connectivity: connectivity("caller") }), NOW, T), {
      kind: "none",
      why: "connected: waiting for the end of the call",
    });
  });

  it("moves offered to answered when the answer arrives", () => {
    assert.deepEqual(decideAfterWrite(session({ status: "offered", answer }), NOW, T), {
      kind: "transition",
      event: "answer",
      from: "offered",
      to: "answered",
      patch: { status: "answered", updated_at: NOW, expire_at: NOW + (20 + 3_600) * 1_000 },
      candidates: "keep",
    });
  });

  for (const by of ["caller", "callee"] as const) {
    it(`moves answered to connected on the ${by}'s connectivity report`, () => {
      assert.deepEqual(decideAfterWrite(session({ status: "answered", answer, connectivity: connectivity(by) }), NOW, T), {
        kind: "transition",
        event: "connectivity",
        from: "answered",
        to: "connected",
        patch: { status: "connected", updated_at: NOW, expire_at: NOW + (7_200 + 3_600) * 1_000 },
        candidates: "keep",
      });
    });
  }

  const allowedEnds: Array<[string, "caller" | "callee", string, Doc]> = [
    ["pending", "caller", "cancel", {}],
    ["pending", "caller", "timeout", {}],
    ["offered", "caller", "cancel", {}],
    ["offered", "caller", "timeout", {}],
    ["offered", "callee", "reject", {}],
    ["offered", "callee", "busy", {}],
    ["offered", "callee", "hangup", { answer }],
    ["answered", "caller", "cancel", { answer }],
    ["answered", "callee", "failed", { answer }],
    ["connected", "caller", "hangup", { answer, connectivity: connectivity("callee") }],
    ["connected", "callee", "failed", { answer, connectivity: connectivity("caller") }],
  ];
  for (const [status, by, reason, extra] of allowedEnds) {
    it(`ends a ${status} call on the ${by}'s ${reason}, deleting the candidate documents`, () => {
      assert.deepEqual(decideAfterWrite(session({ status, ...extra, end_request: endRequest(by, reason) }), NOW, T), {
        kind: "transition",
        event: `end requested by the ${by} (${reason})`,
        from: status,
        to: "ended",
        patch: { status: "ended", updated_at: NOW, expire_at: NOW + 3_600_000, ended_at: NOW, ended_reason: reason },
        candidates: "delete",
      });
    });
  }

  it("lets an end request win over an answer that arrived in the same write", () => {
    const decision = write(decideAfterWrite(session({ status: "offered", answer, end_request: endRequest("callee", "hangup") }), NOW, T));
    assert.equal(decision.kind === "transition" && decision.to, "ended");
  });

  const refusals: Array<[string, Doc, string[], { code: string; message: string }]> = [
    [
      "an answer while pending",
      { answer },
      ["answer"],
      { code: "answer-out-of-order", message: "the answer is accepted only while the session is offered; it is pending." },
    ],
    [
      "a connectivity report while offered",
      { status: "offered", connectivity: connectivity("caller") },
      ["connectivity"],
      { code: "connectivity-out-of-order", message: "the connectivity is accepted only while the session is answered; it is offered." },
    ],
    [
      "a reject from the caller",
      { status: "offered", end_request: endRequest("caller", "reject") },
      ["end_request"],
      { code: "end-not-allowed", message: 'the caller may not end a call with reason "reject" (only the callee may).' },
    ],
    [
      "a cancel of a connected call",
      { status: "connected", answer, connectivity: connectivity("caller"), end_request: endRequest("caller", "cancel") },
      ["end_request"],
      { code: "end-not-allowed", message: 'reason "cancel" does not apply to a connected call (only to pending, offered, answered).' },
    ],
    [
      "an answer whose SDP is implausible",
      { status: "offered", answer: { type: "answer", sdp: "v=0\r\nhello" } },
      ["answer"],
      { code: "invalid-answer", message: "the answer is invalid: sdp: sdp line 2 is not of the form x=value." },
    ],
    [
      "an answer typed as an offer",
      { status: "offered", answer: { type: "offer", sdp: sampleSdp("answer") } },
      ["answer"],
      { code: "invalid-answer", message: 'the answer is invalid: type: type must be "answer"' },
    ],
    [
      "a connectivity report with extra keys",
      { status: "answered", answer, connectivity: { ...connectivity("callee"), note: "x" } },
      ["connectivity"],
      { code: "invalid-connectivity", message: 'the connectivity report is invalid: Unrecognized key: "note"' },
    ],
    [
      "an end request with an unknown reason",
      { status: "offered", end_request: endRequest("callee", "bored") },
      ["end_request"],
      { code: "invalid-end-request", message: 'the end request is invalid: reason: Invalid option: expected one of "cancel"|"reject"|"busy"|"hangup"|"failed"|"timeout"' },
    ],
  ];
  for (const [what, fields, removed, error] of refusals) {
    it(`refuses ${what}: removes it and records why in error`, () => {
      const status = (fields.status as string | undefined) ?? "pending";
      assert.deepEqual(decideAfterWrite(session(fields), NOW, T), { kind: "refusal", status, refused: error, patch: { error, remove: removed } });
    });
  }

  it("removes every refused field at once and records the first", () => {
    const decision = decideAfterWrite(session({ answer, connectivity: connectivity("callee"), end_request: endRequest("callee", "reject") }), NOW, T);
    assert.deepEqual(decision.kind === "refusal" && decision.patch.remove, ["answer", "connectivity", "end_request"]);
    assert.equal(decision.kind === "refusal" && decision.refused.code, "answer-out-of-order");
  });

  const invalidSessions: Array<[string, Doc, string]> = [
    ["without an offer", { offer: undefined }, "offer: Invalid input: expected object, received undefined"],
    ["with an implausible offer", { offer: { type: "offer", sdp: "v=0\r\n" } }, "offer.sdp: sdp has no origin line (o=)."],
    ["between one user and themself", { callee_id: "alice" }, "callee_id: caller and callee are the same user"],
    ["with an unknown status", { status: "ringing" }, 'status: Invalid option: expected one of "pending"|"offered"|"answered"|"connected"|"ended"'],
    ["without created_at", { created_at: undefined }, "created_at: must be a Firestore timestamp"],
  ];
  for (const [what, fields, message] of invalidSessions) {
    it(`ends a session ${what} with reason error`, () => {
      assert.deepEqual(decideAfterWrite(session(fields), NOW, T), {
        kind: "transition",
        event: "invalid",
        from: "invalid",
        to: "ended",
        patch: {
          status: "ended",
          updated_at: NOW,
          expire_at: NOW + 3_600_000,
          ended_at: NOW,
          ended_reason: "error",
          error: { code: "invalid-session", message: `the session document is invalid: ${message}` },
        },
        candidates: "delete",
      });
    });
  }

  it("converges: after each of its own writes the trigger decides nothing more", () => {
    // The happy path, one participant write at a time; after every server write the event for
    // that write (and any redelivery of it) must decide "none".
    let doc = session();
    const participantWrites: Doc[] = [{ answer }, { connectivity: connectivity("caller") }, { end_request: endRequest("callee", "hangup") }];
    const states: string[] = [];
    for (;;) {
      const decision = decideAfterWrite(doc, NOW, T);
      if (decision.kind === "none") {
        const next = participantWrites.shift();
        if (!next) break;
        doc = { ...doc, ...next };
        continue;
      }
      doc = applyPatch(doc, write(decision).patch);
      states.push(doc.status as string);
      assert.equal(decideAfterWrite(doc, NOW + 1, T).kind, "none", `the trigger's own write to ${String(doc.status)} decided something`);
    }
    assert.deepEqual(states, ["offered", "answered", "connected", "ended"]);
    assert.deepEqual(decideAfterWrite(doc, NOW, T), { kind: "none", why: "the session has ended" });
  });

  it("converges after a refusal: the removed field no longer counts, the rest proceeds", () => {
    const doc = session({ status: "offered", answer, connectivity: connectivity("callee") });
    const refusal = write(decideAfterWrite(doc, NOW, T));
    assert.equal(refusal.kind, "refusal");
    const cleaned = applyPatch(doc, refusal.patch);
    assert.equal("connectivity" in cleaned, false);
    assert.deepEqual((cleaned.error as { code: string }).code, "connectivity-out-of-order");
    const next = write(decideAfterWrite(cleaned, NOW, T));
    assert.equal(next.kind === "transition" && next.to, "answered");
  });
});

describe("decideStale", () => {
  it("does nothing for an ended session or one within its timeout", () => {
    assert.deepEqual(decideStale(session({ status: "ended" }), NOW, T), { kind: "none", why: "the session has ended" });
    assert.deepEqual(decideStale(session({ status: "offered", updated_at: at(NOW - 44_999) }), NOW, T), {
      kind: "none",
      why: "offered and within its timeout",
    });
  });

  for (const [status, age, extra] of [
    ["pending", 30_000, {}],
    ["offered", 45_000, {}],
    ["answered", 20_000, { answer }],
    ["connected", 7_200_000, { answer, connectivity: connectivity("caller") }],
  ] as const) {
    it(`ends a ${status} session ${age / 1000} s after it entered that state with reason timeout`, () => {
      assert.deepEqual(decideStale(session({ status, updated_at: at(NOW - age), ...extra }), NOW, T), {
        kind: "transition",
        event: "timeout",
        from: status,
        to: "ended",
        patch: { status: "ended", updated_at: NOW, expire_at: NOW + 3_600_000, ended_at: NOW, ended_reason: "timeout" },
        candidates: "delete",
      });
    });
  }

  it("ends an invalid session it finds with reason error", () => {
    const decision = write(decideStale(session({ status: "offered", offer: "junk" }), NOW, T));
    assert.equal(decision.kind === "transition" && decision.patch.ended_reason, "error");
  });
});
