/** Something a test process must stop before it is gone: a process group, or the Firestore emulator's Java by its port. */
export type LeftoverAction = { group: number; firestorePort?: undefined } | { firestorePort: number; group?: undefined };

/** Runs every listed action now (the exit handlers' path) and empties the list. */
export declare function cleanUpRegistered(): void;

/** SIGKILLs the Firestore emulator's Java serving `port`, found by its command line (synchronous). */
export declare function killFirestoreEmulator(port: number): void;

/** Lists `action` for the reaper that outlives a crashed test process (started with the first one); the returned function takes it off the list. */
export declare function register(action: LeftoverAction): () => void;
