import type { Firestore } from "firebase-admin/firestore";

/**
 * The default app's Firestore, initialised on first use. Loading and initialising
 * firebase-admin inside handlers keeps it off the cold start of functions that never touch
 * Firestore (the `getTurnCredentials` callable).
 */
export async function adminFirestore(): Promise<Firestore> {
  const { getApps, initializeApp } = await import("firebase-admin/app");
  const { getFirestore } = await import("firebase-admin/firestore");
  if (getApps().length === 0) initializeApp();
  return getFirestore();
}
