// What the caller's limits add to the dial: the same dial batch (session with the offer and the
// caller's candidates document) through firestore.rules as shipped, with its limits write, and
// through the same rules with the limits check taken out, each in a project of its own on the
// same emulator, each seen by the callee's real incoming-calls query. Calls alternate between the two.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { collection, deleteField, doc, onSnapshot, serverTimestamp, updateDoc, writeBatch } from "firebase/firestore";
import { CALL_LIMITS_COLLECTION, callLimitsFields, candidatesCreateFields, candidatesPath, endRequestFields, sessionCreateFields, sessionPath } from "@webrtc-lite/contract";
import { incomingCallsQuery } from "@webrtc-lite/client";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";
import { arrival } from "./arrival";
import { loadRules } from "@webrtc-lite/dev-stack/project-rules";
import { signInClient, type BenchClient } from "./clients";
import { nowMs } from "./stats";

/** One sample of each kind of dial, in milliseconds from the batch's start to the incoming-calls query showing it. */
export interface LimitsCostSample {
  withLimits: number;
  withoutLimits: number;
}

/** The two projects' clients, their callees' incoming-calls queries attached. */
export interface LimitsCost {
  sample(): Promise<LimitsCostSample>;
  close(): Promise<void>;
}

interface Side {
  caller: BenchClient;
  callee: BenchClient;
  seen: Map<string, number>;
  events: ReturnType<typeof arrival>;
  stop: () => void;
}

/** Loads both rule sets and signs in a caller and a callee in each project. */
export async function startLimitsCost(ports: { auth: number; firestore: number }, timeoutMs: number, offerSdp: string): Promise<LimitsCost> {
  const shipped = readFileSync(join(REPO_ROOT, "firestore.rules"), "utf8");
  // The same calls per minute as CALL_LIMITS would refuse this bench's pace; the number of
  // slots does not change what the rules evaluate.
  const limited = shipped.replace(/(function callsPerMinute\(\) \{\s*return )\d+;/, "$1999;");
  const unlimited = shipped.replace("\n        && isCountedCreate(sessionId, request.resource.data.callee_id);", ";");
  if (limited === shipped || unlimited === shipped) throw new Error("firestore.rules no longer has the settings or the create check this bench edits");
  await loadRules(ports.firestore, "demo-bench-limits", limited);
  await loadRules(ports.firestore, "demo-bench-nolimits", unlimited);

  async function side(projectId: string): Promise<Side> {
    const caller = await signInClient(ports, projectId);
    const callee = await signInClient(ports, projectId);
    const seen = new Map<string, number>();
    const events = arrival();
    const attached = arrival();
    const stop = onSnapshot(incomingCallsQuery(callee.db, callee.uid), { includeMetadataChanges: true }, (snapshot) => {
      const at = nowMs();
      if (!snapshot.metadata.fromCache) attached.fire();
      for (const change of snapshot.docChanges()) if (change.type === "added" && !seen.has(change.doc.id)) seen.set(change.doc.id, at);
      events.fire();
    });
    await attached.until(() => true, timeoutMs, `${projectId}: the incoming-calls query's first snapshot`);
    return { caller, callee, seen, events, stop };
  }

  const withLimits = await side("demo-bench-limits");
  const withoutLimits = await side("demo-bench-nolimits");
  let n = 0;
  let previous: string | undefined;

  /** One dial in `s`; the call is cancelled afterwards (not timed), as a user would. */
  async function dial(s: Side, limits: boolean): Promise<number> {
    const session = doc(collection(s.caller.db, "webrtc_sessions"));
    const input = { caller_id: s.caller.uid, callee_id: s.callee.uid, offer: { type: "offer" as const, sdp: offerSdp } };
    const batch = writeBatch(s.caller.db);
    batch.set(session, sessionCreateFields(input, serverTimestamp(), Date.now()));
    batch.set(doc(s.caller.db, candidatesPath(session.id, "caller")), candidatesCreateFields(input, "caller", [], serverTimestamp(), Date.now()));
    if (limits) {
      // The steady state: this write replaces the entry of the caller's previous (ended) call to
      // this callee, so the rules read that session too.
      const plan = { slot: String(n % 999), sessionId: session.id, calleeId: s.callee.uid, released: [], ...(previous ? { replaces: previous } : {}) };
      batch.set(doc(s.caller.db, CALL_LIMITS_COLLECTION, s.caller.uid), callLimitsFields(plan, serverTimestamp(), deleteField()), { merge: true });
    }
    const started = nowMs();
    await batch.commit();
    const shown = await s.events.until(() => s.seen.get(session.id), timeoutMs, "the dial in the callee's incoming-calls query");
    await updateDoc(doc(s.caller.db, sessionPath(session.id)), endRequestFields("caller", "cancel", serverTimestamp()));
    if (limits) previous = session.id;
    return shown - started;
  }

  return {
    async sample() {
      n += 1;
      return { withLimits: await dial(withLimits, true), withoutLimits: await dial(withoutLimits, false) };
    },
    async close() {
      for (const s of [withLimits, withoutLimits]) {
        s.stop();
        await s.caller.close();
        await s.callee.close();
      }
    },
  };
}
