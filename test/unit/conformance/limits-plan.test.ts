// limits-plan.json against the contract's planDial, which the web client's CallLimitsTracker runs.
import { strict as assert } from "node:assert";
import { z } from "zod";
import { END_REQUEST_REASONS, planDial, slotNames, unknownCallLimits, type EndedFields, type KnownCallLimits } from "@webrtc-lite/contract";
import { loadVectors } from "./vectors";

const millis = z.number().int();
const at = (value: number) => ({ toMillis: () => value });
const id = z.string().min(1);
const known = z.strictObject({ live: z.record(id, id), recent: z.record(z.string(), millis) });
const session = z.strictObject({
  status: z.string(),
  created_at: millis,
  ring_seconds: millis,
  answer: z.json(),
  end_request: z.json(),
  expire_at: millis,
});

const vectors = loadVectors(
  "limits-plan.json",
  z.strictObject({
    known: known.nullable(),
    liveHere: z.record(id, z.enum(["ringing", "answered"])),
    call: z.strictObject({ sessionId: id, calleeId: id }),
    deviceNowMillis: millis,
    read: z.strictObject({ limits: known.nullable(), sessions: z.record(id, session.nullable()) }).optional(),
  }),
  z
    .object({
      batch: z
        .strictObject({
          slot: z.union([z.enum(slotNames()), z.literal("any-unwritten")]),
          live: z.record(id, id),
          ends: z.array(z.strictObject({ sessionId: id, reason: z.enum(END_REQUEST_REASONS) })),
        })
        .optional(),
      refuse: z.strictObject({ reason: z.enum(["too-many-live-calls", "too-many-calls-per-minute"]), retryAtMillis: millis.optional(), sentence: z.string().min(1) }).optional(),
    })
    .refine(({ batch, refuse }) => (batch === undefined) !== (refuse === undefined), { error: "expect holds batch or refuse" }),
);

function sessionFields(fields: z.output<typeof session>): EndedFields {
  return { ...fields, created_at: at(fields.created_at), expire_at: at(fields.expire_at) };
}

describe("conformance: limits-plan.json (planDial, packages/contract/src/sessions/limits.ts)", () => {
  for (const { name, given, expect } of vectors) {
    it(name, () => {
      const knowledge: KnownCallLimits = given.known ?? unknownCallLimits();
      const read = given.read && {
        limits: given.read.limits ?? undefined,
        sessions: Object.fromEntries(Object.entries(given.read.sessions).map(([sessionId, fields]) => [sessionId, fields ? sessionFields(fields) : undefined])),
      };
      const decision = planDial({ known: knowledge, liveHere: given.liveHere, call: given.call, deviceNowMillis: given.deviceNowMillis, ...(read ? { read } : {}) });
      if (expect.refuse) {
        assert.deepEqual(decision.kind === "refuse" ? { reason: decision.reason, sentence: decision.sentence, ...(decision.retryAtMillis === undefined ? {} : { retryAtMillis: decision.retryAtMillis }) } : decision, expect.refuse);
        return;
      }
      if (decision.kind !== "batch") return assert.fail(`refused: ${decision.sentence}`);
      const { plan, ends } = decision;
      const live: Record<string, string> = { [plan.calleeId]: plan.sessionId, ...Object.fromEntries(plan.released.map((callee) => [callee, "delete"])) };
      const written = (read ? (read.limits ?? unknownCallLimits()) : knowledge).recent;
      assert.deepEqual({ live, ends }, { live: expect.batch!.live, ends: expect.batch!.ends });
      if (expect.batch!.slot === "any-unwritten") assert.equal(written[plan.slot], undefined, `slot ${plan.slot} was written`);
      else assert.equal(plan.slot, expect.batch!.slot);
    });
  }
});
