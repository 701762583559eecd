// The caller's side of its limits document (the contract's sessions/limits): what it knows of
// the document, which of its calls are live here, and the one retry with fresh knowledge when
// the rules refuse a dial. The decisions are the contract's `planDial`; the Firestore I/O is
// passed in, so that the web store, the test clients and the unit tests share this code.
import {
  CallLimitError,
  afterCallLimitsWrite,
  callHasEnded,
  knownFromDocument,
  planDial,
  unknownCallLimits,
  type CallLimitsDocument,
  type CallLimitsPlan,
  type CallToEnd,
  type DialPlan,
  type DialPlanInput,
  type EndedFields,
  type KnownCallLimits,
  type LiveHereState,
} from "@webrtc-lite/contract";
import { CallError } from "./state.js";

export type { CallToEnd };

/** The reads and the one write a dial needs. */
export interface CallLimitsIo {
  /**
   * Commits the dial batch: the session, the caller's candidates, the limits write of `plan`,
   * and for each of `ends` an end request with the deletion of this caller's candidates
   * document of it. `fresh` is what the tracker knows after reading its limits document (on
   * the retry), for explaining a refusal.
   */
  commit(plan: CallLimitsPlan, ends: readonly CallToEnd[], fresh?: KnownCallLimits): Promise<void>;
  /** This user's limits document, `undefined` when it does not exist. */
  readLimits(): Promise<CallLimitsDocument | undefined>;
  /** One of this user's sessions, `undefined` when it is gone or no longer readable. */
  readSession(sessionId: string): Promise<EndedFields | undefined>;
}

/** A call placed on this device, as the dial of another call to the same callee sees it. */
export interface PlacedCall {
  /** Whether the callee's answer has been applied (the call is past ringing). */
  answered(): boolean;
  /** A redial's batch ended this call (the end request and this side's document are written): end it here, writing nothing more. */
  replaced(reason: "cancel" | "hangup"): void;
}

function isPermissionDenied(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "permission-denied";
}

/**
 * Keeps what one signed-in caller knows of its limits document. A dial first goes out on that
 * knowledge alone (no read on the call path), ending in its batch a call to the same callee
 * still live here; only when the rules refuse it does the tracker read the document and the
 * sessions it names, and dial once more. Throws `CallLimitError` when a limit stands in the
 * way, before anything is sent when the device knows it.
 */
export class CallLimitsTracker {
  private known: KnownCallLimits = unknownCallLimits();
  private readonly liveHere = new Map<string, PlacedCall>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Dials `call` through `io`; `placed` is the new call, which a later redial may end. */
  async place(call: { sessionId: string; calleeId: string }, io: CallLimitsIo, placed: PlacedCall): Promise<void> {
    let decision = this.decide({ known: this.known, liveHere: this.liveStates(), call, deviceNowMillis: this.now() });
    try {
      await io.commit(decision.plan, decision.ends);
    } catch (error) {
      // A CallError is a refusal the store has explained already (a device clock far off): no retry helps.
      if (!isPermissionDenied(error) || error instanceof CallError) throw error;
      decision = await this.placeWithFreshKnowledge(call, io);
    }
    this.known = afterCallLimitsWrite(this.known, decision.plan, this.now());
    this.liveHere.set(call.sessionId, placed);
    for (const end of decision.ends) {
      if (end.reason !== "timeout") this.liveHere.get(end.sessionId)?.replaced(end.reason);
    }
  }

  /** A call placed here has ended (either side ended it, or it failed): its entry may be released. */
  ended(sessionId: string): void {
    this.liveHere.delete(sessionId);
  }

  private liveStates(): Record<string, LiveHereState> {
    return Object.fromEntries([...this.liveHere].map(([sessionId, placed]) => [sessionId, placed.answered() ? "answered" : "ringing"]));
  }

  private decide(given: DialPlanInput): Extract<DialPlan, { kind: "batch" }> {
    const decision = planDial(given);
    if (decision.kind === "refuse") throw new CallLimitError(decision.reason, decision.sentence, decision.retryAtMillis);
    return decision;
  }

  private async placeWithFreshKnowledge(call: { sessionId: string; calleeId: string }, io: CallLimitsIo): Promise<Extract<DialPlan, { kind: "batch" }>> {
    const document = await io.readLimits();
    this.known = knownFromDocument(document);
    const liveHere = this.liveStates();
    const elsewhere = Object.values(this.known.live).filter((sessionId) => liveHere[sessionId] === undefined);
    const sessions = Object.fromEntries(await Promise.all(elsewhere.map(async (sessionId) => [sessionId, await io.readSession(sessionId)] as const)));
    const now = this.now();
    const decision = this.decide({ known: this.known, liveHere, call, deviceNowMillis: now, read: { limits: document ? this.known : undefined, sessions } });
    // What explains a second refusal: the entries whose calls have not ended, and the slots.
    const live = Object.fromEntries(Object.entries(this.known.live).filter(([, sessionId]) => liveHere[sessionId] !== undefined || !callHasEnded(sessions[sessionId], now)));
    await io.commit(decision.plan, decision.ends, { live, recent: this.known.recent });
    return decision;
  }
}

export { CallLimitError };
