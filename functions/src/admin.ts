import type { Firestore } from "firebase-admin/firestore";

/** The name firebase-admin gives the app `initializeApp()` creates without a name. */
const DEFAULT_APP = "[DEFAULT]";

/**
 * The default app's Firestore, initialised on first use. Loading and initialising
 * firebase-admin inside handlers keeps it off the cold start of functions that never touch
 * Firestore (the `getTurnCredentials` callable).
 */
export async function adminFirestore(): Promise<Firestore> {
  const { getApps, initializeApp } = await import("firebase-admin/app");
  const { getFirestore } = await import("firebase-admin/firestore");
  // firebase-functions creates a named app of its own, so "no apps yet" is the wrong test.
  const app = getApps().find((candidate) => candidate.name === DEFAULT_APP) ?? initializeApp();
  return getFirestore(app);
}
