import { logger } from "firebase-functions/logger";

// One function per log event: a constant message plus structured fields. No secret, ever.

/** The TURN configuration cannot be used; every call fails until an operator fixes it. */
export function logTurnConfigUnusable(problems: readonly string[]): void {
  logger.error("turn configuration unusable", { problems });
}

/** A caller was refused before anything was minted. */
export function logCredentialRequestRefused(code: string, uid: string | undefined, reason: string): void {
  logger.warn("turn credential request refused", { code, uid, reason });
}

/** Something unforeseen went wrong; the caller sees only `internal`. */
export function logUnexpectedError(operation: string, error: unknown): void {
  logger.error("unexpected error", {
    operation,
    error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
  });
}

/**
 * The trigger or the sweep moved a session to a new state (one batch: session update, candidate
 * writes/deletes). `deleted`: the sweep found a live session past its `expire_at` and deleted it
 * with everything under it instead of writing its end (`writes` 0, `deletes` every document).
 */
export function logSessionTransition(
  sessionId: string,
  details: { by: "trigger" | "sweep"; event: string; from: string; to: string; writes: number; deletes: number; deleted?: true },
): void {
  logger.info("session transition", { sessionId, ...details });
}

/** A participant's write did not fit the state machine; the server removed it and recorded why. */
export function logSessionRefusal(sessionId: string, details: { status: string; code: string; reason: string; removed: string[] }): void {
  logger.warn("session write refused", { sessionId, ...details });
}

/** The session changed after the snapshot a decision was based on; the newer write's event takes over. */
export function logSessionSuperseded(sessionId: string, by: "trigger" | "sweep"): void {
  logger.info("session write superseded", { sessionId, by });
}

/**
 * One sweep run: stale calls ended and expired sessions deleted; `remaining` what its queries
 * still held when its time budget ran out (0 when it got through them), for an alert on a
 * backlog that grows; its time against its budget, in milliseconds.
 */
export function logSweepFinished(
  report: { recorded: number; ended: number; superseded: number; deleted: number; deletedLive: number; remaining: number },
  time: { elapsedMillis: number; budgetMillis: number },
): void {
  logger.info("session sweep finished", { ...report, ...time });
}

/** A timeout param is out of range; its default is used until an operator fixes it. */
export function logTimeoutsMisconfigured(problems: readonly string[]): void {
  logger.error("session timeouts misconfigured", { problems });
}
