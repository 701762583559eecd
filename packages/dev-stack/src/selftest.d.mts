/** The folder firebase.json's `hosting.public` names, relative to the repository root. */
export declare const SELFTEST_PUBLIC: string;
/** Bundles the self-test pages (index.html, call.html) into `outDir` (default SELFTEST_PUBLIC); returns the absolute folder. */
export declare function buildSelfTest(options?: { outDir?: string }): Promise<string>;
/** Writes `emulators.json` beside the pages so that they connect to the local emulators on these ports. */
export declare function writeSelfTestEmulators(
  outDir: string,
  ports: { auth: number; functions: number; firestore?: number; host?: string },
): Promise<void>;
