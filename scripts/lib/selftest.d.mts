/** The folder firebase.json's `hosting.public` names, relative to the repository root. */
export declare const SELFTEST_PUBLIC: string;
/** Bundles the self-test page into `outDir` (default SELFTEST_PUBLIC) and returns the absolute folder. */
export declare function buildSelfTest(options?: { outDir?: string }): Promise<string>;
/** Writes `emulators.json` beside the page so that it connects to the local Auth and Functions emulators. */
export declare function writeSelfTestEmulators(
  outDir: string,
  ports: { auth: number; functions: number; host?: string },
): Promise<void>;
