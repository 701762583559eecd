import { setGlobalOptions } from "firebase-functions/v2/options";

// maxInstances caps the bill: a burst of abuse scales to this many instances, no further.
setGlobalOptions({ region: "us-central1", maxInstances: 10 });

export { getTurnCredentials } from "./credentials/callable";
export { onSessionWritten } from "./sessions/trigger";
export { sweepStaleSessions } from "./sessions/sweep";
