// conformance/session-listener.json against the web client's session-listener step: what one
// snapshot of the caller's session listener means. A vector that disagrees with the code fails here.
import { strict as assert } from "node:assert";
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { ENDED_REASONS, END_REQUEST_REASONS, ROLES, SESSION_STATUSES } from "@webrtc-lite/contract";
import { sessionListenerStep } from "@webrtc-lite/client/call/listeners";
import { loadVectors, type Vector } from "./vectors";

const millis = z.number().int();
// The fields this listener reads; any other key is a typo the runner must not let pass.
const sessionFields = z.strictObject({
  status: z.enum(SESSION_STATUSES),
  answer: z.strictObject({ type: z.literal("answer"), sdp: z.string() }).nullable().optional(),
  end_request: z.strictObject({ by: z.enum(ROLES), reason: z.enum(END_REQUEST_REASONS), at: millis }).nullable().optional(),
  ended_reason: z.enum(ENDED_REASONS).optional(),
});
const snapshot = z.strictObject({ fromCache: z.boolean(), exists: z.boolean(), data: sessionFields.optional() });
const given = z.strictObject({ snapshot });
const expect = z.strictObject({
  action: z.enum(["ignore-snapshot", "wait", "apply-answer", "ended"]),
  reason: z.enum(ENDED_REASONS).optional(),
  deleteOwnCandidates: z.boolean().optional(),
});

// Loaded in a hook, so that a file that does not load fails this suite, not the whole run.
let vectors: Array<Vector<z.output<typeof given>, z.output<typeof expect>>> = [];

describe("conformance: session-listener.json (the caller's session listener)", () => {
  before(() => {
    vectors = loadVectors("session-listener.json", given, expect);
  });

  it("the client's sessionListenerStep gives every vector's action", () => {
    const disagreements = vectors.flatMap(({ name, given, expect }) => {
      const got = sessionListenerStep(given.snapshot);
      return isDeepStrictEqual(got, expect) ? [] : [`"${name}": expected ${JSON.stringify(expect)}, got ${JSON.stringify(got)}`];
    });
    assert.deepEqual(disagreements, []);
  });

  it("holds 15 to 30 vectors covering every action, each snapshot's data present exactly when the document exists", () => {
    assert.ok(vectors.length >= 15 && vectors.length <= 30, `${vectors.length} vectors`);
    assert.deepEqual([...new Set(vectors.map(({ expect }) => expect.action))].sort(), [...expect.shape.action.options].sort());
    for (const { name, given } of vectors) assert.equal(given.snapshot.data !== undefined, given.snapshot.exists, name);
  });
});
