import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, matchesGlob } from "node:path";
import { promisify } from "node:util";
import { DEFAULT_TIMEOUTS, TIMEOUT_BOUNDS, type Timeouts } from "@webrtc-lite/contract/timeouts";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";

const run = promisify(execFile);
const FUNCTIONS_DIR = join(REPO_ROOT, "functions");
const TURN_URI = "turn:turn.example.com:3478?transport=udp";

/** What the child process reports about the artifact it loaded. */
interface ArtifactReport {
  exports: string[];
  endpoints: Record<string, Record<string, unknown>>;
  credentials: { username: string; credential: string; ttl: number; uris: string[] };
  triggerOutcome: string;
}

// Runs inside the copied folder under Node's permission model: any file read outside it throws.
const LOAD_AND_SERVE = `
const functions = require(process.env.ENTRY);
const endpoints = Object.fromEntries(Object.keys(functions).map((name) => [name, functions[name].__endpoint]));
(async () => {
  const credentials = await functions.getTurnCredentials.run({ data: { ttl: 600 }, auth: { uid: "deploy-check", token: {} }, rawRequest: { headers: {} } });
  const outcome = await functions.onSessionWritten.run({ data: { before: undefined, after: undefined }, params: { sessionId: "s" } });
  process.stdout.write(JSON.stringify({ exports: Object.keys(functions), endpoints, credentials, triggerOutcome: String(outcome) }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe("the functions folder as firebase deploy uploads it", function () {
  this.timeout(240_000);
  let artifact: string;
  let report: ArtifactReport;
  const secret = newSecret();

  before(async () => {
    assert.ok(existsSync(join(FUNCTIONS_DIR, "lib", "index.js")), "functions/lib is missing: run `npm run build` (npm test's setup does)");
    const firebaseJson = JSON.parse(await readFile(join(REPO_ROOT, "firebase.json"), "utf8")) as { functions: Array<{ ignore: string[] }> };
    const ignored = firebaseJson.functions[0].ignore;
    artifact = await mkdtemp(join(tmpdir(), "webrtc-lite-functions-"));
    await cp(FUNCTIONS_DIR, artifact, {
      recursive: true,
      filter: (source) => !ignored.some((pattern) => matchesGlob(basename(source), pattern)),
    });
    // What Cloud Build does with the upload: install package.json's dependencies from the
    // registry, by the lockfile, without devDependencies.
    await run("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: artifact, timeout: 180_000 });
    const timeoutParams = Object.fromEntries(
      (Object.keys(TIMEOUT_BOUNDS) as Array<keyof Timeouts>).map((key) => [TIMEOUT_BOUNDS[key].param, String(DEFAULT_TIMEOUTS[key])]),
    );
    const { stdout } = await run(process.execPath, ["--permission", `--allow-fs-read=${artifact}/`, "-e", LOAD_AND_SERVE], {
      cwd: artifact,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? "",
        ENTRY: join(artifact, "lib", "index.js"),
        GCLOUD_PROJECT: "demo-webrtc-lite",
        TURN_SHARED_SECRET: secret,
        TURN_URIS: TURN_URI,
        STUN_URIS: "",
        ENFORCE_APP_CHECK: "false",
        ...timeoutParams,
      },
    });
    report = JSON.parse(stdout) as ArtifactReport;
  });

  after(async () => {
    if (artifact) await rm(artifact, { recursive: true, force: true });
  });

  it("installs production dependencies only: no build tool, no workspace package", () => {
    for (const absent of ["typescript", "esbuild", "eslint", "@webrtc-lite"]) {
      assert.equal(existsSync(join(artifact, "node_modules", absent)), false, `${absent} was installed`);
    }
    assert.equal(existsSync(join(artifact, "node_modules", "firebase-functions")), true);
  });

  it("loads with no file outside the folder read, and declares the four functions in us-central1", () => {
    assert.deepEqual(report.exports.sort(), ["getTurnCredentials", "notifyCallee", "onSessionWritten", "sweepStaleSessions"]);
    for (const endpoint of Object.values(report.endpoints)) assert.deepEqual(endpoint.region, ["us-central1"]);
    assert.deepEqual(report.endpoints.getTurnCredentials.callableTrigger, {});
    assert.deepEqual(report.endpoints.getTurnCredentials.secretEnvironmentVariables, [{ key: "TURN_SHARED_SECRET" }]);
    const trigger = report.endpoints.onSessionWritten.eventTrigger as { eventType: string; eventFilterPathPatterns: unknown };
    assert.equal(trigger.eventType, "google.cloud.firestore.document.v1.written");
    assert.deepEqual(trigger.eventFilterPathPatterns, { document: "webrtc_sessions/{sessionId}" });
    assert.deepEqual(report.endpoints.notifyCallee.secretEnvironmentVariables, [{ key: "APNS_AUTH_KEY" }]);
    assert.deepEqual(report.endpoints.notifyCallee.eventTrigger, report.endpoints.onSessionWritten.eventTrigger);
  });

  it("serves getTurnCredentials: a credential coturn accepts for the caller, signed with the secret", () => {
    const { username, credential, ttl, uris } = report.credentials;
    assert.match(username, /^\d+:deploy-check$/);
    assert.equal(credential, createHmac("sha1", secret).update(username).digest("base64"));
    assert.equal(ttl, 600);
    assert.deepEqual(uris, [TURN_URI]);
  });

  it("runs the session trigger's handler", () => {
    assert.equal(report.triggerOutcome, "undefined");
  });
});
