// The call state machine as data: which event moves which state where, and which participant
// may cause it. firestore.rules enforces the same table for client writes; the trigger and
// the sweep consult it before they change `status`.
import type { EndRequestReason, LiveStatus, Role, SessionStatus } from "./model";

/** Something that can happen to a session. */
export type SessionEvent =
  | { kind: "offer"; by: Role }
  | { kind: "answer"; by: Role }
  | { kind: "connectivity"; by: Role }
  | { kind: "end"; by: Role; reason: EndRequestReason }
  | { kind: "timeout" };

/** Who may end a call with which reason, and from which states. */
export const END_RULES: Readonly<Record<EndRequestReason, { by: readonly Role[]; from: readonly LiveStatus[] }>> = Object.freeze({
  cancel: { by: ["caller"], from: ["pending", "offered", "answered"] },
  timeout: { by: ["caller"], from: ["pending", "offered"] },
  reject: { by: ["callee"], from: ["offered"] },
  busy: { by: ["callee"], from: ["offered"] },
  hangup: { by: ["caller", "callee"], from: ["offered", "answered", "connected"] },
  failed: { by: ["caller", "callee"], from: ["answered", "connected"] },
});

/** The participant-caused steps of the happy path: event kind → who, from, to. */
export const STEP_RULES = Object.freeze({
  offer: { by: ["caller"] as readonly Role[], from: "pending" as const, to: "offered" as const },
  answer: { by: ["callee"] as readonly Role[], from: "offered" as const, to: "answered" as const },
  connectivity: { by: ["caller", "callee"] as readonly Role[], from: "answered" as const, to: "connected" as const },
});

/** The outcome of applying an event: the next state, or a refusal with a code and a sentence. */
export type TransitionResult =
  | { ok: true; to: SessionStatus }
  | { ok: false; code: string; message: string };

/** Applies `event` to a session in `status`, following the table in DESIGN.md. */
export function transition(status: SessionStatus, event: SessionEvent): TransitionResult {
  if (status === "ended") {
    return refuse("session-ended", `the session has ended; the ${event.kind} changes nothing.`);
  }
  switch (event.kind) {
    case "timeout":
      return { ok: true, to: "ended" };
    case "end": {
      const rule = END_RULES[event.reason];
      if (!rule.by.includes(event.by)) {
        return refuse("end-not-allowed", `the ${event.by} may not end a call with reason "${event.reason}" (only the ${rule.by.join(" or ")} may).`);
      }
      if (!rule.from.includes(status)) {
        return refuse("end-not-allowed", `reason "${event.reason}" does not apply to a ${status} call (only to ${rule.from.join(", ")}).`);
      }
      return { ok: true, to: "ended" };
    }
    default: {
      const rule = STEP_RULES[event.kind];
      if (!rule.by.includes(event.by)) {
        return refuse(`${event.kind}-not-allowed`, `only the ${rule.by.join(" or ")} may send the ${event.kind}; it came from the ${event.by}.`);
      }
      if (status !== rule.from) {
        return refuse(`${event.kind}-out-of-order`, `the ${event.kind} is accepted only while the session is ${rule.from}; it is ${status}.`);
      }
      return { ok: true, to: rule.to };
    }
  }
}

function refuse(code: string, message: string): TransitionResult {
  return { ok: false, code, message };
}
