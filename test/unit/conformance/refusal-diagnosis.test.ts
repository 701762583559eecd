// refusal-diagnosis.json against the contract's diagnoseRefusal, which the web client's store
// runs on every refused write (packages/client/src/call/firestore.ts).
import { strict as assert } from "node:assert";
import { z } from "zod";
import { REFUSAL_CAUSES, ROLES, diagnoseRefusal } from "@webrtc-lite/contract";
import { loadVectors } from "./vectors";

const millis = z.number().int();
const entry = z.strictObject({ candidate: z.string(), sdpMid: z.string().nullable(), sdpMLineIndex: z.number().int().nullable(), usernameFragment: z.string().nullable().optional() });
const common = {
  role: z.enum(ROLES),
  read: z.strictObject({ outcome: z.enum(["found", "missing", "permission-denied"]), data: z.record(z.string(), z.json()).optional() }),
  limits: z.strictObject({ live: z.record(z.string(), z.string()), recent: z.record(z.string(), millis) }).optional(),
  signInProvider: z.string().optional(),
  deviceNowMillis: millis,
  serverNowMillis: millis.optional(),
};
const nothing = z.strictObject({});

const vectors = loadVectors(
  "refusal-diagnosis.json",
  z.discriminatedUnion("write", [
    z.strictObject({ write: z.literal("dial"), sent: z.strictObject({ callerId: z.string(), offerSdp: z.string() }), ...common }),
    z.strictObject({ write: z.literal("answer"), sent: z.strictObject({ answerSdp: z.string() }), ...common }),
    z.strictObject({ write: z.literal("append"), sent: z.strictObject({ entries: z.array(entry).min(1) }), ...common }),
    z.strictObject({ write: z.literal("restart"), sent: z.strictObject({ generation: z.number().int(), sdp: z.string() }), ...common }),
    z.strictObject({ write: z.literal("restart-request"), sent: z.strictObject({ generation: z.number().int() }), ...common }),
    z.strictObject({ write: z.literal("connectivity"), sent: nothing, ...common }),
    z.strictObject({ write: z.literal("end-request"), sent: nothing, ...common }),
  ]),
  z.object({ cause: z.enum(REFUSAL_CAUSES), then: z.enum(["continue", "retry-once", "show"]), sentence: z.string().min(1).optional() }),
);

describe("conformance: refusal-diagnosis.json (diagnoseRefusal, packages/contract/src/sessions/diagnosis.ts)", () => {
  for (const { name, given, expect } of vectors) {
    it(name, () => assert.deepEqual(diagnoseRefusal(given as Parameters<typeof diagnoseRefusal>[0]), expect));
  }
});
