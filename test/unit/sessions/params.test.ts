import { strict as assert } from "node:assert";
import { DEFAULT_TIMEOUTS, TIMEOUT_BOUNDS, resolveTimeouts, type Timeouts } from "@webrtc-lite/contract/timeouts";
import { sessionAnswerTimeout, sessionMaxCall, sessionPendingTimeout, sessionRingTimeout, sessionTtl } from "#functions/config";

/** The functions' session timeout params, by the contract's key. */
const PARAMS: Record<keyof Timeouts, { name: string; options: { default?: unknown; description?: string } }> = {
  pendingSeconds: sessionPendingTimeout,
  ringSeconds: sessionRingTimeout,
  answerSeconds: sessionAnswerTimeout,
  maxCallSeconds: sessionMaxCall,
  sessionTtlSeconds: sessionTtl,
};

describe("session timeout params (functions/src/config.ts) and the contract", () => {
  for (const key of Object.keys(TIMEOUT_BOUNDS) as Array<keyof Timeouts>) {
    it(`${TIMEOUT_BOUNDS[key].param}: the contract's name, default and bounds`, () => {
      const { param, min, max } = TIMEOUT_BOUNDS[key];
      assert.equal(PARAMS[key].name, param);
      assert.equal(PARAMS[key].options.default, DEFAULT_TIMEOUTS[key]);
      assert.match(PARAMS[key].options.description ?? "", new RegExp(`\\(${min}-${max}\\)$`));
    });
  }

  it("every default is within its bounds, so resolveTimeouts keeps the defaults as they are", () => {
    assert.deepEqual(resolveTimeouts({ ...DEFAULT_TIMEOUTS }), { timeouts: { ...DEFAULT_TIMEOUTS }, problems: [] });
  });
});
