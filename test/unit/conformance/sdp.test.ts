// Runs conformance/sdp.json against the contract: offerSchema and answerSchema (what the rules
// and the trigger accept; test/firestore/conformance-rules.test.ts dials each sdp through
// firestore.rules) and sdpRefusal, whose reason is the first problem in a fixed order.
import { strict as assert } from "node:assert";
import { SDP_REFUSAL_REASONS, answerSchema, offerSchema, sdpRefusal } from "@webrtc-lite/contract";
import { readmeReasonTable, sdpVectors } from "./vectors";

// Loaded in a hook, so that a file that does not load fails this suite, not the whole run.
let vectors: ReturnType<typeof sdpVectors> = [];

describe("conformance: sdp.json", () => {
  before(() => {
    vectors = sdpVectors();
  });

  it("offerSchema and answerSchema accept or refuse each sdp as the vectors say", () => {
    const wrong = vectors.flatMap(({ name, given, expect }) =>
      (["offer", "answer"] as const).flatMap((type) => {
        const schema = type === "offer" ? offerSchema : answerSchema;
        const got = schema.safeParse({ type, sdp: given.sdp }).success ? "accept" : "refuse";
        return got === expect.rules ? [] : [`"${name}" as an ${type}: expected ${expect.rules}, got ${got}`];
      }),
    );
    assert.deepEqual(wrong, []);
  });

  it("sdpRefusal names each refused sdp's first problem", () => {
    const wrong = vectors.flatMap(({ name, given, expect }) => {
      const got = sdpRefusal(given.sdp)?.reason;
      return got === expect.reason ? [] : [`"${name}": expected ${expect.reason ?? "no refusal"}, got ${got ?? "no refusal"}`];
    });
    assert.deepEqual(wrong, []);
  });

  it("covers every reason code, which README.md tables in order, and holds 20 to 40 vectors", () => {
    const used = new Set(vectors.map(({ expect }) => expect.reason));
    assert.deepEqual(SDP_REFUSAL_REASONS.filter((reason) => !used.has(reason)), []);
    assert.deepEqual(readmeReasonTable("sdp.json"), SDP_REFUSAL_REASONS, "README.md must table SDP_REFUSAL_REASONS in their order");
    assert.ok(vectors.length >= 20 && vectors.length <= 40, `${vectors.length} vectors`);
  });
});
