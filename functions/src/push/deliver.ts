// The push function's Firestore side and its sends. Each session has one delivery record,
// `push_deliveries/{sessionId}` (server-only; the rules let no client near it), that says
// which targets were rung. It is created in the transaction that reads the session, so:
//   - a redelivered create event finds it and sends nothing (at most one ring push per target);
//   - a participant's answer or end request that lands while the transaction runs is ordered
//     before or after it: before, and no ring push goes out; after, and its write's event
//     finds the record and sends "call over" to exactly the targets that were rung.
// The sends happen after the commit; a dead token's target is deleted only if it is still
// the document that was read (a device that refreshed its token meanwhile keeps its slot).
import { Timestamp, type DocumentReference, type DocumentSnapshot, type Firestore, type Transaction } from "firebase-admin/firestore";
import {
  MAX_PUSH_TARGETS,
  SESSIONS_COLLECTION,
  callOverPayload,
  pushTargetsPath,
  ringPayload,
  type CallOverReason,
  type PushKind,
  type PushPayload,
  type PushTarget,
  type Timeouts,
} from "@webrtc-lite/contract";
import { pushEventOf, ringingCall, usableTargets, type UsableTarget } from "./decide";
import { apnsOutcome, apnsRequest, fcmMessage, fcmOutcome, type ApnsRequest, type FcmMessage, type PushOutcome } from "./messages";
import type { ApnsResponse } from "./apns";
import { logPushFailed, logPushNotSent, logPushSent, logPushTargetDead, logPushTargetSkipped, type PushRecipient } from "./logs";

/** Server-only collection of one delivery record per session that rang someone's devices. */
export const PUSH_DELIVERIES_COLLECTION = "push_deliveries";

/** How long a delivery record outlives the ring deadline before the TTL policy may delete it, in seconds. */
export const DELIVERY_RECORD_SECONDS = 3_600;

/** Wait before the one retry of a throttled or failing APNs request, in milliseconds. */
export const APNS_RETRY_DELAY_MILLIS = 1_000;

/** How the function reaches the platforms; the trigger passes firebase-admin messaging and an ApnsClient, tests pass the same. */
export interface PushTransport {
  /** Sends FCM messages (firebase-admin `sendEach`); per message, firebase-admin's error code, or undefined when FCM accepted it. */
  sendFcm(messages: FcmMessage[]): Promise<Array<string | undefined>>;
  /** APNs with the bundle ids it may push to, or the reason iOS targets are skipped. */
  apns: { send(request: ApnsRequest): Promise<ApnsResponse>; bundleIds: readonly string[] } | { problem: string };
}

/** One write to a session, as the trigger received it. */
export interface SessionWriteEvent {
  sessionId: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/** What the function did for one event, per target (for tests and the log). */
export interface PushReport {
  kind: PushKind | "none";
  why?: string;
  outcomes: Array<{ targetId: string; outcome: PushOutcome | { result: "skipped"; reason: string } }>;
}

/** A target that was claimed, with the document it was read from (the precondition of its deletion). */
type ClaimedTarget = UsableTarget & { ref: DocumentReference; updateTime: Timestamp };
type IosTarget = Extract<PushTarget, { platform: "ios-voip" }>;

interface Claim {
  calleeId: string;
  callerId: string;
  deadlineMillis: number;
  targets: ClaimedTarget[];
}

/** How a run is stamped: `clock` for decisions and expiries; `coldStart` marks the first event an instance handles (for the log). */
export interface PushRunOptions {
  clock?: () => number;
  coldStart?: boolean;
}

/**
 * Handles one write to a session: on its create, rings the callee's devices; when it stops
 * ringing, tells the devices that were rung.
 */
export async function handleSessionPush(
  db: Firestore,
  transport: PushTransport,
  event: SessionWriteEvent,
  timeouts: Timeouts,
  { clock = Date.now, coldStart = false }: PushRunOptions = {},
): Promise<PushReport> {
  const pushEvent = pushEventOf(event.before, event.after);
  if (pushEvent.kind === "none") return { kind: "none", outcomes: [] };
  const deliveryRef = db.collection(PUSH_DELIVERIES_COLLECTION).doc(event.sessionId);
  const claim =
    pushEvent.kind === "ring"
      ? await db.runTransaction((tx) => claimRing(db, tx, deliveryRef, event.sessionId, timeouts, clock))
      : await db.runTransaction((tx) => claimCallOver(tx, deliveryRef, pushEvent.reason, clock));
  if ("skip" in claim) {
    logPushNotSent(event.sessionId, pushEvent.kind, claim.skip);
    return { kind: pushEvent.kind, why: claim.skip, outcomes: [] };
  }
  const payload: PushPayload =
    pushEvent.kind === "ring"
      ? ringPayload(event.sessionId, claim.callerId, claim.deadlineMillis)
      : callOverPayload(event.sessionId, claim.callerId, claim.deadlineMillis, pushEvent.reason);
  const writtenAt = writeTimeMillis(event.after, pushEvent.kind);
  return { kind: pushEvent.kind, outcomes: await sendAll(transport, event.sessionId, claim, payload, { writtenAt, clock, coldStart }) };
}

async function claimRing(
  db: Firestore,
  tx: Transaction,
  deliveryRef: DocumentReference,
  sessionId: string,
  timeouts: Timeouts,
  clock: () => number,
): Promise<Claim | { skip: string }> {
  const delivery = await tx.get(deliveryRef);
  if (delivery.exists) return { skip: "already rung (a redelivered event)" };
  const session = await tx.get(db.collection(SESSIONS_COLLECTION).doc(sessionId));
  const nowMillis = clock();
  const call = ringingCall(session.data(), nowMillis, timeouts);
  if ("skip" in call) return call;
  const documents = await tx.get(db.collection(pushTargetsPath(call.calleeId)).limit(MAX_PUSH_TARGETS));
  const byId = new Map(documents.docs.map((document) => [document.id, document]));
  const usable = usableTargets(documents.docs.map((document) => ({ id: document.id, data: document.data() })), nowMillis);
  if (usable.length === 0) return { skip: "the callee has no live push targets" };
  tx.create(deliveryRef, {
    caller_id: call.callerId,
    callee_id: call.calleeId,
    ring_deadline: Timestamp.fromMillis(call.deadlineMillis),
    rung: Object.fromEntries(usable.map(({ id, target }) => [id, target.platform])),
    over_reason: null,
    created_at: Timestamp.fromMillis(nowMillis),
    expire_at: Timestamp.fromMillis(call.deadlineMillis + DELIVERY_RECORD_SECONDS * 1_000),
  });
  return { ...call, targets: usable.map((target) => withSnapshot(target, byId.get(target.id)!)) };
}

async function claimCallOver(tx: Transaction, deliveryRef: DocumentReference, reason: CallOverReason, clock: () => number): Promise<Claim | { skip: string }> {
  const delivery = await tx.get(deliveryRef);
  if (!delivery.exists) return { skip: "no ring push went out for this session" };
  if (delivery.get("over_reason") !== null) return { skip: "call over already sent (a redelivered event)" };
  const calleeId = String(delivery.get("callee_id"));
  const rung = Object.keys((delivery.get("rung") as Record<string, string> | undefined) ?? {});
  const documents = rung.length > 0 ? await tx.getAll(...rung.map((id) => deliveryRef.firestore.doc(`${pushTargetsPath(calleeId)}/${id}`))) : [];
  tx.update(deliveryRef, { over_reason: reason, over_at: Timestamp.fromMillis(clock()) });
  const existing = documents.filter((document) => document.exists);
  const byId = new Map(existing.map((document) => [document.id, document]));
  // A target whose TTL passed since the ring still gets "call over": it may be ringing.
  const usable = usableTargets(existing.map((document) => ({ id: document.id, data: document.data()! })), 0);
  return {
    calleeId,
    callerId: String(delivery.get("caller_id")),
    deadlineMillis: (delivery.get("ring_deadline") as Timestamp).toMillis(),
    targets: usable.map((target) => withSnapshot(target, byId.get(target.id)!)),
  };
}

function withSnapshot(target: UsableTarget, snapshot: DocumentSnapshot): ClaimedTarget {
  return { ...target, ref: snapshot.ref, updateTime: snapshot.updateTime! };
}

// The server time of the write that caused the push: the create for a ring, the last update otherwise.
function writeTimeMillis(after: Record<string, unknown> | undefined, kind: PushKind): number | undefined {
  const stamp = after?.[kind === "ring" ? "created_at" : "updated_at"];
  return stamp instanceof Timestamp ? stamp.toMillis() : undefined;
}

async function sendAll(
  transport: PushTransport,
  sessionId: string,
  claim: Claim,
  payload: PushPayload,
  { writtenAt, clock, coldStart }: { writtenAt?: number; clock: () => number; coldStart: boolean },
): Promise<PushReport["outcomes"]> {
  const nowMillis = clock();
  const recipient = (target: UsableTarget): PushRecipient => ({ sessionId, kind: payload.kind, calleeId: claim.calleeId, targetId: target.id, platform: target.target.platform });
  const fcmTargets = claim.targets.filter(({ target }) => target.platform !== "ios-voip");
  const iosTargets = claim.targets.filter((usable): usable is ClaimedTarget & { target: IosTarget } => usable.target.platform === "ios-voip");

  const fcmSends = async () => {
    if (fcmTargets.length === 0) return [];
    const codes = await transport.sendFcm(fcmTargets.map(({ target }) => fcmMessage(target, payload, claim.deadlineMillis, nowMillis)));
    return fcmTargets.map((target, index) => ({ target, outcome: fcmOutcome(codes[index]), attempts: 1 }));
  };
  // Read once: the trigger resolves the APNs settings (and its client) on this access.
  const apns = iosTargets.length > 0 ? transport.apns : undefined;
  const apnsSends = iosTargets.map(async (target) => {
    if (!apns || "problem" in apns) return { target, skipped: apns?.problem ?? "APNs is not configured" };
    if (!apns.bundleIds.includes(target.target.app_id)) return { target, skipped: "its bundle id is not in APNS_BUNDLE_IDS" };
    const request = apnsRequest(target.target, payload, claim.deadlineMillis, nowMillis);
    let response = await apns.send(request);
    let outcome = apnsOutcome(response.status, response.reason);
    let attempts = 1;
    // One more try for a throttled or failing APNs, if the call still rings by then.
    if (outcome.result === "failed" && outcome.retryable && payload.kind === "ring" && clock() + APNS_RETRY_DELAY_MILLIS < claim.deadlineMillis) {
      await new Promise((resolve) => setTimeout(resolve, APNS_RETRY_DELAY_MILLIS));
      response = await apns.send(apnsRequest(target.target, payload, claim.deadlineMillis, clock()));
      outcome = apnsOutcome(response.status, response.reason);
      attempts = 2;
    }
    return { target, outcome, attempts };
  });

  const results = [...(await fcmSends()), ...(await Promise.all(apnsSends))];
  const report: PushReport["outcomes"] = [];
  await Promise.all(
    results.map(async (result) => {
      if ("skipped" in result) {
        logPushTargetSkipped(recipient(result.target), result.skipped);
        report.push({ targetId: result.target.id, outcome: { result: "skipped", reason: result.skipped } });
        return;
      }
      const { target, outcome, attempts } = result;
      report.push({ targetId: target.id, outcome });
      if (outcome.result === "sent") logPushSent(recipient(target), { millisSinceWrite: writtenAt === undefined ? null : clock() - writtenAt, coldStart });
      else if (outcome.result === "failed") logPushFailed(recipient(target), { reason: outcome.reason, retryable: outcome.retryable, attempts });
      else logPushTargetDead(recipient(target), { reason: outcome.reason, deleted: await deleteIfUnchanged(target) });
    }),
  );
  return report.sort((a, b) => a.targetId.localeCompare(b.targetId));
}

// gRPC FAILED_PRECONDITION: the target changed (a new token) after it was read.
const FAILED_PRECONDITION = 9;

async function deleteIfUnchanged(target: ClaimedTarget): Promise<boolean> {
  try {
    await target.ref.delete({ lastUpdateTime: target.updateTime });
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === FAILED_PRECONDITION) return false;
    throw error;
  }
}
