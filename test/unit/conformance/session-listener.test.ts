// conformance/session-listener.json against the web client's session-listener step: what one
// snapshot of the caller's session listener means. A vector that disagrees with the code fails here.
import { strict as assert } from "node:assert";
import { z } from "zod";
import { ENDED_REASONS, END_REQUEST_REASONS, ROLES, SESSION_STATUSES } from "@webrtc-lite/contract";
import { sessionListenerStep } from "@webrtc-lite/client/call/listeners";
import { loadVectors } from "./vectors";

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

describe("conformance: session-listener.json (the caller's session listener)", () => {
  const vectors = loadVectors("session-listener.json", given, expect);

  it("holds 15 to 30 vectors, each snapshot's document present exactly when it exists", () => {
    assert.ok(vectors.length >= 15 && vectors.length <= 30, `${vectors.length} vectors`);
    for (const { name, given } of vectors) assert.equal(given.snapshot.data !== undefined, given.snapshot.exists, name);
  });

  for (const vector of vectors) {
    it(vector.name, () => {
      assert.deepEqual(sessionListenerStep(vector.given.snapshot), vector.expect);
    });
  }
});
