import { strict as assert } from "node:assert";
import {
  DEFAULT_ROTATION_WINDOW_SECONDS,
  resolveSecrets,
  secretSourceFromEnvironment,
  SecretSourceError,
  versionsInWindow,
} from "@webrtc-lite/turn/secrets";
import { FakeSecretManager } from "../../helpers/secret-manager";

const SECRET_NAME = "projects/demo-webrtc-lite/secrets/TURN_SHARED_SECRET";
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const HOUR = 3_600;
const secondsAgo = (seconds: number) => ({ seconds: String(Math.floor(NOW / 1000) - seconds) });

describe("secretSourceFromEnvironment", () => {
  it("reads the current and previous secret from the environment", () => {
    assert.deepEqual(secretSourceFromEnvironment({ TURN_SHARED_SECRET: "current", TURN_PREVIOUS_SHARED_SECRET: "previous" }), {
      kind: "environment",
      current: "current",
      previous: "previous",
    });
  });

  it("uses Secret Manager with a 48-hour rotation window by default", () => {
    assert.deepEqual(secretSourceFromEnvironment({ TURN_SECRET_NAME: SECRET_NAME }), {
      kind: "secret-manager",
      secret: SECRET_NAME,
      rotationWindowSeconds: DEFAULT_ROTATION_WINDOW_SECONDS,
    });
    assert.equal(DEFAULT_ROTATION_WINDOW_SECONDS, 48 * HOUR);
  });

  const refused: Array<[string, Record<string, string>, string]> = [
    ["no source", {}, "no shared secret: set TURN_SECRET_NAME (Secret Manager) or TURN_SHARED_SECRET (environment)"],
    ["two sources", { TURN_SECRET_NAME: SECRET_NAME, TURN_SHARED_SECRET: "x" }, "both TURN_SECRET_NAME and TURN_SHARED_SECRET are set: keep one source of truth and unset the other"],
    ["a version instead of a secret", { TURN_SECRET_NAME: `${SECRET_NAME}/versions/3` }, "TURN_SECRET_NAME must look like projects/<project-id>/secrets/TURN_SHARED_SECRET"],
    ["a fractional window", { TURN_SECRET_NAME: SECRET_NAME, TURN_ROTATION_WINDOW_SECONDS: "1.5" }, "TURN_ROTATION_WINDOW_SECONDS must be a whole number of seconds"],
  ];
  for (const [name, env, message] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(() => secretSourceFromEnvironment(env), (error: unknown) => error instanceof SecretSourceError && error.message === message);
    });
  }
});

describe("versionsInWindow", () => {
  it("keeps the newest version and each older one whose successor is younger than the window", () => {
    const versions = [
      { name: "v1", createTime: secondsAgo(30 * 24 * HOUR) },
      { name: "v3", createTime: secondsAgo(2 * HOUR) },
      { name: "v2", createTime: secondsAgo(10 * 24 * HOUR) },
    ];
    assert.deepEqual(versionsInWindow(versions, NOW, 48 * HOUR), ["v3", "v2"]);
    assert.deepEqual(versionsInWindow(versions, NOW, HOUR), ["v3"]);
  });

  it("drops the previous version exactly when the window has passed", () => {
    const old = { name: "old", createTime: secondsAgo(60 * HOUR) };
    assert.deepEqual(versionsInWindow([{ name: "new", createTime: secondsAgo(48 * HOUR - 1) }, old], NOW, 48 * HOUR), ["new", "old"]);
    assert.deepEqual(versionsInWindow([{ name: "new", createTime: secondsAgo(48 * HOUR) }, old], NOW, 48 * HOUR), ["new"]);
  });

  it("reads protobuf seconds given as numbers, strings or Long-like objects", () => {
    const long = { toString: () => String(Math.floor(NOW / 1000) - HOUR) };
    assert.deepEqual(versionsInWindow([{ name: "a", createTime: { seconds: long } }, { name: "b", createTime: { seconds: Math.floor(NOW / 1000) - 2 * HOUR } }], NOW, 48 * HOUR), ["a", "b"]);
  });
});

describe("resolveSecrets", () => {
  it("returns the environment's secrets without touching Secret Manager", async () => {
    let created = false;
    const secrets = await resolveSecrets({ kind: "environment", current: "c", previous: "p" }, async () => {
      created = true;
      return new FakeSecretManager([]);
    }, NOW);
    assert.deepEqual([secrets, created], [["c", "p"], false]);
  });

  it("lists enabled versions of the function's secret and reads the newest first", async () => {
    const fake = new FakeSecretManager([
      { name: `${SECRET_NAME}/versions/1`, createTime: secondsAgo(20 * HOUR), data: "first-secret" },
      { name: `${SECRET_NAME}/versions/2`, createTime: secondsAgo(HOUR), data: "second-secret" },
    ]);
    const secrets = await resolveSecrets({ kind: "secret-manager", secret: SECRET_NAME, rotationWindowSeconds: 48 * HOUR }, async () => fake, NOW);
    assert.deepEqual(secrets, ["second-secret", "first-secret"]);
    assert.deepEqual(fake.requests, [
      { call: "list", request: { parent: SECRET_NAME, filter: "state:ENABLED" } },
      { call: "access", request: { name: `${SECRET_NAME}/versions/2` } },
      { call: "access", request: { name: `${SECRET_NAME}/versions/1` } },
    ]);
  });

  it("says which secret has no enabled version", async () => {
    await assert.rejects(
      resolveSecrets({ kind: "secret-manager", secret: SECRET_NAME, rotationWindowSeconds: HOUR }, async () => new FakeSecretManager([]), NOW),
      (error: unknown) => error instanceof SecretSourceError && error.message === `${SECRET_NAME} has no enabled version: add one with \`firebase functions:secrets:set\``,
    );
  });

  it("passes on Secret Manager's reason when listing fails", async () => {
    const denied = new Error("7 PERMISSION_DENIED: Permission 'secretmanager.versions.list' denied");
    await assert.rejects(
      resolveSecrets({ kind: "secret-manager", secret: SECRET_NAME, rotationWindowSeconds: HOUR }, async () => new FakeSecretManager([], denied), NOW),
      (error: unknown) => error instanceof SecretSourceError && error.message === `could not list the versions of ${SECRET_NAME}: ${denied.message}`,
    );
  });
});
