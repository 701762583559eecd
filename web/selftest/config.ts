import { z } from "zod";

const firebaseConfigSchema = z.object({
  apiKey: z.string().min(1),
  projectId: z.string().min(1),
  authDomain: z.string().min(1).optional(),
  appId: z.string().min(1).optional(),
});

const emulatorAddress = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) });
const emulatorsSchema = z.object({ auth: emulatorAddress, functions: emulatorAddress, firestore: emulatorAddress.optional() });

/** The Firebase web config Hosting serves at `/__/firebase/init.json`. */
export type FirebaseWebConfig = z.infer<typeof firebaseConfigSchema>;
/** Where the local emulators listen, from `emulators.json` beside the page (written only for local runs). */
export type EmulatorAddresses = z.infer<typeof emulatorsSchema>;

/** Checks `/__/firebase/init.json`, or says in a sentence why the page cannot start. */
export function parseFirebaseConfig(json: unknown): FirebaseWebConfig {
  const parsed = firebaseConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      "This page needs the Firebase web config that Firebase Hosting serves at /__/firebase/init.json, and it is missing or incomplete: serve the page with Firebase Hosting or its emulator.",
    );
  }
  return parsed.data;
}

/** Checks `emulators.json`, or says in a sentence what is wrong with it. */
export function parseEmulatorAddresses(json: unknown): EmulatorAddresses {
  const parsed = emulatorsSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      'emulators.json beside this page is not usable: it must be {"auth": {"host", "port"}, "functions": {"host", "port"}} with an optional "firestore" of the same shape. Rebuild the page with npm run build:web.',
    );
  }
  return parsed.data;
}
