import { strict as assert } from "node:assert";
import { END_REQUEST_REASONS, ROLES, type EndRequestReason, type Role } from "@webrtc-lite/contract";
import { reachedPhase, statusRank, transition, type CallPhase, type SessionEvent } from "#functions/sessions/transitions";

// The table of docs/signaling.md written out independently of the module under test:
// [phase, event, actor] → the phase it leads to; every other combination is refused.
const PHASES: CallPhase[] = ["offered", "answered", "connected"];
const STEPS: Array<[CallPhase, "answer" | "connectivity", Role, CallPhase]> = [
  ["offered", "answer", "callee", "answered"],
  ["answered", "connectivity", "caller", "connected"],
  ["answered", "connectivity", "callee", "connected"],
];
const ENDS: Array<[EndRequestReason, Role, CallPhase[]]> = [
  ["cancel", "caller", ["offered", "answered"]],
  ["timeout", "caller", ["offered"]],
  ["reject", "callee", ["offered"]],
  ["busy", "callee", ["offered"]],
  ["hangup", "caller", ["offered", "answered", "connected"]],
  ["hangup", "callee", ["offered", "answered", "connected"]],
  ["failed", "caller", ["answered", "connected"]],
  ["failed", "callee", ["answered", "connected"]],
];

describe("transition table", () => {
  for (const phase of PHASES) {
    for (const kind of ["answer", "connectivity"] as const) {
      for (const by of ROLES) {
        const expected = STEPS.find(([from, event, actor]) => from === phase && event === kind && actor === by);
        it(`${phase} + ${kind} by the ${by} → ${expected ? expected[3] : "refused"}`, () => {
          const result = transition(phase, { kind, by });
          if (expected) assert.deepEqual(result, { ok: true, to: expected[3] });
          else assert.equal(result.ok, false);
        });
      }
    }
    for (const reason of END_REQUEST_REASONS) {
      for (const by of ROLES) {
        const allowed = ENDS.some(([r, actor, phases]) => r === reason && actor === by && phases.includes(phase));
        it(`${phase} + end (${reason}) by the ${by} → ${allowed ? "ended" : "refused"}`, () => {
          const result = transition(phase, { kind: "end", by, reason });
          if (allowed) assert.deepEqual(result, { ok: true, to: "ended" });
          else assert.equal(result.ok, false);
        });
      }
    }
  }

  it("explains refusals in sentences that name who and what", () => {
    const cases: Array<[CallPhase, SessionEvent, ReturnType<typeof refusal>]> = [
      ["offered", { kind: "answer", by: "caller" }, refusal("answer-not-allowed", "only the callee may send the answer; it came from the caller.")],
      ["answered", { kind: "answer", by: "callee" }, refusal("answer-out-of-order", "the answer is accepted only while the call is offered; it is answered.")],
      ["offered", { kind: "connectivity", by: "caller" }, refusal("connectivity-out-of-order", "the connectivity is accepted only while the call is answered; it is offered.")],
      ["offered", { kind: "end", by: "caller", reason: "reject" }, refusal("end-not-allowed", 'the caller may not end a call with reason "reject" (only the callee may).')],
      ["connected", { kind: "end", by: "caller", reason: "cancel" }, refusal("end-not-allowed", 'reason "cancel" does not apply to a call that is connected (only to offered, answered).')],
    ];
    for (const [phase, event, expected] of cases) assert.deepEqual(transition(phase, event), expected);
  });
});

describe("reachedPhase", () => {
  it("reads the phase from the participants' fields: null and absent both mean not yet", () => {
    assert.equal(reachedPhase({}), "offered");
    assert.equal(reachedPhase({ answer: null, connectivity: null }), "offered");
    assert.equal(reachedPhase({ answer: { type: "answer" } }), "answered");
    assert.equal(reachedPhase({ answer: { type: "answer" }, connectivity: { by: "caller" } }), "connected");
  });

  it("orders statuses as the state machine goes", () => {
    assert.deepEqual(
      (["pending", "offered", "answered", "connected", "ended"] as const).map(statusRank),
      [0, 1, 2, 3, 4],
    );
  });
});

function refusal(code: string, message: string) {
  return { ok: false as const, code, message };
}
