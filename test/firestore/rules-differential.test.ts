// firestore.rules and the contract's zod schemas must accept exactly the same uids, session
// descriptions and candidate entries (validation.ts defines them once; rules-source.test.ts
// checks that the rules carry the same patterns). This suite checks the behaviour, not the text:
// it generates values with a fixed seed (valid ones, values at and just past every bound, hostile
// ones), writes each through the real rules in the emulator and compares "allowed" with the
// schema's `safeParse(...).success`. Any disagreement fails the test and is shown.
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { Timestamp, doc, setDoc, updateDoc } from "firebase/firestore";
import type { z } from "zod";
import {
  ICE_RESTART,
  LIMITS,
  answerSchema,
  candidateEntrySchema,
  candidatesPath,
  describeIssues,
  restartWriteSchema,
  sessionCreateInputSchema,
  sessionPath,
  type CandidateEntry,
} from "@webrtc-lite/contract";
import { authUidArbitrary, calleeIdArbitrary, candidateEntryArbitrary, descriptionArbitrary } from "../helpers/arbitraries";
import { CALLEE, CALLER, candidateFields, createFields, numberedEntries, offer, useRulesFixture } from "../helpers/rules";

// Fixed, so that every run writes the same values and a failure can be replayed.
const SEED = 10;
// Requests in flight at once: enough to keep the emulator busy, few enough for 2 cores.
const CONCURRENCY = 8;

/** How one value fared: with the rules (allowed?) and with the schema (its first complaint, if any). */
interface Verdict {
  value: unknown;
  rules: boolean;
  schema: boolean;
  schemaSays?: string;
}

/** Whether the rules let `write` through; any error but permission-denied breaks the test. */
async function rulesAllow(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "permission-denied") return false;
    throw error;
  }
}

/**
 * A field as a failure message shows it: long strings cut, so that a 32 KB SDP stays readable,
 * and the numbers JSON cannot tell apart (-0, NaN, ±Infinity) spelled out.
 */
function shown(_key: string, field: unknown): unknown {
  if (typeof field === "string" && field.length > 300) return `${field.slice(0, 300)}… (${field.length} characters)`;
  if (typeof field === "number" && (Object.is(field, -0) || !Number.isFinite(field))) return `the number ${Object.is(field, -0) ? "-0" : String(field)}`;
  return field;
}

/**
 * Runs every value through the rules (`write`, `CONCURRENCY` at a time) and through `schema`,
 * prints the counts, and fails on any value the two judge differently.
 */
async function compare<T>(kind: string, values: readonly T[], schema: (value: T, index: number) => z.ZodSafeParseResult<unknown>, write: (value: T, index: number) => Promise<unknown>): Promise<void> {
  const verdicts: Verdict[] = [];
  for (let start = 0; start < values.length; start += CONCURRENCY) {
    const chunk = values.slice(start, start + CONCURRENCY);
    verdicts.push(
      ...(await Promise.all(
        chunk.map(async (value, offset) => {
          const parsed = schema(value, start + offset);
          const rules = await rulesAllow(write(value, start + offset));
          return { value, rules, schema: parsed.success, ...(parsed.success ? {} : { schemaSays: describeIssues(parsed.error) }) };
        }),
      )),
    );
  }
  const disagreements = verdicts.filter((verdict) => verdict.rules !== verdict.schema);
  const accepted = verdicts.filter((verdict) => verdict.rules && verdict.schema).length;
  const refused = verdicts.filter((verdict) => !verdict.rules && !verdict.schema).length;
  console.log(`      ${kind}: ${values.length} generated, ${accepted} accepted and ${refused} refused by both the rules and the schema, ${disagreements.length} disagreements`);
  assert.equal(
    disagreements.length,
    0,
    `rules and schema disagree on ${disagreements.length} of ${values.length} ${kind} values, e.g.:\n${JSON.stringify(disagreements.slice(0, 5), shown, 2)}`,
  );
  // Values that all land on one side could not show a disagreement on the other.
  assert.ok(accepted >= values.length / 10 && refused >= values.length / 10, `${kind}: too one-sided to compare (${accepted} accepted, ${refused} refused)`);
}

describe("differential: firestore.rules and the zod schemas accept the same values (Firestore emulator, fast-check)", function () {
  this.timeout(180_000);
  const f = useRulesFixture();

  // isUid is checked only when a session is created, so each value goes through a dial. Every
  // dial has a caller of its own, as a caller's calls are limited.
  it("callee_id: uidSchema and the session create's isUid", async () => {
    const values = fc.sample(calleeIdArbitrary(), { seed: SEED, numRuns: 200 });
    const caller = (index: number) => `differential-caller-${index}`;
    await compare(
      "callee_id",
      values,
      (calleeId, index) => sessionCreateInputSchema.safeParse({ caller_id: caller(index), callee_id: calleeId, offer }),
      (calleeId, index) => f.newCall().dial(caller(index), createFields({ caller_id: caller(index), callee_id: calleeId })),
    );
  });

  it("caller uid (the auth token's, written as caller_id): uidSchema and isUid", async () => {
    const values = [...new Set(fc.sample(authUidArbitrary(), { seed: SEED, numRuns: 100 }))];
    await compare(
      "caller uid",
      values,
      (uid) => sessionCreateInputSchema.safeParse({ caller_id: uid, callee_id: CALLEE, offer }),
      (uid) => f.newCall().dial(uid, createFields({ caller_id: uid })),
    );
  });

  // isDescription judges the offer at create and the answer alike; answers need no dial.
  it("session descriptions: answerSchema and isDescription", async () => {
    const values = fc.sample(descriptionArbitrary("answer"), { seed: SEED, numRuns: 250 });
    const calls = await f.seedCalls(values.length, "offered", { fields: { ring_seconds: 600 } });
    const callee = f.db(CALLEE);
    await compare(
      "description",
      values,
      ({ value }) => answerSchema.safeParse(value),
      ({ value }, index) => updateDoc(doc(callee, sessionPath(calls[index].id)), { answer: value }),
    );
  });

  // A restart write moves the caller's document one generation up: each value's document is
  // seeded one generation below the value's (when that is a generation), so that the rules'
  // "one at a time" holds and only the shape is compared.
  it("ICE restart writes: restartWriteSchema and isRestart (generation, offer, 0–6 new entries)", async () => {
    const generation = fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: ICE_RESTART.maxGeneration }), weight: 6 },
      { arbitrary: fc.constantFrom<unknown>(0, -1, ICE_RESTART.maxGeneration + 1, 1.5, "2", null), weight: 2 },
    );
    const entries = fc.array(fc.oneof({ arbitrary: fc.constantFrom(...numberedEntries(1, 8)), weight: 4 }, { arbitrary: candidateEntryArbitrary(), weight: 1 }), { maxLength: LIMITS.maxCandidatesPerWrite + 1 });
    const values = fc.sample(fc.record({ generation, description: descriptionArbitrary("offer"), candidates: entries }), { seed: SEED, numRuns: 200 });
    const calls = await f.seedCalls(values.length, "connected");
    await Promise.all(
      values.map(async ({ generation: next }, index) => {
        if (typeof next !== "number" || !Number.isInteger(next) || next < 2 || next > ICE_RESTART.maxGeneration) return;
        const seeded = { type: "offer", sdp: offer.sdp.replace(/a=ice-ufrag:[^\r\n]*/, `a=ice-ufrag:seeded${next - 1}`) };
        await f.seed(candidatesPath(calls[index].id, "caller"), { ...candidateFields("caller"), created_at: Timestamp.now(), expire_at: Timestamp.fromMillis(Date.now() + 25 * 3_600_000), generation: next - 1, description: seeded });
      }),
    );
    const caller = f.db(CALLER);
    await compare(
      "restart write",
      values,
      ({ generation: next, description, candidates }) => restartWriteSchema("caller").safeParse({ generation: next, description: description.value, candidates }),
      ({ generation: next, description, candidates }, index) => updateDoc(doc(caller, candidatesPath(calls[index].id, "caller")), { generation: next, description: description.value, candidates }),
    );
  });

  it("candidate entries: candidateEntrySchema and isCandidateEntry", async () => {
    const values = fc.sample(candidateEntryArbitrary(), { seed: SEED, numRuns: 400 });
    const calls = await f.seedCalls(values.length, "offered", { candidates: [] });
    const caller = f.db(CALLER);
    await compare(
      "candidate entry",
      values,
      (entry) => candidateEntrySchema.safeParse(entry),
      (entry, index) => setDoc(doc(caller, candidatesPath(calls[index].id, "caller")), candidateFields("caller", [entry as CandidateEntry])),
    );
  });
});
