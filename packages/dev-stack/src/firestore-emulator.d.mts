/**
 * The environment that lets firebase-tools start the Firestore emulator here (`{ env }`,
 * possibly empty), or the reason it cannot (`{ reason }`).
 */
export declare function firestoreEmulatorEnv(): { env: Record<string, string>; reason?: undefined } | { env?: undefined; reason: string };
