import { createRequire } from "node:module";
import { resolve } from "node:path";

// The functions codebase has its own node_modules; tests must use the very same
// firebase-functions instance as the code under test, or `instanceof HttpsError` fails.
const requireFromFunctions = createRequire(resolve(__dirname, "..", "..", "functions", "package.json"));

/** firebase-functions' HttpsError class, as the functions codebase loads it. */
export const HttpsError: typeof import("../../functions/node_modules/firebase-functions/lib/v2/providers/https").HttpsError =
  (requireFromFunctions("firebase-functions/v2/https") as typeof import("../../functions/node_modules/firebase-functions/lib/v2/providers/https")).HttpsError;
