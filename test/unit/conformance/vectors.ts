// Reads the conformance vectors (packages/contract/conformance/*.json) as a port would: through
// the package's export, each file checked against its shape before a vector runs. A key the
// shape does not name fails the load, at the top level, in a vector and in its `expect`, so a
// renamed field cannot pass silently.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { z } from "zod";
import { ENTRY_SKIP_REASONS, SDP_REFUSAL_REASONS } from "@webrtc-lite/contract";

const requireHere = createRequire(__filename);

/** The parsed JSON of conformance file `name` (e.g. "patterns.json"), found through `@webrtc-lite/contract/conformance/*`. */
export function readConformanceFile(name: string): unknown {
  return JSON.parse(readFileSync(requireHere.resolve(`@webrtc-lite/contract/conformance/${name}`), "utf8"));
}

/**
 * The reason codes README.md tables in the section of vector file `name` ("| 1 | `code` | …"),
 * in the table's order (which must be the numbered order).
 */
export function readmeReasonTable(name: string): string[] {
  const readme = readFileSync(requireHere.resolve("@webrtc-lite/contract/conformance/README.md"), "utf8");
  const start = readme.indexOf(`\n## ${name}\n`);
  assert.ok(start >= 0, `README.md has no section "## ${name}"`);
  const end = readme.indexOf("\n## ", start + 1);
  const rows = [...readme.slice(start, end < 0 ? undefined : end).matchAll(/^\| *(\d+) *\| *`([a-z-]+)` *\|/gm)];
  assert.deepEqual(rows.map(([, order]) => Number(order)), rows.map((_, index) => index + 1), `README.md's ${name} table must be numbered 1, 2, …`);
  return rows.map(([, , reason]) => reason);
}

/** One vector: a unique name, what is given, what is expected. */
export interface Vector<Given, Expect> {
  name: string;
  given: Given;
  expect: Expect;
}

/** The schemas of one array of vectors: its `given` and its `expect` (an object schema; unknown keys are refused). */
export interface VectorShape<Given extends z.ZodType, Expect extends z.ZodObject> {
  given: Given;
  expect: Expect;
}

type Arrays<Shapes extends Record<string, VectorShape<z.ZodType, z.ZodObject>>> = {
  [Key in keyof Shapes]: Array<Vector<z.output<Shapes[Key]["given"]>, z.output<Shapes[Key]["expect"]>>>;
};

/**
 * Loads conformance file `name` of `{ about, <array>: [vector…] … }`, one array per key of
 * `shapes`, and checks it: no other top-level key, no other vector key, no `expect` key its
 * schema does not name, every vector name unique within its array.
 */
export function loadVectorArrays<Shapes extends Record<string, VectorShape<z.ZodType, z.ZodObject>>>(name: string, shapes: Shapes): { about: string } & Arrays<Shapes> {
  const arrays = Object.fromEntries(
    Object.entries(shapes).map(([key, shape]) => [
      key,
      z.array(z.strictObject({ name: z.string().min(1), given: shape.given, expect: shape.expect.strict() })).min(1),
    ]),
  );
  const file = z.strictObject({ about: z.string().min(1), ...arrays }).parse(readConformanceFile(name)) as { about: string } & Arrays<Shapes>;
  for (const key of Object.keys(shapes)) {
    const names = (file[key] as Array<{ name: string }>).map((vector) => vector.name);
    assert.deepEqual(names.filter((vectorName, index) => names.indexOf(vectorName) !== index), [], `${name}: vector names in "${key}" must be unique`);
  }
  return file;
}

/** Loads conformance file `name` of `{ about, vectors: [...] }` (see `loadVectorArrays`). */
export function loadVectors<Given extends z.ZodType, Expect extends z.ZodObject>(name: string, given: Given, expect: Expect): Array<Vector<z.output<Given>, z.output<Expect>>> {
  return loadVectorArrays(name, { vectors: { given, expect } }).vectors;
}

const verdict = z.enum(["accept", "refuse"]);

/** candidate-entries.json: an entry as JSON → what the rules and a receiver do with it. */
export function candidateEntryVectors() {
  return loadVectors(
    "candidate-entries.json",
    // z.json() refuses an absent entry (undefined is no JSON value).
    z.strictObject({ entry: z.json() }),
    z
      .object({ rules: verdict, receiver: z.enum(["add", "end-of-candidates", "skip"]), reason: z.enum(ENTRY_SKIP_REASONS).optional() })
      .refine(({ receiver, reason }) => (receiver === "skip") === (reason !== undefined), { error: "reason goes with receiver skip, and only with it" }),
  );
}

/** sdp.json: an sdp → whether the rules (and the contract's offerSchema and answerSchema) take it. */
export function sdpVectors() {
  return loadVectors(
    "sdp.json",
    z.strictObject({ sdp: z.string() }),
    z
      .object({ rules: verdict, reason: z.enum(SDP_REFUSAL_REASONS).optional() })
      .refine(({ rules, reason }) => (rules === "refuse") === (reason !== undefined), { error: "reason goes with rules refuse, and only with it" }),
  );
}
