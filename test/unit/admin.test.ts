import { strict as assert } from "node:assert";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { adminFirestore } from "#functions/admin";

const requireFromFunctions = createRequire(resolve(__dirname, "..", "..", "functions", "package.json"));
const { getApps, initializeApp } = requireFromFunctions("firebase-admin/app") as typeof import("../../functions/node_modules/firebase-admin/lib/app/index");

describe("adminFirestore", () => {
  it("initialises the default app even when a named app exists (firebase-functions makes one), once", async () => {
    initializeApp({ projectId: "demo-webrtc-lite" }, "named-by-firebase-functions");
    const first = await adminFirestore();
    const second = await adminFirestore();
    assert.equal(first, second);
    assert.deepEqual(getApps().map((app) => app.name).sort(), ["[DEFAULT]", "named-by-firebase-functions"]);
  });
});
