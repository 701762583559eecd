// The Auth + Firestore emulators for a bench section, where the Firestore emulator can run.
import type { EmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { firestoreEmulatorEnv } from "@webrtc-lite/dev-stack/firestore-emulator";
import { startSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";

/** Starts the Auth + Firestore emulators, or prints why the section is skipped and returns undefined. */
export async function signalingStackOrSkip(): Promise<EmulatorStack | undefined> {
  const emulator = firestoreEmulatorEnv();
  if (!emulator.env) {
    console.log(`   SKIPPED: ${emulator.reason}, so the Firestore emulator cannot start`);
    return undefined;
  }
  Object.assign(process.env, emulator.env);
  return startSignalingStack(["auth", "firestore"]);
}
