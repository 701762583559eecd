// conformance/peer-candidates.json against the web client's peer-candidates step: what one
// snapshot of the other side's candidates document means, the ICE restart's generations, offers,
// answers and requests included. A vector that disagrees with the code fails here.
import { strict as assert } from "node:assert";
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { ENTRY_SKIP_REASONS, ROLES } from "@webrtc-lite/contract";
import { peerCandidatesStep } from "@webrtc-lite/client/call/listeners";
import { loadVectors, type Vector } from "./vectors";

const count = z.number().int().min(0);
const state = z.strictObject({ handled: count, peerGeneration: count, generation: count, offering: z.boolean() });
// The fields this listener reads; entries stay unchecked (judging them is the point).
const candidatesFields = z.strictObject({
  candidates: z.unknown(),
  generation: count.optional(),
  description: z.unknown().optional(),
  restart_request: count.optional(),
});
const snapshot = z.strictObject({ fromCache: z.boolean(), exists: z.boolean(), data: candidatesFields.optional() });
const given = z.strictObject({ role: z.enum(ROLES), state, snapshot });
const generationAction = <T extends string>(type: T) => z.strictObject({ type: z.literal(type), generation: count });
const entryAction = <T extends string>(type: T) => z.strictObject({ type: z.literal(type), index: count });
const action = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("ignore-snapshot") }),
  z.strictObject({ type: z.literal("ended") }),
  generationAction("restart"),
  generationAction("apply-restart-offer"),
  generationAction("apply-restart-answer"),
  z.strictObject({ type: z.literal("skip-generation"), generation: count, reason: z.literal("bad-description") }),
  z.strictObject({ type: z.literal("skip-candidates"), reason: z.literal("not-an-array") }),
  entryAction("add"),
  entryAction("end-of-candidates"),
  z.strictObject({ type: z.literal("skip"), index: count, reason: z.enum(ENTRY_SKIP_REASONS) }),
]);
const expect = z.strictObject({ actions: z.array(action), state });

// Loaded in a hook, so that a file that does not load fails this suite, not the whole run.
let vectors: Array<Vector<z.output<typeof given>, z.output<typeof expect>>> = [];

describe("conformance: peer-candidates.json (each side's peer-candidates listener)", () => {
  before(() => {
    vectors = loadVectors("peer-candidates.json", given, expect);
  });

  it("the client's peerCandidatesStep gives every vector's actions and next state", () => {
    const disagreements = vectors.flatMap(({ name, given: { role, state, snapshot }, expect }) => {
      const got = peerCandidatesStep(role, state, snapshot);
      return isDeepStrictEqual(got, expect) ? [] : [`"${name}": expected ${JSON.stringify(expect)}, got ${JSON.stringify(got)}`];
    });
    assert.deepEqual(disagreements, []);
  });

  it("holds 25 to 45 vectors covering every action, for both roles, each snapshot's data present exactly when the document exists", () => {
    assert.ok(vectors.length >= 25 && vectors.length <= 45, `${vectors.length} vectors`);
    const types = new Set(vectors.flatMap(({ expect }) => expect.actions.map((next) => next.type)));
    assert.deepEqual([...types].sort(), action.options.map((option) => option.shape.type.value).sort());
    assert.deepEqual([...new Set(vectors.map(({ given }) => given.role))].sort(), ["callee", "caller"]);
    for (const { name, given } of vectors) assert.equal(given.snapshot.data !== undefined, given.snapshot.exists, name);
  });
});
