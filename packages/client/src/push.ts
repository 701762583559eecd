// Registers this device for ring pushes (docs/push.md): one document per device under
// `users/{uid}/push_targets/{slot}`, refreshed on every app start and whenever the platform
// hands out a new token, and removed on sign-out. The rules let only the signed-in user read
// or write its own targets; the slot ids bound how many one user may have.
import { collection, deleteDoc, doc, getDocs, limit, query, runTransaction, serverTimestamp, type Firestore } from "firebase/firestore";
import {
  MAX_PUSH_TARGETS,
  choosePushTargetSlot,
  describeIssues,
  pushPayloadSchema,
  pushTargetFields,
  pushTargetInputSchema,
  pushTargetPath,
  pushTargetsPath,
  type PushPayload,
  type PushTargetInput,
  type TimestampLike,
} from "@webrtc-lite/contract";

// Another device of the same user may take the chosen free slot between the listing and the
// transaction; the listing is then read again, at most this many times.
const SLOT_ATTEMPTS = 3;

interface ListedTarget {
  id: string;
  installation_id?: unknown;
  updated_at?: TimestampLike | null;
}

async function listTargets(db: Firestore, uid: string): Promise<ListedTarget[]> {
  const snapshot = await getDocs(query(collection(db, pushTargetsPath(uid)), limit(MAX_PUSH_TARGETS)));
  return snapshot.docs.map((target) => ({ id: target.id, installation_id: target.get("installation_id") as unknown, updated_at: target.get("updated_at") as TimestampLike | null }));
}

/**
 * Writes (or refreshes) this device's push target for the signed-in user `uid` and returns its
 * slot id. Call it on every start once the platform has a token, and again with each new
 * token. Throws a sentence when `target` is not valid (e.g. an iOS token that is not hex).
 */
export async function registerPushTarget(db: Firestore, uid: string, target: PushTargetInput): Promise<string> {
  const parsed = pushTargetInputSchema.safeParse(target);
  if (!parsed.success) throw new Error(`push target refused: ${describeIssues(parsed.error)}`);
  const input = parsed.data;
  for (let attempt = 1; ; attempt += 1) {
    const listed = await listTargets(db, uid);
    const slot = choosePushTargetSlot(listed, input.installation_id);
    const expected = listed.find((existing) => existing.id === slot)?.installation_id;
    const claimed = await runTransaction(db, async (transaction) => {
      const ref = doc(db, pushTargetPath(uid, slot));
      const current = await transaction.get(ref);
      // Taken meanwhile by another installation: choose again (an eviction of the stalest slot was expected to find it taken).
      if (current.exists() && current.get("installation_id") !== expected && current.get("installation_id") !== input.installation_id) return false;
      transaction.set(ref, pushTargetFields(input, serverTimestamp(), Date.now()));
      return true;
    });
    if (claimed) return slot;
    if (attempt >= SLOT_ATTEMPTS) throw new Error(`push target not registered: its slot was taken by another device ${SLOT_ATTEMPTS} times in a row`);
  }
}

/** Removes this installation's push target (on sign-out, or when the user turns incoming calls off). */
export async function unregisterPushTarget(db: Firestore, uid: string, installationId: string): Promise<void> {
  const own = (await listTargets(db, uid)).find((target) => target.installation_id === installationId);
  if (own) await deleteDoc(doc(db, pushTargetPath(uid, own.id)));
}

/**
 * What a push carries (FCM `data` in a service worker or `onMessage`), or `undefined` for a
 * push that is not one of ours. Ignore a ring for a `session_id` this app already shows: the
 * incoming-calls listener may have rung first.
 */
export function parsePushPayload(data: unknown): PushPayload | undefined {
  const parsed = pushPayloadSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}
