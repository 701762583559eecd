// incoming-calls.json against the contract's ringingTime, incomingCallAction and callHasLapsed,
// and its `incoming` vectors against the web client's incoming-calls listener.
import { strict as assert } from "node:assert";
import { mock } from "node:test";
import { z } from "zod";
import { callHasLapsed, incomingCallAction, ringingTime, type TimestampLike } from "@webrtc-lite/contract";
import { listenForCalls } from "@webrtc-lite/client/call/call";
import { FakeSignalingStore, sdp, sessionDocument, timestamp } from "../web/fakes";
import { loadVectorArrays } from "./vectors";

const millis = z.number().int();
const at = (value: number): TimestampLike => ({ toMillis: () => value });
const session = z.strictObject({
  status: z.string(),
  answer: z.json(),
  end_request: z.json(),
  created_at: millis,
  ring_seconds: millis.optional(),
  expire_at: millis.optional(),
});

const file = loadVectorArrays("incoming-calls.json", {
  vectors: {
    given: z.strictObject({ createdAtMillis: millis, ringSeconds: millis, inFirstServerSnapshot: z.boolean(), deviceNowMillis: millis }),
    expect: z.object({ ringForMs: millis.nonnegative() }),
  },
  incoming: {
    given: z.strictObject({ fromCache: z.boolean(), firstServerSnapshot: z.boolean(), document: session.omit({ expire_at: true }), deviceNowMillis: millis }),
    expect: z
      .object({ action: z.enum(["ignore-snapshot", "ring", "not-ringing"]), ringForMs: millis.positive().optional() })
      .refine(({ action, ringForMs }) => (action === "ring") === (ringForMs !== undefined), { error: "ringForMs goes with ring, and only with it" }),
  },
  lapsed: {
    given: z.strictObject({ session: session.nullable(), deviceNowMillis: millis }),
    expect: z.object({ lapsed: z.boolean() }),
  },
});

/** A session as the SDK reads it: the vector's epoch ms as timestamps. */
function withTimestamps<T extends { created_at: number; expire_at?: number }>(fields: T) {
  return { ...fields, created_at: at(fields.created_at), ...(fields.expire_at === undefined ? {} : { expire_at: at(fields.expire_at) }) };
}

describe("conformance: incoming-calls.json", () => {
  describe("ringingTime (packages/contract/src/sessions/ring.ts)", () => {
    for (const { name, given, expect } of file.vectors) {
      it(name, () => assert.equal(ringingTime(given), expect.ringForMs));
    }
  });

  describe("incomingCallAction", () => {
    for (const { name, given, expect } of file.incoming) {
      it(name, () => assert.deepEqual(incomingCallAction({ ...given, document: withTimestamps(given.document) }), expect));
    }
  });

  describe("the web client's incoming-calls listener (packages/client/src/call/callee.ts)", () => {
    afterEach(() => mock.timers.reset());
    for (const { name, given, expect } of file.incoming) {
      it(name, () => {
        mock.timers.enable({ apis: ["setTimeout", "Date"], now: given.deviceNowMillis });
        const store = new FakeSignalingStore();
        const lists: string[][] = [];
        const stop = listenForCalls(store, "bob", (calls) => lists.push(calls.map((call) => call.sessionId)), (error) => assert.fail(error));
        // The vector's fields, in a session that passes the contract's schema.
        const { created_at, answer, end_request, ...rest } = given.document;
        const data = sessionDocument(
          given.document.status,
          {
            ...rest,
            answer: answer === null ? null : { type: "answer", sdp: sdp("answer") },
            end_request: end_request === null ? null : { by: "caller", reason: "cancel", at: timestamp(created_at) },
            ...(given.document.status === "ended" ? { ended_at: timestamp(created_at), ended_reason: "timeout" } : {}),
          },
          created_at,
        );
        if (given.document.ring_seconds === undefined) delete data.ring_seconds;
        store.ringing!([{ id: "call", data }], given.firstServerSnapshot, given.fromCache);
        if (expect.action !== "ring") {
          assert.deepEqual(lists.flat(), []);
        } else {
          assert.deepEqual(lists, [["call"]]);
          mock.timers.tick(expect.ringForMs! - 1);
          assert.deepEqual(lists.at(-1), ["call"]);
          mock.timers.tick(1);
          assert.deepEqual(lists.at(-1), []);
        }
        stop();
      });
    }
  });

  describe("callHasLapsed (packages/contract/src/sessions/limits.ts)", () => {
    for (const { name, given, expect } of file.lapsed) {
      it(name, () => assert.equal(callHasLapsed(given.session ? withTimestamps(given.session) : undefined, given.deviceNowMillis), expect.lapsed));
    }
  });
});
