import { initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, type Auth } from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, type Functions } from "firebase/functions";
import { FUNCTIONS_REGION } from "@webrtc-lite/client";
import { parseEmulatorAddresses, parseFirebaseConfig, type EmulatorAddresses } from "./config";

/** The Firebase services both pages use, and where the emulators are on a local run. */
export interface PageFirebase {
  app: FirebaseApp;
  auth: Auth;
  functions: Functions;
  /** From `emulators.json`; `undefined` when the page talks to the deployed project. */
  emulators: EmulatorAddresses | undefined;
}

/**
 * Initializes Firebase from Hosting's `/__/firebase/init.json`, and connects Auth and Functions
 * to the emulators that `emulators.json` beside the page names (written for local runs only).
 * Firestore is left to the page that needs it, so the self-test does not load its SDK.
 */
export async function connectPageFirebase(): Promise<PageFirebase> {
  const initJson: unknown = await fetch("/__/firebase/init.json").then(
    (response) => (response.ok ? response.json() : undefined),
    () => undefined,
  );
  const app = initializeApp(parseFirebaseConfig(initJson));
  const auth = getAuth(app);
  const functions = getFunctions(app, FUNCTIONS_REGION);
  const json: unknown = await fetch("emulators.json").then((response) => (response.ok ? response.json() : undefined));
  const emulators = json === undefined ? undefined : parseEmulatorAddresses(json);
  if (emulators) {
    connectAuthEmulator(auth, `http://${emulators.auth.host}:${emulators.auth.port}`, { disableWarnings: true });
    connectFunctionsEmulator(functions, emulators.functions.host, emulators.functions.port);
  }
  return { app, auth, functions, emulators };
}
