import { logger } from "firebase-functions/logger";
import type { PushKind, PushPlatform } from "@webrtc-lite/contract";

// One function per log event: a constant message plus structured fields. A device token, a
// provider token and the APNs key never appear: a target is named by its owner and slot.

/** Where one push went: the session, the kind, and the target by owner, slot and platform. */
export interface PushRecipient {
  sessionId: string;
  kind: PushKind;
  calleeId: string;
  targetId: string;
  platform: PushPlatform;
}

/**
 * The platform accepted a push. `millisSinceWrite`: from the session write that caused it
 * (server time) to the platform's answer; `coldStart`: the first event this instance handled.
 */
export function logPushSent(recipient: PushRecipient, timing: { millisSinceWrite: number | null; coldStart: boolean }): void {
  logger.info("push sent", { ...recipient, ...timing });
}

/** The platform refused a push for a reason other than a dead token (its code, never the token). */
export function logPushFailed(recipient: PushRecipient, details: { reason: string; retryable: boolean; attempts: number }): void {
  logger.warn("push failed", { ...recipient, ...details });
}

/** The platform said the token is dead; the target was deleted (or had changed meanwhile, and was kept). */
export function logPushTargetDead(recipient: PushRecipient, details: { reason: string; deleted: boolean }): void {
  logger.info("push target dead", { ...recipient, ...details });
}

/** A target was passed over: its platform is not configured (APNs), or its app is not one the operator listed. */
export function logPushTargetSkipped(recipient: PushRecipient, why: string): void {
  logger.warn("push target skipped", { ...recipient, why });
}

/** No push went out for this event, and why (no targets, already rung, the call no longer rings…). */
export function logPushNotSent(sessionId: string, kind: PushKind, why: string): void {
  logger.info("push not sent", { sessionId, kind, why });
}
