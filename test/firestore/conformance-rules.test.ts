// The rules side of the conformance vectors: every entry of candidate-entries.json and every sdp
// of sdp.json goes through firestore.rules in the emulator, and the rules must accept or refuse
// it as the vector's `rules` says (the unit tier holds the same vectors to the contract's schemas).
// An sdp rides as the offer of a dial (the caller's batch: session and limits write), each dial
// by a caller of its own, as a caller's calls are limited; an entry rides in the caller's
// candidates document, created alone on a session seeded with the rules off (cheaper than a
// dial: no sdp and no limits to check). Every write has a session id of its own, so the suite
// shares the run's emulator with the other suites that write only their own documents.
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { initializeTestEnvironment, type RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { doc, setDoc, writeBatch, type Firestore } from "firebase/firestore";
import { candidatesPath, sessionPath, type CandidateEntry } from "@webrtc-lite/contract";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { useSharedSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { quietSdkLogInSuite } from "../helpers/sdk-log";
import { CALLEE, CALLER, candidateFields, createFields, limitsFields, limitsPath, seededCallDocuments } from "../helpers/rules";
import { candidateEntryVectors, sdpVectors } from "../unit/conformance/vectors";

// Writes in flight at once: enough to keep the emulator busy, few enough for 2 cores.
const CONCURRENCY = 8;

type Verdict = "accept" | "refuse";

/** "accept" when `write` goes through, "refuse" when the rules deny it; any other error breaks the test. */
async function verdictOf(write: Promise<unknown>): Promise<Verdict> {
  try {
    await write;
    return "accept";
  } catch (error) {
    if ((error as { code?: string }).code === "permission-denied") return "refuse";
    throw error;
  }
}

/** Runs `write` for each vector, `CONCURRENCY` at a time, and fails naming every vector the rules judge otherwise. */
async function expectVerdicts<T extends { name: string; expect: { rules: Verdict } }>(vectors: readonly T[], write: (vector: T, index: number) => Promise<unknown>): Promise<void> {
  const verdicts: Verdict[] = [];
  for (let start = 0; start < vectors.length; start += CONCURRENCY) {
    const chunk = vectors.slice(start, start + CONCURRENCY);
    verdicts.push(...(await Promise.all(chunk.map((vector, offset) => verdictOf(write(vector, start + offset))))));
  }
  const wrong = vectors.flatMap(({ name, expect }, index) => (verdicts[index] === expect.rules ? [] : [`"${name}": expected ${expect.rules}, the rules ${verdicts[index]}`]));
  assert.deepEqual(wrong, []);
}

describe("conformance vectors through firestore.rules (candidate-entries.json, sdp.json; Firestore emulator)", function () {
  this.timeout(120_000);
  const suite = useSharedSignalingStack(["auth", "firestore"]);
  let env: RulesTestEnvironment | undefined;

  quietSdkLogInSuite();
  before(async () => {
    // No rules given: the emulator keeps the firestore.rules it started with.
    env = await initializeTestEnvironment({ projectId: PROJECT_ID, firestore: { host: "127.0.0.1", port: suite.stack.ports.firestore } });
  });
  after(async () => {
    await env?.cleanup();
  });

  function store(uid: string): Firestore {
    assert.ok(env, "the rules test environment did not start");
    // The context hands out the compat type; the modular functions take the same object.
    return env.authenticatedContext(uid).firestore() as unknown as Firestore;
  }

  it("accepts or refuses each entry of candidate-entries.json as its vector says (the caller's candidates document)", async () => {
    const vectors = candidateEntryVectors();
    const ids = vectors.map(() => randomUUID());
    assert.ok(env, "the rules test environment did not start");
    await env.withSecurityRulesDisabled(async (context) => {
      const admin = context.firestore() as unknown as Firestore;
      const batch = writeBatch(admin);
      for (const [path, data] of ids.flatMap((id) => seededCallDocuments(id, "offered", { candidates: [] }))) batch.set(doc(admin, path), data);
      await batch.commit();
    });
    await expectVerdicts(vectors, ({ given }, index) =>
      setDoc(doc(store(CALLER), candidatesPath(ids[index], "caller")), candidateFields("caller", [given.entry as CandidateEntry])),
    );
  });

  it("accepts or refuses each sdp of sdp.json as its vector says (the offer of a dial)", async () => {
    // Fresh callers: none has a limits document before its one dial.
    const run = randomUUID().slice(0, 8);
    await expectVerdicts(sdpVectors(), ({ given }, index) => {
      const caller = `conformance-${run}-${index}`;
      const db = store(caller);
      const sessionId = randomUUID();
      const batch = writeBatch(db);
      batch.set(doc(db, sessionPath(sessionId)), createFields({ caller_id: caller, offer: { type: "offer", sdp: given.sdp } }));
      batch.set(doc(db, limitsPath(caller)), limitsFields(sessionId, CALLEE), { merge: true });
      return batch.commit();
    });
  });
});
