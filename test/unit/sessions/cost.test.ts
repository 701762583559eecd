// The cost model (packages/contract/src/sessions/cost.ts) is the one statement of what a call
// costs; test/firestore/cost.test.ts holds it against a call in the emulator. Here: how it
// moves with the call's shape, the budget it was built to, and the figures the docs derive
// from it.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { LIMITS, codelabCallCost, signalingCallCost, sweepFixedReadsPerDay, type CallShape, type StepCost } from "@webrtc-lite/contract";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";

/** The call docs/signaling.md prices: 5 candidates per side, each side's in one append. */
const FIVE_AND_FIVE: CallShape = { callerCandidates: 5, calleeCandidates: 5, callerBatches: 1, calleeBatches: 1 };

/** Firebase's free tier, a day (Firestore pricing). */
const FREE_TIER = { writes: 20_000, reads: 50_000, deletes: 20_000 };


/** One side of a call: candidates, and a number of append batches that can carry them and end-of-candidates. */
const side = fc
  .integer({ min: 0, max: LIMITS.maxCandidatesPerSide - 1 })
  .chain((candidates) =>
    fc.integer({ min: Math.ceil((candidates + 1) / LIMITS.maxCandidatesPerWrite), max: candidates + 1 }).map((batches) => ({ candidates, batches })),
  );

/** Any call shape the model accepts. */
const shapes: fc.Arbitrary<CallShape> = fc.tuple(side, side, fc.boolean()).chain(([caller, callee, triggerDeletedFirst]) =>
  fc.integer({ min: 0, max: caller.batches }).map((late) => ({
    callerCandidates: caller.candidates,
    callerBatches: caller.batches,
    calleeCandidates: callee.candidates,
    calleeBatches: callee.batches,
    callerBatchesAfterAccept: late,
    triggerDeletedFirst,
  })),
);

const numbers = (step: Omit<StepCost, "step">) => [step.writes, step.listenerReads, step.otherReads, step.deletes];
const reads = (cost: { listenerReads: number; otherReads: number }) => cost.listenerReads + cost.otherReads;

/** docs/signaling.md's "Cost per call" section. */
function costSection(): string {
  const docs = readFileSync(join(REPO_ROOT, "docs", "signaling.md"), "utf8");
  const start = docs.indexOf("## Cost per call");
  assert.ok(start >= 0, "docs/signaling.md has a \"Cost per call\" section");
  const end = docs.indexOf("\n## ", start + 1);
  return docs.slice(start, end < 0 ? undefined : end);
}

/** The minutes between the sweep's runs, as functions/src/sessions/sweep.ts schedules it. */
function sweepIntervalMinutes(): number {
  const schedule = /schedule: "every (\d+) minutes"/.exec(readFileSync(join(REPO_ROOT, "functions", "src", "sessions", "sweep.ts"), "utf8"));
  assert.ok(schedule, "functions/src/sessions/sweep.ts schedules the sweep \"every N minutes\"");
  return Number(schedule[1]);
}

describe("cost model", () => {
  it("totals its steps, for any call shape", () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const { steps, totals } = signalingCallCost(shape);
        const summed = steps.reduce((sum, step) => sum.map((value, i) => value + numbers(step)[i]), [0, 0, 0, 0]);
        assert.deepEqual(numbers(totals), summed);
      }),
    );
  });

  it("charges one write per append batch, one listener read per callee batch and per caller batch the callee's listener sees, one rules read when the trigger deleted the other side's document first; nothing else depends on the shape", () => {
    const base = signalingCallCost(FIVE_AND_FIVE).totals;
    fc.assert(
      fc.property(shapes, (shape) => {
        const cost = signalingCallCost(shape).totals;
        const extraCallerBatches = shape.callerBatches - FIVE_AND_FIVE.callerBatches;
        const extraCalleeBatches = shape.calleeBatches - FIVE_AND_FIVE.calleeBatches;
        assert.deepEqual(cost, {
          writes: base.writes + extraCallerBatches + extraCalleeBatches,
          listenerReads: base.listenerReads + extraCalleeBatches + (shape.callerBatchesAfterAccept ?? 0),
          otherReads: base.otherReads + (shape.triggerDeletedFirst ? 1 : 0),
          deletes: base.deletes,
        });
      }),
    );
  });

  it("names each side's candidates and batches in its append step", () => {
    const steps = signalingCallCost({ callerCandidates: 11, calleeCandidates: 8, callerBatches: 2, calleeBatches: 3 }).steps.map((step) => step.step);
    assert.equal(steps.filter((step) => /caller appends its 11 candidates and end-of-candidates in 2 batch/.test(step)).length, 1);
    assert.equal(steps.filter((step) => /callee appends its 8 candidates and end-of-candidates in 3 batch/.test(step)).length, 1);
  });

  it("keeps a 5+5 call within the budget it was designed to: at most 13 writes and 15 reads (16 when the trigger deleted the other side's document first)", () => {
    const cost = signalingCallCost(FIVE_AND_FIVE).totals;
    assert.ok(cost.writes <= 13, `${cost.writes} writes`);
    assert.ok(reads(cost) <= 15, `${reads(cost)} reads`);
    const raced = signalingCallCost({ ...FIVE_AND_FIVE, triggerDeletedFirst: true }).totals;
    assert.deepEqual({ writes: raced.writes, reads: reads(raced), deletes: raced.deletes }, { writes: cost.writes, reads: reads(cost) + 1, deletes: cost.deletes });
  });

  it("pays no more than Google's codelab once candidates pile up: the codelab pays a write and a read for each", () => {
    const codelab = codelabCallCost(5, 5);
    const oneMore = codelabCallCost(6, 5);
    assert.deepEqual({ writes: oneMore.writes - codelab.writes, listenerReads: oneMore.listenerReads - codelab.listenerReads }, { writes: 1, listenerReads: 1 });
    // At the most candidates a side may send, in the fewest appends, the codelab costs more of both.
    const most = LIMITS.maxCandidatesPerSide - 1;
    const batches = Math.ceil((most + 1) / LIMITS.maxCandidatesPerWrite);
    const ours = signalingCallCost({ callerCandidates: most, calleeCandidates: most, callerBatches: batches, calleeBatches: batches }).totals;
    const theirs = codelabCallCost(most, most);
    assert.ok(ours.writes < theirs.writes, `${ours.writes} writes against the codelab's ${theirs.writes}`);
    assert.ok(reads(ours) < theirs.listenerReads, `${reads(ours)} reads against the codelab's ${theirs.listenerReads}`);
  });

  it("refuses impossible call shapes with a sentence", () => {
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, callerCandidates: 20 }), { name: "RangeError", message: "callerCandidates must be a whole number from 0 to 19." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, calleeCandidates: -1 }), { message: "calleeCandidates must be a whole number from 0 to 19." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, calleeBatches: 0 }), { message: "calleeBatches must be a whole number from 1 to 6 (1 to 6 entries per batch)." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, callerBatches: 7 }), { message: "callerBatches must be a whole number from 1 to 6 (1 to 6 entries per batch)." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, callerCandidates: 8 }), { message: "callerBatches must be a whole number from 2 to 9 (1 to 6 entries per batch)." });
    assert.throws(() => signalingCallCost({ ...FIVE_AND_FIVE, callerBatchesAfterAccept: 2 }), { message: "callerBatchesAfterAccept must be a whole number from 0 to callerBatches." });
  });

  it("prices the sweep's idle runs per day, a partial interval counting as a run", () => {
    // 144 runs of 3 queries; 1440 / 7 is 205.7, so 206 runs.
    assert.equal(sweepFixedReadsPerDay(10), 432);
    assert.equal(sweepFixedReadsPerDay(7), 618);
    assert.equal(sweepFixedReadsPerDay(1_440), 3);
    assert.throws(() => sweepFixedReadsPerDay(0), { message: "intervalMinutes must be a whole number from 1 to 1440." });
    assert.throws(() => sweepFixedReadsPerDay(2.5), { message: "intervalMinutes must be a whole number from 1 to 1440." });
  });

  describe("the figures docs/signaling.md derives from it", () => {
    it("lists the model's steps for a 5+5 call, row by row, and its totals", () => {
      const rows = costSection()
        .split("\n")
        .filter((line) => /^\|.*\|\s*$/.test(line))
        .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
      const header = rows.findIndex((cells) => cells[0] === "step");
      assert.ok(header >= 0, "the section has the per-step table");
      const body = rows.slice(header + 2);
      const total = body.findIndex((cells) => cells[0] === "**total**");
      assert.ok(total >= 0, "the per-step table ends with a total row");
      const count = (cell: string) => (cell === "" ? 0 : Number(cell.replaceAll("*", "")));
      const { steps, totals } = signalingCallCost(FIVE_AND_FIVE);
      assert.deepEqual(
        body.slice(0, total).map((cells) => cells.slice(1).map(count)),
        steps.map(numbers),
      );
      assert.deepEqual(body[total].slice(1).map(count), numbers(totals));
    });

    it("names the free-tier limit that binds first and the calls a day it allows", () => {
      const section = costSection().replace(/\s+/g, " ");
      const quota = /free tier \((\d+)K writes, (\d+)K reads, (\d+)K deletes a day\) (\w+) bind first: about ([\d ]+) calls a day/.exec(section);
      assert.ok(quota, "the section states the free-tier figures");
      const [, writes, readsPerDay, deletes, binding, calls] = quota;
      assert.deepEqual([writes, readsPerDay, deletes].map((value) => Number(value) * 1_000), [FREE_TIER.writes, FREE_TIER.reads, FREE_TIER.deletes]);
      const cost = signalingCallCost(FIVE_AND_FIVE).totals;
      // The sweep's idle reads come off the reads a day before any call.
      const callsPerDay = {
        writes: FREE_TIER.writes / cost.writes,
        reads: (FREE_TIER.reads - sweepFixedReadsPerDay(sweepIntervalMinutes())) / reads(cost),
        deletes: FREE_TIER.deletes / cost.deletes,
      };
      const [first, fewest] = Object.entries(callsPerDay).reduce((low, entry) => (entry[1] < low[1] ? entry : low));
      assert.equal(binding, first);
      // "About": rounded down to tens.
      assert.equal(Number(calls.replaceAll(" ", "")), Math.floor(fewest / 10) * 10);
    });

    it("states the sweep's idle reads a day, at the interval it is scheduled to run", () => {
      const idle = /every (\d+) minutes: (\d+) reads a day/.exec(costSection().replace(/\s+/g, " "));
      assert.ok(idle, "the section states the sweep's idle reads");
      assert.equal(Number(idle[1]), sweepIntervalMinutes());
      assert.equal(Number(idle[2]), sweepFixedReadsPerDay(sweepIntervalMinutes()));
    });
  });
});
