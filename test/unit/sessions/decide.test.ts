import { strict as assert } from "node:assert";
import { decideAfterWrite, decideStale, type Decision, type SessionPatch } from "#functions/sessions/decide";
import type { Timeouts } from "@webrtc-lite/contract";
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
    answer: null,
    end_request: null,
    ring_seconds: 60,
    created_at: at(CREATED),
    updated_at: at(CREATED),
    expire_at: at(CREATED + 25 * 3_600_000),
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
    if (key === "reset") continue;
    next[key] = key.endsWith("_at") ? at(value as number) : value;
  }
  for (const field of patch.reset ?? []) next[field] = null;
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

  it("records a new session as offered and leaves the candidate documents to their senders", () => {
    assert.deepEqual(decideAfterWrite(session(), NOW, T), {
      kind: "transition",
      event: "offered (from the participants' fields)",
      from: "pending",
      to: "offered",
      patch: { status: "offered", updated_at: NOW, expire_at: NOW + (45 + 3_600) * 1_000 },
      candidates: "keep",
    });
  });

  it("waits while the record is up to date with the participants' fields", () => {
    assert.deepEqual(decideAfterWrite(session({ status: "offered" }), NOW, T), { kind: "none", why: "offered: waiting for the callee's answer" });
    assert.deepEqual(decideAfterWrite(session({ status: "answered", answer }), NOW, T), { kind: "none", why: "answered: waiting for a connectivity report" });
    assert.deepEqual(decideAfterWrite(session({ status: "connected", answer, connectivity: connectivity("caller") }), NOW, T), {
      kind: "none",
      why: "connected: waiting for the end of the call",
    });
  });

  it("reads legacy documents without ring_seconds, answer or end_request fields", () => {
    const legacy = session({ status: "offered", answer });
    delete legacy.ring_seconds;
    delete legacy.end_request;
    const decision = write(decideAfterWrite(legacy, NOW, T));
    assert.equal(decision.kind === "transition" && decision.to, "answered");
  });

  for (const by of ["caller", "callee"] as const) {
    it(`records connected on the ${by}'s connectivity report`, () => {
      assert.deepEqual(decideAfterWrite(session({ status: "answered", answer, connectivity: connectivity(by) }), NOW, T), {
        kind: "transition",
        event: "connected (from the participants' fields)",
        from: "answered",
        to: "connected",
        patch: { status: "connected", updated_at: NOW, expire_at: NOW + (7_200 + 3_600) * 1_000 },
        candidates: "keep",
      });
    });
  }

  // A late trigger (cold start, outage) finds the call further along than its record: it
  // records the furthest state the fields prove, in one write, and never one they do not.
  const catchUps: Array<[string, Doc, string]> = [
    ["an answer the trigger never saw", { status: "pending", answer }, "answered"],
    ["an answer and a report while still pending", { status: "pending", answer, connectivity: connectivity("caller") }, "connected"],
    ["a report while the record says offered", { status: "offered", answer, connectivity: connectivity("callee") }, "connected"],
  ];
  for (const [what, fields, to] of catchUps) {
    it(`catches up on ${what} in one write (${String(fields.status)} → ${to})`, () => {
      const decision = write(decideAfterWrite(session(fields), NOW, T));
      assert.equal(decision.kind, "transition");
      assert.deepEqual(decision.kind === "transition" && [decision.from, decision.to, decision.candidates], [fields.status, to, "keep"]);
    });
  }

  const allowedEnds: Array<[string, "caller" | "callee", string, Doc]> = [
    ["pending", "caller", "cancel", {}],
    ["pending", "caller", "timeout", {}],
    ["pending", "callee", "reject", {}],
    ["pending", "callee", "busy", {}],
    ["pending", "callee", "hangup", { answer, connectivity: connectivity("caller") }],
    ["offered", "caller", "cancel", {}],
    ["offered", "caller", "timeout", {}],
    ["offered", "callee", "reject", {}],
    ["offered", "callee", "busy", {}],
    ["offered", "caller", "hangup", {}],
    ["offered", "caller", "cancel", { answer }],
    ["offered", "callee", "failed", { answer }],
    ["answered", "caller", "cancel", { answer }],
    ["answered", "callee", "failed", { answer }],
    ["connected", "caller", "hangup", { answer, connectivity: connectivity("callee") }],
    ["connected", "callee", "failed", { answer, connectivity: connectivity("caller") }],
  ];
  for (const [status, by, reason, extra] of allowedEnds) {
    const phase = "connectivity" in extra ? "connected" : "answer" in extra ? "answered" : "offered";
    it(`ends a call recorded ${status} (fields: ${phase}) on the ${by}'s ${reason}, deleting the candidate documents`, () => {
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
      "a connectivity report before any answer",
      { status: "offered", connectivity: connectivity("caller") },
      ["connectivity"],
      { code: "connectivity-out-of-order", message: "the connectivity is accepted only while the call is answered; it is offered." },
    ],
    [
      "a reject from the caller",
      { status: "offered", end_request: endRequest("caller", "reject") },
      ["end_request"],
      { code: "end-not-allowed", message: 'the caller may not end a call with reason "reject" (only the callee may).' },
    ],
    [
      "a reject after the answer, even while the record still says pending",
      { status: "pending", answer, end_request: endRequest("callee", "reject") },
      ["end_request"],
      { code: "end-not-allowed", message: 'reason "reject" does not apply to a call that is answered (only to offered).' },
    ],
    [
      "a cancel of a connected call",
      { status: "connected", answer, connectivity: connectivity("caller"), end_request: endRequest("caller", "cancel") },
      ["end_request"],
      { code: "end-not-allowed", message: 'reason "cancel" does not apply to a call that is connected (only to offered, answered).' },
    ],
    [
      "an answer whose SDP is implausible",
      { status: "offered", answer: { type: "answer", sdp: "v=0\r\nhello" } },
      ["answer"],
      { code: "invalid-answer", message: 'the answer is invalid: sdp: sdp line 2 is not of the form x=value (a lowercase letter, "=", printable ASCII; lines end with CRLF or LF).' },
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
  for (const [what, fields, reset, error] of refusals) {
    it(`refuses ${what}: resets it to null and records why in error`, () => {
      const status = (fields.status as string | undefined) ?? "pending";
      assert.deepEqual(decideAfterWrite(session(fields), NOW, T), { kind: "refusal", status, refused: error, patch: { error, reset } });
    });
  }

  it("resets every refused field at once and records the first", () => {
    const bad = { type: "answer", sdp: "v=0" };
    const decision = decideAfterWrite(session({ answer: bad, connectivity: connectivity("callee"), end_request: endRequest("callee", "bored") }), NOW, T);
    assert.deepEqual(decision.kind === "refusal" && decision.patch.reset, ["answer", "connectivity", "end_request"]);
    assert.equal(decision.kind === "refusal" && decision.refused.code, "invalid-answer");
  });

  const invalidSessions: Array<[string, Doc, string]> = [
    ["without an offer", { offer: undefined }, "offer: Invalid input: expected object, received undefined"],
    ["with an implausible offer", { offer: { type: "offer", sdp: "v=0\r\n" } }, "offer.sdp: sdp has no origin line (o=) at the start of a line."],
    ["between one user and themself", { callee_id: "alice" }, "callee_id: caller and callee are the same user"],
    ["with an unknown status", { status: "ringing" }, 'status: Invalid option: expected one of "pending"|"offered"|"answered"|"connected"|"ended"'],
    ["without created_at", { created_at: undefined }, "created_at: must be a Firestore timestamp"],
    ["with a ring time out of bounds", { ring_seconds: 601 }, "ring_seconds: Too big: expected number to be <=600"],
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

  it("converges however the events are delivered: late, reordered, twice or lost", () => {
    // The participants' writes of a whole call land before any trigger runs; then the events
    // (snapshots of each write) arrive in some order. A decision lands only on the snapshot it
    // was made from (the lastUpdateTime precondition); the event of the trigger's own write
    // must decide nothing; whatever is still unrecorded, the sweep records.
    const snapshots: Doc[] = [session()];
    for (const next of [{ answer }, { connectivity: connectivity("caller") }, { end_request: endRequest("caller", "hangup") }]) {
      snapshots.push({ ...snapshots[snapshots.length - 1], ...next });
    }
    for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2, 2, 3], [1], []]) {
      let current = snapshots[3];
      const recorded: string[] = [];
      for (const index of order) {
        const decision = decideAfterWrite(snapshots[index], NOW, T);
        if (decision.kind === "none" || snapshots[index] !== current) continue;
        current = applyPatch(current, write(decision).patch);
        recorded.push(`trigger: ${String(current.status)}`);
        assert.equal(decideAfterWrite(current, NOW, T).kind, "none", "the event of the trigger's own write decided something");
      }
      const swept = decideStale(current, NOW + 600_000, T);
      if (swept.kind !== "none") {
        current = applyPatch(current, swept.patch);
        recorded.push(`sweep: ${String(current.status)}`);
      }
      assert.deepEqual(recorded, [order.includes(3) ? "trigger: ended" : "sweep: ended"], `order [${order.join(",")}]`);
      assert.equal(current.ended_reason, "hangup");
      assert.equal(decideStale(current, NOW + 1_200_000, T).kind, "none");
    }
  });

  it("converges after a refusal: the reset field no longer counts, the rest proceeds", () => {
    const doc = session({ status: "offered", connectivity: connectivity("callee") });
    const refusal = write(decideAfterWrite(doc, NOW, T));
    assert.equal(refusal.kind, "refusal");
    const cleaned = applyPatch(doc, refusal.patch);
    assert.equal(cleaned.connectivity, null);
    assert.deepEqual((cleaned.error as { code: string }).code, "connectivity-out-of-order");
    assert.deepEqual(decideAfterWrite(cleaned, NOW, T), { kind: "none", why: "offered: waiting for the callee's answer" });
  });
});

describe("decideStale", () => {
  it("does nothing for an ended session or one within its deadline", () => {
    assert.deepEqual(decideStale(session({ status: "ended" }), NOW, T), { kind: "none", why: "the session has ended" });
    assert.deepEqual(decideStale(session({ status: "offered" }), CREATED + 44_999, T), { kind: "none", why: "offered and within its timeout" });
  });

  it("ends an unanswered call at created_at plus the shorter of its ring_seconds and the ring timeout", () => {
    const short = session({ status: "offered", ring_seconds: 20 });
    assert.equal(decideStale(short, CREATED + 19_999, T).kind, "none");
    assert.equal(write(decideStale(short, CREATED + 20_000, T)).kind, "transition");
    const long = session({ status: "offered", ring_seconds: 600 });
    assert.equal(decideStale(long, CREATED + 44_999, T).kind, "none");
    assert.equal(write(decideStale(long, CREATED + 45_000, T)).patch.ended_reason, "timeout");
  });

  it("ends a call the trigger never recorded (still pending) past its ring deadline, in one write", () => {
    assert.deepEqual(decideStale(session(), CREATED + 45_000, T), {
      kind: "transition",
      event: "timeout",
      from: "pending",
      to: "ended",
      patch: {
        status: "ended",
        updated_at: CREATED + 45_000,
        expire_at: CREATED + 45_000 + 3_600_000,
        ended_at: CREATED + 45_000,
        ended_reason: "timeout",
      },
      candidates: "delete",
    });
  });

  it("records what the trigger missed instead of timing out a call that was answered", () => {
    const decision = write(decideStale(session({ status: "pending", answer }), CREATED + 3_600_000, T));
    assert.deepEqual(decision.kind === "transition" && [decision.from, decision.to], ["pending", "answered"]);
    const ended = write(decideStale(session({ status: "offered", answer, end_request: endRequest("callee", "hangup") }), CREATED + 3_600_000, T));
    assert.equal(ended.patch.ended_reason, "hangup");
  });

  for (const [status, age, extra] of [
    ["answered", 20_000, { answer }],
    ["connected", 7_200_000, { answer, connectivity: connectivity("caller") }],
  ] as const) {
    it(`ends a ${status} session ${age / 1000} s after it entered that state with reason timeout`, () => {
      assert.equal(decideStale(session({ status, updated_at: at(NOW - age + 1), ...extra }), NOW, T).kind, "none");
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
