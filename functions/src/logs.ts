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
