// What a `permission-denied` meant, from one read after it ("Every write is safe to repeat" and
// the refusals each step names): this side's own write, resent; a call that moved on; the
// limits; the sign-in; the device clock; else the app's field map is wrong.
import { EXPIRE_AFTER_MS, MAX_LIVE_CALLS, RING_SECONDS_DEFAULT, type Role } from "./constants";
import type { Entry } from "./entries";
import { oldestSlotRetryAt, tooManyCallsSentence, tooManyLiveCallsSentence } from "./limits";
import { callEnded } from "./ring";

/** What each refused write carried that tells its own repeat apart, and which document was read after it. */
export type RefusedWrite =
  | { write: "dial"; sent: { callerId: string; offerSdp: string } }
  | { write: "answer"; sent: { answerSdp: string } }
  | { write: "append"; sent: { entries: Entry[] } }
  | { write: "restart"; sent: { generation: number; sdp: string } }
  | { write: "restart-request"; sent: { generation: number } }
  | { write: "connectivity" | "end-request"; sent: Record<string, never> };

/** The facts of one refusal. */
export type RefusalFacts = RefusedWrite & {
  role: Role;
  /** The one read from the server: of the session (dial, answer, connectivity, end request) or of this side's candidates document. */
  read: { outcome: "found" | "missing" | "permission-denied"; data?: Record<string, unknown> };
  /** Dial, after the limits were read and the dial retried: the live entries whose calls have not ended, and the slots (epoch ms). */
  limits?: { live: Record<string, string>; recent: Record<string, number> };
  signInProvider?: string;
  deviceNowMillis: number;
  /** The server's clock, from a TURN credential: its username's expiry minus its ttl. */
  serverNowMillis?: number;
};

/** A refusal explained: why, what to do next, and the sentence to show. */
export interface Diagnosis {
  cause: string;
  then: "continue" | "retry-once" | "show";
  sentence?: string;
}

/** What the rules take as `expire_at`: server time + 1 h … + 2 days. */
const EXPIRE_MIN_MS = 3_600_000;
const EXPIRE_MAX_MS = 2 * 86_400_000;

const DOING: Record<RefusalFacts["write"], string> = {
  dial: "start the call",
  answer: "answer the call",
  append: "send ICE candidates",
  restart: "restart ICE",
  "restart-request": "ask for an ICE restart",
  connectivity: "report the connection",
  "end-request": "end the call",
};

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** "it was yours if" of the table under "Every write is safe to repeat". */
function ownRepeat(facts: RefusalFacts, data: Record<string, unknown>): boolean {
  switch (facts.write) {
    case "dial":
      return data.caller_id === facts.sent.callerId && field(data.offer, "sdp") === facts.sent.offerSdp;
    case "answer":
      return field(data.answer, "sdp") === facts.sent.answerSdp;
    case "append": {
      const held = Array.isArray(data.candidates) ? data.candidates : [];
      const same = (a: unknown, b: Entry) =>
        field(a, "candidate") === b.candidate && field(a, "sdpMid") === b.sdpMid && field(a, "sdpMLineIndex") === b.sdpMLineIndex && (field(a, "usernameFragment") ?? null) === (b.usernameFragment ?? null);
      return facts.sent.entries.every((entry) => held.some((other) => same(other, entry)));
    }
    case "restart":
      return data.generation === facts.sent.generation && field(data.description, "sdp") === facts.sent.sdp;
    case "restart-request":
      return typeof data.restart_request === "number" && data.restart_request >= facts.sent.generation;
    case "connectivity":
      return field(data.connectivity, "by") === facts.role;
    case "end-request":
      return field(data.end_request, "by") === facts.role;
  }
}

/** device − server, when it puts the `expire_at` written at create (device + 25 h) outside server + 1 h … + 2 days. */
function clockOff(facts: RefusalFacts): number | undefined {
  if (facts.serverNowMillis === undefined) return undefined;
  const offset = facts.deviceNowMillis - facts.serverNowMillis;
  const expiresIn = EXPIRE_AFTER_MS + offset;
  return expiresIn < EXPIRE_MIN_MS || expiresIn > EXPIRE_MAX_MS ? offset : undefined;
}

function show(cause: string, sentence: string): Diagnosis {
  return { cause, then: "show", sentence };
}

function clockSentence(offset: number): string {
  const hours = Math.round(Math.abs(offset) / 3_600_000);
  return `This device's clock is about ${hours} hours ${offset > 0 ? "ahead of" : "behind"} the server's, so Firestore refuses the expiry time this app writes; set the device to the correct time (automatic date and time) and try again.`;
}

function notAllowed(write: RefusalFacts["write"]): Diagnosis {
  return show(
    "not-allowed",
    `Firestore refused to ${DOING[write]}, and neither the call's state nor the limits explain it: compare the fields this app writes with the field tables in docs/signaling.md (a wrong name, a wrong type or an extra key is refused).`,
  );
}

function ended(write: RefusalFacts["write"]): Diagnosis {
  // An end request or a connectivity report on a call that has ended asks for nothing undone.
  if (write === "end-request" || write === "connectivity") return { cause: "call-ended", then: "continue" };
  if (write === "answer") return show("call-ended", "The call ended before it was answered: the caller hung up or gave up.");
  return show("call-ended", `The call had already ended, so Firestore refused to ${DOING[write]}.`);
}

/**
 * Why the rules refused a write: its own repeat; a dial's device clock, stale limits (retry
 * once), a full minute, 3 live calls, a guest account; a call that ended; an answer elsewhere or
 * after the deadline; else a write the contract does not allow.
 */
export function diagnoseRefusal(facts: RefusalFacts): Diagnosis {
  const data = facts.read.outcome === "found" ? facts.read.data : undefined;
  if (data && ownRepeat(facts, data)) return { cause: "own-repeat", then: "continue" };
  if (facts.write === "dial") {
    const offset = clockOff(facts);
    if (offset !== undefined) return show("device-clock-off", clockSentence(offset));
    if (!facts.limits) return { cause: "limits-stale", then: "retry-once" };
    const retryAt = oldestSlotRetryAt(facts.limits.recent, facts.deviceNowMillis);
    if (retryAt !== undefined) return show("too-many-calls-per-minute", tooManyCallsSentence(retryAt, facts.deviceNowMillis));
    if (Object.keys(facts.limits.live).length >= MAX_LIVE_CALLS) return show("too-many-live-calls", tooManyLiveCallsSentence());
    if (facts.signInProvider === "anonymous") return show("anonymous-callers-refused", "This app does not let guest (anonymous) accounts start calls; sign in with an account to call.");
    return notAllowed("dial");
  }
  if (!data) return ended(facts.write);
  if (facts.write !== "answer" && facts.write !== "connectivity" && facts.write !== "end-request") return notAllowed(facts.write);
  const now = facts.serverNowMillis ?? facts.deviceNowMillis;
  const expireAt = typeof data.expire_at === "number" ? data.expire_at : undefined;
  if (callEnded({ status: data.status, end_request: data.end_request, expire_at: expireAt }, now)) return ended(facts.write);
  if (facts.write !== "answer") return notAllowed(facts.write);
  if (isSet(data.answer)) return show("answered-elsewhere", "The call was answered on another device.");
  const ringSeconds = typeof data.ring_seconds === "number" ? data.ring_seconds : RING_SECONDS_DEFAULT;
  if (typeof data.created_at === "number" && now >= data.created_at + ringSeconds * 1_000) {
    return show("ring-deadline-passed", "The call stopped ringing before it was answered: its ring deadline had passed.");
  }
  const offset = clockOff(facts);
  if (offset !== undefined) return show("device-clock-off", clockSentence(offset));
  return notAllowed("answer");
}
