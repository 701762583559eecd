/**
 * The environment that lets firebase-tools start the Firestore emulator here (`{ env }`,
 * possibly empty), or the reason it cannot (`{ reason }`); `warning` says when the emulator
 * runs without the agent that keeps its Listen streams whole.
 */
export declare function firestoreEmulatorEnv(): { env: Record<string, string>; reason?: undefined; warning?: string } | { env?: undefined; reason: string; warning?: undefined };
