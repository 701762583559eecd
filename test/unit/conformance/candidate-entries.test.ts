// Runs conformance/candidate-entries.json against the contract and the web client: what a
// receiver does with each entry (the contract's receivedEntryProblem, and the web client's
// CandidateInbox, which uses it), and whether the contract's schema takes it (the rules'
// side; test/firestore/conformance-rules.test.ts writes each entry through firestore.rules).
import { strict as assert } from "node:assert";
import { ENTRY_SKIP_REASONS, candidateEntrySchema, readReceivedEntry } from "@webrtc-lite/contract";
import { CandidateInbox } from "@webrtc-lite/client/call/outbox";
import { candidateEntryVectors, readmeReasonTable } from "./vectors";

// Loaded in a hook, so that a file that does not load fails this suite, not the whole run.
let vectors: ReturnType<typeof candidateEntryVectors> = [];

/** The vectors whose outcome `actual` gives differently from `expect`, named, for one failure message. */
function disagreements<T>(actual: (vector: (typeof vectors)[number], index: number) => T, expected: (vector: (typeof vectors)[number]) => T): string[] {
  return vectors.flatMap((vector, index) => {
    const [got, want] = [actual(vector, index), expected(vector)];
    return JSON.stringify(got) === JSON.stringify(want) ? [] : [`"${vector.name}": expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
  });
}

describe("conformance: candidate-entries.json", () => {
  before(() => {
    vectors = candidateEntryVectors();
  });

  it("the contract's readReceivedEntry gives each entry's receiver outcome and reason", () => {
    const outcome = ({ given }: (typeof vectors)[number]) => {
      const { entry, problem } = readReceivedEntry(given.entry);
      if (problem) return { receiver: "skip", reason: problem.reason };
      return { receiver: entry.candidate === "" ? "end-of-candidates" : "add" };
    };
    assert.deepEqual(disagreements(outcome, ({ expect }) => ({ receiver: expect.receiver, ...(expect.reason ? { reason: expect.reason } : {}) })), []);
  });

  it("the web client's CandidateInbox adds, ends and skips each entry of one array as the vectors say", () => {
    const { usable, skipped } = new CandidateInbox().fresh(vectors.map(({ given }) => given.entry));
    const outcome = (_vector: unknown, index: number) => {
      const skip = skipped.find((entry) => entry.index === index);
      if (skip) return { receiver: "skip", reason: skip.reason };
      const use = usable.find((entry) => entry.index === index);
      return { receiver: use?.entry.candidate === "" ? "end-of-candidates" : use ? "add" : "missing" };
    };
    assert.deepEqual(disagreements(outcome, ({ expect }) => ({ receiver: expect.receiver, ...(expect.reason ? { reason: expect.reason } : {}) })), []);
  });

  it("candidateEntrySchema (what firestore.rules accept) takes exactly the entries whose rules are accept", () => {
    assert.deepEqual(disagreements(({ given }) => (candidateEntrySchema.safeParse(given.entry).success ? "accept" : "refuse"), ({ expect }) => expect.rules), []);
  });

  it("covers every reason code, which README.md tables in order", () => {
    const used = new Set(vectors.map(({ expect }) => expect.reason).filter((reason) => reason !== undefined));
    assert.deepEqual(ENTRY_SKIP_REASONS.filter((reason) => !used.has(reason)), []);
    assert.deepEqual(readmeReasonTable("candidate-entries.json"), ENTRY_SKIP_REASONS, "README.md must table ENTRY_SKIP_REASONS in their order");
  });

  it("holds 40 to 80 vectors, each outcome at least five times", () => {
    assert.ok(vectors.length >= 40 && vectors.length <= 80, `${vectors.length} vectors`);
    for (const receiver of ["add", "skip"] as const) assert.ok(vectors.filter(({ expect }) => expect.receiver === receiver).length >= 5, receiver);
  });
});

