// The call state machine as data. Clients move a call along by writing their own fields (the
// answer, a connectivity report, an end request) and never wait for the server; the phase a
// call has reached is therefore read from those fields, and `status` is the server's record
// of it, which may lag behind. firestore.rules enforces the same table for client writes;
// the trigger and the sweep consult it before they change `status`.
import { SESSION_STATUSES, type EndRequestReason, type Role, type SessionStatus } from "@webrtc-lite/contract";

/** How far a live call has got, as its participants' fields show (`pending` is server-only). */
export type CallPhase = "offered" | "answered" | "connected";

/** The participant fields that decide a call's phase (null and absent mean "not yet"). */
export interface PhaseFields {
  answer?: unknown;
  connectivity?: unknown;
}

/** The phase the participants' fields prove: the offer is there from the create on. */
export function reachedPhase(fields: PhaseFields): CallPhase {
  if (fields.connectivity !== undefined && fields.connectivity !== null) return "connected";
  if (fields.answer !== undefined && fields.answer !== null) return "answered";
  return "offered";
}

/** Something that can happen to a session. */
export type SessionEvent =
  | { kind: "answer"; by: Role }
  | { kind: "connectivity"; by: Role }
  | { kind: "end"; by: Role; reason: EndRequestReason };

/** Who may end a call with which reason, in which phases. */
export const END_RULES: Readonly<Record<EndRequestReason, { by: readonly Role[]; in: readonly CallPhase[] }>> = Object.freeze({
  cancel: { by: ["caller"], in: ["offered", "answered"] },
  timeout: { by: ["caller"], in: ["offered"] },
  reject: { by: ["callee"], in: ["offered"] },
  busy: { by: ["callee"], in: ["offered"] },
  hangup: { by: ["caller", "callee"], in: ["offered", "answered", "connected"] },
  failed: { by: ["caller", "callee"], in: ["answered", "connected"] },
});

/** The participant-caused steps: event kind → who, the phase it applies in, the phase it leads to. */
export const STEP_RULES = Object.freeze({
  answer: { by: ["callee"] as readonly Role[], in: "offered" as const, to: "answered" as const },
  connectivity: { by: ["caller", "callee"] as readonly Role[], in: "answered" as const, to: "connected" as const },
});

/** The outcome of applying an event: the phase (or `ended`) it leads to, or a refusal with a code and a sentence. */
export type TransitionResult = { ok: true; to: CallPhase | "ended" } | { ok: false; code: string; message: string };

/** Applies `event` to a call in `phase`, following the table in docs/signaling.md. */
export function transition(phase: CallPhase, event: SessionEvent): TransitionResult {
  if (event.kind === "end") {
    const rule = END_RULES[event.reason];
    if (!rule.by.includes(event.by)) {
      return refuse("end-not-allowed", `the ${event.by} may not end a call with reason "${event.reason}" (only the ${rule.by.join(" or ")} may).`);
    }
    if (!rule.in.includes(phase)) {
      return refuse("end-not-allowed", `reason "${event.reason}" does not apply to a call that is ${phase} (only to ${rule.in.join(", ")}).`);
    }
    return { ok: true, to: "ended" };
  }
  const rule = STEP_RULES[event.kind];
  if (!rule.by.includes(event.by)) {
    return refuse(`${event.kind}-not-allowed`, `only the ${rule.by.join(" or ")} may send the ${event.kind}; it came from the ${event.by}.`);
  }
  if (phase !== rule.in) {
    return refuse(`${event.kind}-out-of-order`, `the ${event.kind} is accepted only while the call is ${rule.in}; it is ${phase}.`);
  }
  return { ok: true, to: rule.to };
}

/** Where a status stands in the order pending → offered → answered → connected → ended. */
export function statusRank(status: SessionStatus): number {
  return SESSION_STATUSES.indexOf(status);
}

function refuse(code: string, message: string): TransitionResult {
  return { ok: false, code, message };
}
