import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { PROJECT_ID } from "./emulators";

// firebase-admin lives in the functions codebase; the tests load that very copy so that its
// Firestore instances are the type the functions' handlers take.
const requireFromFunctions = createRequire(resolve(__dirname, "..", "..", "..", "functions", "package.json"));
type AdminApp = typeof import("../../../functions/node_modules/firebase-admin/lib/app/index");
type AdminFirestoreModule = typeof import("../../../functions/node_modules/firebase-admin/lib/firestore/index");
/** firebase-admin/firestore as the functions load it (Timestamp, FieldValue, types). */
export const adminFirestoreModule = requireFromFunctions("firebase-admin/firestore") as AdminFirestoreModule;
const adminApp = requireFromFunctions("firebase-admin/app") as AdminApp;
/** firebase-admin/app as the functions load it (initializeApp, cert, deleteApp). */
export const adminAppModule = adminApp;

/** The admin SDK's Firestore. */
export type AdminFirestore = import("../../../functions/node_modules/firebase-admin/lib/firestore/index").Firestore;
/** The admin SDK's document snapshot, as the functions' handlers take it. */
export type AdminDocumentSnapshot = import("../../../functions/node_modules/firebase-admin/lib/firestore/index").DocumentSnapshot;
/** The admin SDK's query-result document. */
export type AdminQueryDocumentSnapshot = import("../../../functions/node_modules/firebase-admin/lib/firestore/index").QueryDocumentSnapshot;
/** The admin SDK's query. */
export type AdminQuery = import("../../../functions/node_modules/firebase-admin/lib/firestore/index").Query;
/** The admin SDK's query result. */
export type AdminQuerySnapshot = import("../../../functions/node_modules/firebase-admin/lib/firestore/index").QuerySnapshot;
/** The admin SDK's document reference. */
export type AdminDocumentReference = import("../../../functions/node_modules/firebase-admin/lib/firestore/index").DocumentReference;
/** The admin SDK's write result. */
export type AdminWriteResult = import("../../../functions/node_modules/firebase-admin/lib/firestore/index").WriteResult;

/** An admin Firestore on the suite's emulator, and how to close it. */
export interface EmulatorAdmin {
  db: AdminFirestore;
  close(): Promise<void>;
}

/**
 * An admin Firestore talking to the suite's emulator. The Admin SDK finds the emulator through
 * FIRESTORE_EMULATOR_HOST; METADATA_SERVER_DETECTION=none keeps it from probing the metadata
 * address (the tests' network rule: loopback only).
 */
export function emulatorAdmin(firestorePort: number): EmulatorAdmin {
  process.env.FIRESTORE_EMULATOR_HOST = `127.0.0.1:${firestorePort}`;
  process.env.METADATA_SERVER_DETECTION = "none";
  process.env.GCLOUD_PROJECT = PROJECT_ID;
  const app = adminApp.initializeApp({ projectId: PROJECT_ID }, `admin-${randomUUID()}`);
  const db = adminFirestoreModule.getFirestore(app);
  return {
    db,
    async close() {
      await db.terminate();
      await adminApp.deleteApp(app);
    },
  };
}

/** One document to seed: its path and its fields. */
export interface SeedDocument {
  path: string;
  data: Record<string, unknown>;
}

/** Firestore's most writes in one batch. */
const MAX_BATCH_WRITES = 500;
/** Batches committed at once while seeding: enough to keep the emulator busy, few enough to keep its memory flat. */
const SEED_BATCHES_IN_FLIGHT = 4;

/**
 * Writes thousands of documents fast: batches of at most 500, four in flight, each group (a
 * session and the documents under it) inside one batch.
 */
export async function writeInBatches(db: AdminFirestore, groups: Iterable<readonly SeedDocument[]>): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  let batch = db.batch();
  let writes = 0;
  const commit = async (): Promise<void> => {
    const committing = batch.commit();
    inFlight.add(committing);
    void committing.finally(() => inFlight.delete(committing));
    batch = db.batch();
    writes = 0;
    if (inFlight.size >= SEED_BATCHES_IN_FLIGHT) await Promise.race(inFlight);
  };
  for (const group of groups) {
    if (writes + group.length > MAX_BATCH_WRITES) await commit();
    for (const { path, data } of group) batch.set(db.doc(path), data);
    writes += group.length;
  }
  if (writes > 0) await commit();
  await Promise.all(inFlight);
}
