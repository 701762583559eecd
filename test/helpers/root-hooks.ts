// Root hooks of every mocha run (.mocharc.json `require`): the Firestore SDK's log level is set
// once, and what suites share is stopped once the whole run is over.
import { setLogLevel } from "firebase/firestore";
import { stopSharedSignalingStacks } from "@webrtc-lite/dev-stack/signaling-stack";
import { SDK_TEST_LOG_LEVEL } from "./sdk-log";

/** Mocha's root hook plugin. */
export const mochaHooks = {
  beforeAll(): void {
    setLogLevel(SDK_TEST_LOG_LEVEL);
  },
  async afterAll(this: { timeout(ms: number): void }): Promise<void> {
    this.timeout(60_000);
    await stopSharedSignalingStacks();
  },
};
