import { strict as assert } from "node:assert";
import { createHmac, randomUUID } from "node:crypto";
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import {
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  getAuth,
  signInAnonymously,
  signOut,
  type Auth,
} from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, httpsCallable, type Functions } from "firebase/functions";
import { callRaw, signUpUser, type SignedInUser } from "@webrtc-lite/dev-stack/callable";
import { PROJECT_ID, REGION, startEmulatorStack, type EmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";

const TURN_URIS = [
  "turn:127.0.0.1:3478?transport=udp",
  "turn:127.0.0.1:3478?transport=tcp",
  "turns:localhost:5349?transport=tcp",
];
const TTL_SENTENCE = "ttl must be a whole number of seconds from 60 to 86400 (leave it out for 3600); got";

interface CredentialsResult {
  username: string;
  credential: string;
  ttl: number;
  expiresAt: number;
  uris: string[];
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
}

describe("getTurnCredentials through the Functions and Auth emulators", function () {
  this.timeout(120_000);
  const secret = newSecret();
  let stack: EmulatorStack;

  before(async () => {
    stack = await startEmulatorStack({
      emulators: ["auth", "functions"],
      params: functionParams(TURN_URIS),
      secrets: { TURN_SHARED_SECRET: secret },
    });
  });
  after(async () => {
    await stack?.stop();
    assert.ok(!stack.output().includes(secret), "the shared secret appeared in the emulator's output");
  });

  describe("with the Firebase JS SDK (httpsCallable)", () => {
    let app: FirebaseApp;
    let auth: Auth;
    let functions: Functions;

    beforeEach(() => {
      app = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key" }, randomUUID());
      auth = getAuth(app);
      connectAuthEmulator(auth, `http://127.0.0.1:${stack.ports.auth}`, { disableWarnings: true });
      functions = getFunctions(app, REGION);
      connectFunctionsEmulator(functions, "127.0.0.1", stack.ports.functions);
    });
    afterEach(async () => {
      await signOut(auth);
      await deleteApp(app);
    });

    const getTurnCredentials = (data?: unknown) =>
      httpsCallable<unknown, CredentialsResult>(functions, "getTurnCredentials")(data);

    it("mints a credential for a signed-in user that coturn's scheme verifies", async () => {
      const { user } = await createUserWithEmailAndPassword(auth, `${randomUUID()}@example.com`, "correct-horse-battery");
      const before = Math.floor(Date.now() / 1000);
      const { data } = await getTurnCredentials();
      const after = Math.floor(Date.now() / 1000);

      assert.equal(data.ttl, 3600);
      assert.ok(data.expiresAt >= before + 3600 && data.expiresAt <= after + 3600, `expiresAt ${data.expiresAt}`);
      assert.equal(data.username, `${data.expiresAt}:${user.uid}`);
      assert.equal(data.credential, createHmac("sha1", secret).update(data.username).digest("base64"));
      assert.deepEqual(data.uris, TURN_URIS);
      assert.deepEqual(data.iceServers, [
        { urls: ["stun:127.0.0.1:3478"] },
        { urls: TURN_URIS, username: data.username, credential: data.credential },
      ]);
    });

    it("mints for an anonymous user, honouring the ttl asked for", async () => {
      const { user } = await signInAnonymously(auth);
      const { data } = await getTurnCredentials({ ttl: 120 });
      assert.equal(data.ttl, 120);
      assert.equal(data.username, `${data.expiresAt}:${user.uid}`);
    });

    it("refuses a signed-out caller with functions/unauthenticated", async () => {
      await assert.rejects(getTurnCredentials(), {
        code: "functions/unauthenticated",
        message: "Sign in with Firebase Auth before asking for TURN credentials. [401]",
      });
    });

    it("refuses a bad ttl with functions/invalid-argument and the sentence", async () => {
      await signInAnonymously(auth);
      await assert.rejects(getTurnCredentials({ ttl: 30 }), {
        code: "functions/invalid-argument",
        message: `${TTL_SENTENCE} 30. [400]`,
      });
    });
  });

  describe("over raw HTTP (the callable wire protocol used by Android and iOS)", () => {
    let user: SignedInUser;
    before(async () => {
      user = await signUpUser(stack.ports.auth);
    });

    it("answers 200 with the result envelope", async () => {
      const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, data: { ttl: 600 } });
      assert.equal(answer.status, 200);
      const result = answer.body.result as CredentialsResult;
      assert.equal(result.username, `${result.expiresAt}:${user.uid}`);
      assert.equal(result.ttl, 600);
    });

    it("answers 401 UNAUTHENTICATED without a token", async () => {
      const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { data: {} });
      assert.deepEqual(answer, {
        status: 401,
        body: { error: { status: "UNAUTHENTICATED", message: "Sign in with Firebase Auth before asking for TURN credentials." } },
      });
    });

    it("answers 401 UNAUTHENTICATED for a forged token", async () => {
      const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: "not-a-jwt", data: {} });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error?.status, "UNAUTHENTICATED");
    });

    const badInputs: Array<[string, unknown, string]> = [
      ["a string ttl", { ttl: "3600" }, `${TTL_SENTENCE} a string.`],
      ["a float ttl", { ttl: 61.5 }, `${TTL_SENTENCE} 61.5.`],
      ["a ttl too small", { ttl: 59 }, `${TTL_SENTENCE} 59.`],
      ["a ttl too large", { ttl: 86401 }, `${TTL_SENTENCE} 86401.`],
      ["a huge number", { ttl: 1e300 }, `${TTL_SENTENCE} 1e+300.`],
      ["a null ttl (how NaN travels in JSON)", { ttl: null }, `${TTL_SENTENCE} null.`],
      ["a nested ttl", { ttl: { value: { deeper: [1, 2, 3] } } }, `${TTL_SENTENCE} an object.`],
      ["an array ttl", { ttl: [3600] }, `${TTL_SENTENCE} an array.`],
      ["an unknown key", { ttl: 600, uid: "someone-else" }, 'Unknown field "uid" in the request: the only accepted field is ttl.'],
      ["an array as data", [{ ttl: 600 }], "The request must be an object such as { ttl: 3600 }, or empty; got an array."],
      ["a string as data", "ttl", "The request must be an object such as { ttl: 3600 }, or empty; got a string."],
      ["a number as data", 600, "The request must be an object such as { ttl: 3600 }, or empty; got 600."],
      ["a boolean as data", true, "The request must be an object such as { ttl: 3600 }, or empty; got true."],
    ];
    for (const [name, data, message] of badInputs) {
      it(`answers 400 INVALID_ARGUMENT for ${name}`, async () => {
        const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, data });
        assert.deepEqual(answer, { status: 400, body: { error: { status: "INVALID_ARGUMENT", message } } });
      });
    }

    it("answers 400 INVALID_ARGUMENT for a deeply nested payload", async () => {
      let nested: unknown = 1;
      for (let depth = 0; depth < 2_000; depth += 1) nested = { n: nested };
      const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, data: nested });
      assert.deepEqual(answer, {
        status: 400,
        body: { error: { status: "INVALID_ARGUMENT", message: 'Unknown field "n" in the request: the only accepted field is ttl.' } },
      });
    });

    it("answers a very large payload with a client error, never INTERNAL", async () => {
      const data = { ttl: 600, padding: "x".repeat(12 * 1024 * 1024) };
      const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, data });
      assert.ok(answer.status === 400 || answer.status === 413, `status ${answer.status}`);
      assert.notEqual(answer.body.error?.status, "INTERNAL");
    });

    it("answers 400 INVALID_ARGUMENT for a body that is not a callable request", async () => {
      for (const rawBody of ['{"ttl":600}', "not json at all", "[]"]) {
        const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, rawBody });
        assert.equal(answer.status, 400, rawBody);
        assert.equal(answer.body.error?.status === "INVALID_ARGUMENT" || answer.body.error?.status === "NOT_JSON", true, rawBody);
        assert.notEqual(answer.body.error?.status, "INTERNAL");
      }
    });

    // The Functions emulator starts a runtime process per concurrent request, so a burst of
    // 16 already exercises concurrency; more only makes the suite slow.
    it("serves a burst of 16 concurrent calls from 4 users without an error", async () => {
      const users = await Promise.all(Array.from({ length: 4 }, () => signUpUser(stack.ports.auth, "anonymous")));
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, index) =>
          callRaw(stack.functionUrl("getTurnCredentials"), { idToken: users[index % 4].idToken, data: { ttl: 300 } }),
        ),
      );
      assert.deepEqual(answers.map((answer) => answer.status), Array(16).fill(200));
      for (const [index, answer] of answers.entries()) {
        const result = answer.body.result as CredentialsResult;
        assert.ok(result.username.endsWith(`:${users[index % 4].uid}`));
        assert.equal(result.credential, createHmac("sha1", secret).update(result.username).digest("base64"));
      }
    });
  });
});

describe("getTurnCredentials with an unusable configuration", function () {
  this.timeout(120_000);
  const weakSecret = "weak-secret-123";
  let stack: EmulatorStack;

  before(async () => {
    stack = await startEmulatorStack({
      emulators: ["auth", "functions"],
      params: functionParams(["turn:bad host:3478", "turns:turn.example.com:5349?transport=udp"]),
      secrets: { TURN_SHARED_SECRET: weakSecret },
    });
  });
  after(async () => stack?.stop());

  it("answers failed-precondition and logs each problem, never the secret", async () => {
    const user = await signUpUser(stack.ports.auth, "anonymous");
    const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, data: null });
    assert.deepEqual(answer, {
      status: 400,
      body: {
        error: {
          status: "FAILED_PRECONDITION",
          message:
            "TURN credentials are not available: the server's TURN configuration is incomplete. The operator has been told in the function logs.",
        },
      },
    });
    const output = stack.output();
    assert.match(output, /turn configuration unusable/);
    assert.match(output, /TURN_SHARED_SECRET is shorter than 32 characters/);
    assert.match(output, /TURN_URIS entry 1 .*has a host that is neither an IP address nor a DNS name/);
    assert.match(output, /TURN_URIS entry 2 .*TURN over DTLS/);
    assert.ok(!output.includes(weakSecret), "the weak secret appeared in the emulator's output");
  });
});

describe("getTurnCredentials with App Check enforced", function () {
  this.timeout(120_000);
  let stack: EmulatorStack;

  before(async () => {
    stack = await startEmulatorStack({
      emulators: ["auth", "functions"],
      params: functionParams(TURN_URIS, { ENFORCE_APP_CHECK: "true" }),
      secrets: { TURN_SHARED_SECRET: newSecret() },
    });
  });
  after(async () => stack?.stop());

  it("refuses a signed-in caller without an App Check token", async () => {
    const user = await signUpUser(stack.ports.auth);
    const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, data: {} });
    assert.deepEqual(answer, {
      status: 401,
      body: {
        error: {
          status: "UNAUTHENTICATED",
          message: "This app must send a valid App Check token: App Check is enforced for TURN credentials.",
        },
      },
    });
  });

  // The emulator decodes App Check tokens without verifying their signature (as it does ID
  // tokens), so this shows the switch lets a call with a token through; rejecting forged
  // tokens in production is firebase-admin's verifyToken, which the emulator bypasses.
  it("mints for a caller that sends an App Check token", async () => {
    const user = await signUpUser(stack.ports.auth);
    const answer = await callRaw(stack.functionUrl("getTurnCredentials"), {
      idToken: user.idToken,
      data: {},
      headers: { "x-firebase-appcheck": unsignedAppCheckToken("1:123456789:web:abcdef") },
    });
    assert.equal(answer.status, 200);
    assert.equal((answer.body.result as CredentialsResult).username.endsWith(`:${user.uid}`), true);
  });
});

function unsignedAppCheckToken(appId: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return [
    encode({ alg: "none", typ: "JWT" }),
    encode({ app_id: appId, sub: appId, iss: "https://firebaseappcheck.googleapis.com/123456789", aud: [`projects/${PROJECT_ID}`], iat: now, exp: now + 3600 }),
    "",
  ].join(".");
}
