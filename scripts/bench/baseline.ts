// The bare baseline of the call-setup section: one client writes a document, another client's
// listener sees it, in a project of its own whose rules allow everything, on the same emulator.
import { collection, deleteDoc, doc, onSnapshot, query, setDoc, where } from "firebase/firestore";
import { loadRules } from "@webrtc-lite/dev-stack/project-rules";
import { signInClient, type BenchClient } from "./clients";
import { arrival } from "./arrival";
import { nowMs } from "./stats";

/** The project id the baseline writes in; the emulator keeps its rules apart from the app's. */
export const BASELINE_PROJECT_ID = "demo-bench-baseline";
const ALLOW_ALL = "rules_version = '2';\nservice cloud.firestore {\n  match /databases/{database}/documents {\n    match /{document=**} {\n      allow read, write: if request.auth != null;\n    }\n  }\n}\n";

/** One baseline sample, in milliseconds. */
export interface BaselineSample {
  /** `setDoc` of a three-field document starts → the reader's long-lived query listener (the shape of the callee's incoming-calls query) shows it. */
  createToQuery: number;
  /** The same with the document carrying an offer of the size the caller's create carries. */
  createOfferToQuery: number;
  /** `deleteDoc` starts → the reader's document listener (the shape of L2/L3) sees it gone. */
  deleteToDocument: number;
}

/** Two signed-in clients in the baseline project, the reader's query listener attached. */
export interface Baseline {
  sample(): Promise<BaselineSample>;
  close(): Promise<void>;
}

/** Loads allow-all rules for the baseline project and signs in its writer and reader. */
export async function startBaseline(ports: { auth: number; firestore: number }, timeoutMs: number, offerSdp: string): Promise<Baseline> {
  await loadRules(ports.firestore, BASELINE_PROJECT_ID, ALLOW_ALL);
  const writer: BenchClient = await signInClient(ports, BASELINE_PROJECT_ID);
  const reader: BenchClient = await signInClient(ports, BASELINE_PROJECT_ID);
  const inbox = collection(reader.db, "baseline");
  const seen = new Map<string, number>();
  const queryEvents = arrival();
  const attached = arrival();
  const stopQuery = onSnapshot(query(inbox, where("to", "==", reader.uid)), { includeMetadataChanges: true }, (snapshot) => {
    const at = nowMs();
    if (!snapshot.metadata.fromCache) attached.fire();
    for (const change of snapshot.docChanges()) if (change.type === "added" && !seen.has(change.doc.id)) seen.set(change.doc.id, at);
    queryEvents.fire();
  });
  await attached.until(() => true, timeoutMs, "the baseline query's first snapshot");
  let n = 0;

  return {
    async sample() {
      n += 1;
      const withOffer = doc(collection(writer.db, "baseline"));
      const createdWithOffer = nowMs();
      await setDoc(withOffer, { to: reader.uid, from: writer.uid, n, offer: { type: "offer", sdp: offerSdp } });
      const shownWithOffer = await queryEvents.until(() => seen.get(withOffer.id), timeoutMs, "the baseline document with an offer in the reader's query");
      const target = doc(collection(writer.db, "baseline"));
      const created = nowMs();
      await setDoc(target, { to: reader.uid, from: writer.uid, n });
      const shown = await queryEvents.until(() => seen.get(target.id), timeoutMs, "the baseline document in the reader's query");

      const gone = arrival();
      let goneAt: number | undefined;
      let live = false;
      // Metadata changes too: the reader's cache already holds the document, so the first snapshot is
      // from the cache and only a metadata change says the server has the target in sync.
      const stopDocument = onSnapshot(doc(reader.db, "baseline", target.id), { includeMetadataChanges: true }, (snapshot) => {
        if (snapshot.metadata.fromCache) return;
        if (snapshot.exists()) live = true;
        else if (live) goneAt ??= nowMs();
        gone.fire();
      });
      try {
        await gone.until(() => live || undefined, timeoutMs, "the baseline document listener's first snapshot");
        const deleted = nowMs();
        await deleteDoc(target);
        const seenGone = await gone.until(() => goneAt, timeoutMs, "the baseline document's deletion");
        return { createToQuery: shown - created, createOfferToQuery: shownWithOffer - createdWithOffer, deleteToDocument: seenGone - deleted };
      } finally {
        stopDocument();
      }
    },
    async close() {
      stopQuery();
      await writer.close();
      await reader.close();
    },
  };
}
