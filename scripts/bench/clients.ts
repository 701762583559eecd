// Signed-in Firebase web SDK clients on the emulators, for any project id (the bench's bare
// baseline runs in a project of its own, with allow-all rules).
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore, terminate, type Firestore } from "firebase/firestore";

/** One signed-in user with a Firestore client of its own (its own app: its own Listen stream). */
export interface BenchClient {
  uid: string;
  db: Firestore;
  close(): Promise<void>;
}

/** Signs a new anonymous user in on the Auth emulator and connects a Firestore client for `projectId`. */
export async function signInClient(ports: { auth: number; firestore: number }, projectId: string): Promise<BenchClient> {
  const app = initializeApp({ projectId, apiKey: "fake-api-key" }, `bench-${randomUUID()}`);
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://127.0.0.1:${ports.auth}`, { disableWarnings: true });
  const db = getFirestore(app);
  connectFirestoreEmulator(db, "127.0.0.1", ports.firestore);
  const { user } = await signInAnonymously(auth);
  return {
    uid: user.uid,
    db,
    async close() {
      await terminate(db);
      await deleteApp(app);
    },
  };
}
