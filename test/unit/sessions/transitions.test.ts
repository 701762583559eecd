import { strict as assert } from "node:assert";
import { END_REQUEST_REASONS, ROLES, SESSION_STATUSES, type EndRequestReason, type Role, type SessionStatus } from "../../../functions/src/sessions/model";
import { transition, type SessionEvent } from "../../../functions/src/sessions/transitions";

// The state machine of DESIGN.md written out independently of the module under test:
// [status, event, actor] → the state it leads to; every other combination is refused.
const STEPS: Array<[SessionStatus, "offer" | "answer" | "connectivity", Role, SessionStatus]> = [
  ["pending", "offer", "caller", "offered"],
  ["offered", "answer", "callee", "answered"],
  ["answered", "connectivity", "caller", "connected"],
  ["answered", "connectivity", "callee", "connected"],
];
const ENDS: Array<[EndRequestReason, Role, SessionStatus[]]> = [
  ["cancel", "caller", ["pending", "offered", "answered"]],
  ["timeout", "caller", ["pending", "offered"]],
  ["reject", "callee", ["offered"]],
  ["busy", "callee", ["offered"]],
  ["hangup", "caller", ["offered", "answered", "connected"]],
  ["hangup", "callee", ["offered", "answered", "connected"]],
  ["failed", "caller", ["answered", "connected"]],
  ["failed", "callee", ["answered", "connected"]],
];

describe("transition table", () => {
  for (const status of SESSION_STATUSES) {
    for (const kind of ["offer", "answer", "connectivity"] as const) {
      for (const by of ROLES) {
        const expected = STEPS.find(([from, event, actor]) => from === status && event === kind && actor === by);
        it(`${status} + ${kind} by the ${by} → ${expected ? expected[3] : "refused"}`, () => {
          const result = transition(status, { kind, by });
          if (expected) assert.deepEqual(result, { ok: true, to: expected[3] });
          else assert.equal(result.ok, false);
        });
      }
    }
    for (const reason of END_REQUEST_REASONS) {
      for (const by of ROLES) {
        const allowed = ENDS.some(([r, actor, from]) => r === reason && actor === by && from.includes(status));
        it(`${status} + end (${reason}) by the ${by} → ${allowed ? "ended" : "refused"}`, () => {
          const result = transition(status, { kind: "end", by, reason });
          if (allowed) assert.deepEqual(result, { ok: true, to: "ended" });
          else assert.equal(result.ok, false);
        });
      }
    }
    it(`${status} + timeout → ${status === "ended" ? "refused" : "ended"}`, () => {
      const result = transition(status, { kind: "timeout" });
      assert.deepEqual(result, status === "ended" ? refusal("session-ended", "the session has ended; the timeout changes nothing.") : { ok: true, to: "ended" });
    });
  }

  it("explains refusals in sentences that name who and what", () => {
    const cases: Array<[SessionStatus, SessionEvent, ReturnType<typeof refusal>]> = [
      ["offered", { kind: "answer", by: "caller" }, refusal("answer-not-allowed", "only the callee may send the answer; it came from the caller.")],
      ["pending", { kind: "answer", by: "callee" }, refusal("answer-out-of-order", "the answer is accepted only while the session is offered; it is pending.")],
      ["offered", { kind: "connectivity", by: "caller" }, refusal("connectivity-out-of-order", "the connectivity is accepted only while the session is answered; it is offered.")],
      ["offered", { kind: "offer", by: "callee" }, refusal("offer-not-allowed", "only the caller may send the offer; it came from the callee.")],
      ["offered", { kind: "end", by: "caller", reason: "reject" }, refusal("end-not-allowed", 'the caller may not end a call with reason "reject" (only the callee may).')],
      ["connected", { kind: "end", by: "caller", reason: "cancel" }, refusal("end-not-allowed", 'reason "cancel" does not apply to a connected call (only to pending, offered, answered).')],
      ["ended", { kind: "end", by: "callee", reason: "hangup" }, refusal("session-ended", "the session has ended; the end changes nothing.")],
    ];
    for (const [status, event, expected] of cases) assert.deepEqual(transition(status, event), expected);
  });
});

function refusal(code: string, message: string) {
  return { ok: false as const, code, message };
}
