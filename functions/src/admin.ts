import type { App } from "firebase-admin/app";
import type { Firestore } from "firebase-admin/firestore";

/** The name firebase-admin gives the app `initializeApp()` creates without a name. */
const DEFAULT_APP = "[DEFAULT]";

/**
 * The default firebase-admin app, initialised on first use. Loading firebase-admin inside
 * handlers keeps it off the cold start of functions that never need it (the
 * `getTurnCredentials` callable).
 */
export async function adminApp(): Promise<App> {
  const { getApps, initializeApp } = await import("firebase-admin/app");
  // firebase-functions creates a named app of its own, so "no apps yet" is the wrong test.
  return getApps().find((candidate) => candidate.name === DEFAULT_APP) ?? initializeApp();
}

/** The default app's Firestore, initialised on first use. */
export async function adminFirestore(): Promise<Firestore> {
  const { getFirestore } = await import("firebase-admin/firestore");
  return getFirestore(await adminApp());
}
