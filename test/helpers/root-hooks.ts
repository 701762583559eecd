// Root hooks of every mocha run (.mocharc.json `require`): what suites share is stopped once the
// whole run is over.
import { stopSharedSignalingStacks } from "@webrtc-lite/dev-stack/signaling-stack";

/** Mocha's root hook plugin. */
export const mochaHooks = {
  async afterAll(this: { timeout(ms: number): void }): Promise<void> {
    this.timeout(60_000);
    await stopSharedSignalingStacks();
  },
};
