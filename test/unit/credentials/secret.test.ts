import { strict as assert } from "node:assert";
import { sharedSecretProblem } from "@webrtc-lite/contract/turn-rest";

describe("sharedSecretProblem", () => {
  it("accepts a 64-character hex secret", () => assert.equal(sharedSecretProblem("ab".repeat(32)), undefined));
  it("accepts exactly 32 printable characters", () => assert.equal(sharedSecretProblem("!~".repeat(16)), undefined));

  const refused: Array<[string, string, RegExp]> = [
    ["empty", "", /^TURN_SHARED_SECRET is not set: run `firebase functions:secrets:set TURN_SHARED_SECRET`$/],
    ["31 characters", "a".repeat(31), /^TURN_SHARED_SECRET is shorter than 32 characters/],
    ["with a space", `${"a".repeat(20)} ${"b".repeat(20)}`, /whitespace, control or non-ASCII/],
    ["with a trailing newline", `${"a".repeat(40)}\n`, /whitespace, control or non-ASCII/],
    ["with non-ASCII", `${"a".repeat(40)}é`, /whitespace, control or non-ASCII/],
  ];
  for (const [name, secret, pattern] of refused) {
    it(`refuses a secret ${name}, without quoting it`, () => {
      const problem = sharedSecretProblem(secret);
      assert.match(problem ?? "", pattern);
      if (secret.length > 0) assert.ok(!problem?.includes(secret.trim()));
      assert.ok(!problem?.includes(String(secret.length)), "the length is not revealed");
    });
  }
});
