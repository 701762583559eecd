import { FUNCTIONS_REGION } from "@webrtc-lite/contract/credentials";
import { setGlobalOptions } from "firebase-functions/v2/options";

// maxInstances caps the bill: a burst of abuse scales to this many instances, no further.
setGlobalOptions({ region: FUNCTIONS_REGION, maxInstances: 10 });

// Every deployed function runs in its own instance, which loads this whole file and then reads
// the one export it serves. Defining each export as a getter that loads its module on first
// access keeps the Firestore SDK that the signaling triggers import (~150 ms, ~450 modules)
// out of getTurnCredentials' cold start; deploy discovery and the emulator read every export,
// so they still see all functions.
lazyExport("getTurnCredentials", () => load<typeof import("./credentials/callable")>("./credentials/callable").getTurnCredentials);
lazyExport("onSessionWritten", () => load<typeof import("./sessions/trigger")>("./sessions/trigger").onSessionWritten);
lazyExport("sweepStaleSessions", () => load<typeof import("./sessions/sweep")>("./sessions/sweep").sweepStaleSessions);
lazyExport("notifyCallee", () => load<typeof import("./push/trigger")>("./push/trigger").notifyCallee);

function lazyExport(name: string, get: () => unknown): void {
  Object.defineProperty(exports, name, { enumerable: true, get });
}

function load<Module>(path: string): Module {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading on first access is the point
  return require(path) as Module;
}
