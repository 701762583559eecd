import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { INCOMING_CALLS_QUERY } from "@webrtc-lite/contract";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";

interface FirestoreApiLike {
  upgradeOldSpec(spec: unknown): unknown;
  validateSpec(spec: unknown): void;
}

// firebase-tools' own validator, the one `firebase deploy --only firestore:indexes` runs first.
const { FirestoreApi } = createRequire(join(REPO_ROOT, "package.json"))("firebase-tools/lib/firestore/api.js") as {
  FirestoreApi: new () => FirestoreApiLike;
};
const spec = JSON.parse(readFileSync(join(REPO_ROOT, "firestore.indexes.json"), "utf8")) as {
  indexes: Array<{ collectionGroup: string; queryScope: string; fields: Array<{ fieldPath: string; order: string }> }>;
  fieldOverrides: Array<{ collectionGroup: string; fieldPath: string; ttl: unknown; indexes: unknown[] }>;
};

describe("firestore.indexes.json", () => {
  it("passes firebase-tools' validation", () => {
    const api = new FirestoreApi();
    assert.doesNotThrow(() => api.validateSpec(api.upgradeOldSpec(spec)));
    assert.throws(() => api.validateSpec(api.upgradeOldSpec({ indexes: [], fieldOverrides: [{ ...spec.fieldOverrides[0], ttl: "true" }] })), /ttl/);
  });

  it("has the composite index for the incoming-calls query as the contract spells it, and the earlier one for apps not updated yet", () => {
    const query = INCOMING_CALLS_QUERY;
    const equalities = [query.calleeField, query.statusField, ...query.nullFields];
    const expected = {
      collectionGroup: query.collection,
      queryScope: "COLLECTION",
      fields: [
        ...equalities.map((fieldPath) => ({ fieldPath, order: "ASCENDING" })),
        { fieldPath: query.orderBy.field, order: query.orderBy.direction === "desc" ? "DESCENDING" : "ASCENDING" },
      ],
    };
    assert.deepEqual(expected.fields.map((field) => field.fieldPath), ["callee_id", "status", "answer", "end_request", "created_at"]);
    assert.deepEqual(spec.indexes.find((index) => index.fields.map((field) => field.fieldPath).join(",") === expected.fields.map((field) => field.fieldPath).join(",")), expected);
    assert.ok(spec.indexes.some((index) => index.fields.map((field) => field.fieldPath).join(",") === "callee_id,status,created_at"));
  });

  it("has the indexes for 'my calls' and for the sweep", () => {
    const shapes = spec.indexes.map((index) => index.fields.map((field) => `${field.fieldPath} ${field.order}`).join(", "));
    assert.ok(shapes.includes("caller_id ASCENDING, created_at DESCENDING"));
    assert.ok(shapes.includes("callee_id ASCENDING, created_at DESCENDING"));
    assert.ok(shapes.includes("status ASCENDING, updated_at ASCENDING"));
  });

  it("turns on TTL, as a real boolean, on expire_at of sessions and of the ice_candidates, push_targets and push_deliveries collection groups", () => {
    const ttl = spec.fieldOverrides.filter((override) => override.fieldPath === "expire_at").map((override) => [override.collectionGroup, override.ttl]);
    assert.deepEqual(ttl, [
      ["webrtc_sessions", true],
      ["ice_candidates", true],
      ["push_targets", true],
      ["push_deliveries", true],
    ]);
    // The sweep queries sessions by expire_at (ascending); candidates are never queried.
    assert.deepEqual(spec.fieldOverrides[0].indexes, [{ order: "ASCENDING", queryScope: "COLLECTION" }]);
    assert.deepEqual(spec.fieldOverrides[1].indexes, []);
  });
});
