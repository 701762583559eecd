// The caller's side of its limits document (the contract's sessions/limits): what it knows of
// the document, which of its calls are live here, and the one retry with fresh knowledge when
// the rules refuse a dial. The Firestore I/O is passed in, so that the web store, the test
// clients and the unit tests share this code.
import { CallLimitError, afterCallLimitsWrite, callHasEnded, callHasLapsed, explainRefusal, knownFromDocument, planCallLimits, unknownCallLimits, type CallLimitsDocument, type CallLimitsPlan, type EndedFields, type KnownCallLimits, type EndRequestReason } from "@webrtc-lite/contract";

/**
 * A call of this user that the dial's batch ends: one still live elsewhere to the same callee
 * (a redial replaces it), or one left ringing past its deadline whose entry the dial releases.
 */
export interface CallToEnd {
  sessionId: string;
  reason: Extract<EndRequestReason, "cancel" | "hangup" | "timeout">;
}

/** The reads and the one write a dial needs. */
export interface CallLimitsIo {
  /** Commits the dial batch: the session, the caller's candidates, the limits write of `plan`, and an end request for each of `ends`. */
  commit(plan: CallLimitsPlan, ends: readonly CallToEnd[]): Promise<void>;
  /** This user's limits document, `undefined` when it does not exist. */
  readLimits(): Promise<CallLimitsDocument | undefined>;
  /** One of this user's sessions, `undefined` when it is gone or no longer readable. */
  readSession(sessionId: string): Promise<EndedFields | undefined>;
}

function isPermissionDenied(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "permission-denied";
}

/**
 * Keeps what one signed-in caller knows of its limits document. A dial first goes out on that
 * knowledge alone (no read on the call path); only when the rules refuse it does the tracker
 * read the document and the sessions it names, and dial once more. Throws `CallLimitError`
 * when a limit, not stale knowledge, stands in the way.
 */
export class CallLimitsTracker {
  private known: KnownCallLimits = unknownCallLimits();
  private readonly liveHere = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Dials `call` through `io`. */
  async place(call: { sessionId: string; calleeId: string }, io: CallLimitsIo): Promise<void> {
    const plan = planCallLimits(this.known, call, this.liveHere);
    try {
      await io.commit(plan, []);
    } catch (error) {
      if (!isPermissionDenied(error)) throw error;
      await this.placeWithFreshKnowledge(call, io);
      return;
    }
    this.committed(plan);
  }

  /** A call placed here has ended (either side ended it, or it failed): its entry may be released. */
  ended(sessionId: string): void {
    this.liveHere.delete(sessionId);
  }

  private async placeWithFreshKnowledge(call: { sessionId: string; calleeId: string }, io: CallLimitsIo): Promise<void> {
    this.known = knownFromDocument(await io.readLimits());
    const now = this.now();
    const elsewhere = Object.values(this.known.live).filter((sessionId) => !this.liveHere.has(sessionId));
    const sessions = new Map(await Promise.all(elsewhere.map(async (sessionId) => [sessionId, await io.readSession(sessionId)] as const)));
    const lapsed = new Set(elsewhere.filter((sessionId) => callHasLapsed(sessions.get(sessionId), now)));
    const stillLive = new Set(elsewhere.filter((sessionId) => !callHasEnded(sessions.get(sessionId), now) && !lapsed.has(sessionId)));
    const ends: CallToEnd[] = [];
    // Calling someone again replaces a call to them that is still live on another device or
    // was left behind by a crash: this batch ends it, so the rules can let the new one in.
    const previous = this.known.live[call.calleeId];
    if (previous !== undefined && (stillLive.has(previous) || lapsed.has(previous))) {
      const answered = sessions.get(previous)?.answer;
      ends.push({ sessionId: previous, reason: lapsed.has(previous) ? "timeout" : answered === undefined || answered === null ? "cancel" : "hangup" });
      stillLive.delete(previous);
    }
    const plan = planCallLimits(this.known, call, new Set([...this.liveHere, ...stillLive]));
    // A released entry whose call was left ringing past its deadline counts until it is ended.
    for (const callee of plan.released) {
      const sessionId = this.known.live[callee];
      if (lapsed.has(sessionId)) ends.push({ sessionId, reason: "timeout" });
    }
    try {
      await io.commit(plan, ends);
    } catch (error) {
      if (isPermissionDenied(error)) throw explainRefusal(this.known, this.now()) ?? error;
      throw error;
    }
    this.committed(plan);
  }

  private committed(plan: CallLimitsPlan): void {
    this.known = afterCallLimitsWrite(this.known, plan, this.now());
    this.liveHere.add(plan.sessionId);
  }
}

export { CallLimitError };
