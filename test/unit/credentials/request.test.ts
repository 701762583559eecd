import { strict as assert } from "node:assert";
import { parseCredentialRequest } from "@webrtc-lite/contract/credentials";

const TTL_SENTENCE = "ttl must be a whole number of seconds from 60 to 86400 (leave it out for 3600); got";

function rejection(data: unknown): string {
  const parsed = parseCredentialRequest(data);
  assert.equal(parsed.ok, false, `expected ${JSON.stringify(data)} to be rejected`);
  return parsed.ok ? "" : parsed.message;
}

describe("parseCredentialRequest", () => {
  describe("accepts", () => {
    const cases: Array<[string, unknown, number]> = [
      ["no data (undefined)", undefined, 3600],
      ["null data (a call with no argument)", null, 3600],
      ["an empty object", {}, 3600],
      ["the lowest ttl", { ttl: 60 }, 60],
      ["the highest ttl", { ttl: 86400 }, 86400],
      ["a ttl in between", { ttl: 1234 }, 1234],
      ["an integer-valued float literal", { ttl: 120.0 }, 120],
    ];
    for (const [name, data, ttl] of cases) {
      it(name, () => assert.deepEqual(parseCredentialRequest(data), { ok: true, request: { ttl } }));
    }
  });

  describe("rejects a ttl", () => {
    const cases: Array<[string, unknown, string]> = [
      ["below the minimum", 59, "59"],
      ["of zero", 0, "0"],
      ["that is negative", -3600, "-3600"],
      ["above the maximum", 86401, "86401"],
      ["that is fractional", 90.5, "90.5"],
      ["that is huge", 1e308, "1e+308"],
      ["that is NaN", Number.NaN, "NaN"],
      ["that is Infinity", Number.POSITIVE_INFINITY, "Infinity"],
      ["given as a string", "3600", "a string"],
      ["given as null", null, "null"],
      ["given as a boolean", true, "true"],
      ["given as an array", [3600], "an array"],
      ["given as a nested object", { a: { b: { c: 1 } } }, "an object"],
    ];
    for (const [name, ttl, got] of cases) {
      it(name, () => assert.equal(rejection({ ttl }), `${TTL_SENTENCE} ${got}.`));
    }
  });

  describe("rejects data that is not an object", () => {
    const cases: Array<[string, unknown, string]> = [
      ["an array", [1, 2], "an array"],
      ["a string", "ttl=3600", "a string"],
      ["a number", 3600, "3600"],
      ["a boolean", false, "false"],
    ];
    for (const [name, data, got] of cases) {
      it(name, () =>
        assert.equal(
          rejection(data),
          `The request must be an object such as { ttl: 3600 }, or empty; got ${got}.`,
        ),
      );
    }
  });

  describe("rejects unknown fields", () => {
    it("names the field", () =>
      assert.equal(rejection({ ttl: 600, user: "bob" }), 'Unknown field "user" in the request: the only accepted field is ttl.'));

    it("lists at most three and counts the rest", () =>
      assert.equal(
        rejection({ a: 1, b: 2, c: 3, d: 4, e: 5 }),
        'Unknown field "a", "b", "c" and 2 more in the request: the only accepted field is ttl.',
      ));

    it("shortens a very long key instead of echoing it", () => {
      const message = rejection({ ["k".repeat(100_000)]: 1 });
      assert.equal(message, `Unknown field "${"k".repeat(32)}…" in the request: the only accepted field is ttl.`);
    });

    it("rejects a __proto__ key from JSON instead of treating it as the prototype", () =>
      assert.equal(
        rejection(JSON.parse('{"__proto__": {"ttl": 600}}')),
        'Unknown field "__proto__" in the request: the only accepted field is ttl.',
      ));

    it("rejects a constructor key", () =>
      assert.equal(
        rejection(JSON.parse('{"ttl": 600, "constructor": {"prototype": {}}}')),
        'Unknown field "constructor" in the request: the only accepted field is ttl.',
      ));

    it("rejects a case variant of ttl", () =>
      assert.equal(rejection({ TTL: 600 }), 'Unknown field "TTL" in the request: the only accepted field is ttl.'));
  });

  it("keeps a rejected large payload's message short", () => {
    const data = { ttl: 600, blob: "x".repeat(1_000_000) };
    assert.ok(rejection(data).length < 200);
  });
});
