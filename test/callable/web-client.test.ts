import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously, signOut } from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, type Functions } from "firebase/functions";
import { TurnCredentialsError } from "@webrtc-lite/client/credentials";
import { createTurnClient, FUNCTIONS_REGION, getIceServers } from "@webrtc-lite/client";
import { PROJECT_ID, startEmulatorStack, type EmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { freePort } from "@webrtc-lite/dev-stack/ports";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";

const TURN_URIS = ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"];

/** A Firebase app of its own (its own Auth state) wired to the emulators. */
function emulatorApp(authPort: number, functionsPort: number): { app: FirebaseApp; functions: Functions } {
  const app = initializeApp({ apiKey: "fake-api-key", projectId: PROJECT_ID }, `web-client-${randomUUID()}`);
  connectAuthEmulator(getAuth(app), `http://127.0.0.1:${authPort}`, { disableWarnings: true });
  const functions = getFunctions(app, FUNCTIONS_REGION);
  connectFunctionsEmulator(functions, "127.0.0.1", functionsPort);
  return { app, functions };
}

describe("web client against the getTurnCredentials callable", function () {
  this.timeout(120_000);
  let stack: EmulatorStack;
  const apps: FirebaseApp[] = [];
  const newApp = (functionsPort?: number): Functions => {
    const { app, functions } = emulatorApp(stack.ports.auth, functionsPort ?? stack.ports.functions);
    apps.push(app);
    return functions;
  };

  before(async () => {
    stack = await startEmulatorStack({
      emulators: ["auth", "functions"],
      params: functionParams(TURN_URIS, { STUN_URIS: "none" }),
      secrets: { TURN_SHARED_SECRET: newSecret() },
    });
  });
  after(async () => {
    await Promise.all(apps.map((app) => deleteApp(app)));
    await stack?.stop();
  });

  it("getIceServers() returns ready iceServers for the signed-in user, from the cache on the second call", async () => {
    const functions = newApp();
    const { user } = await signInAnonymously(getAuth(functions.app));
    const first = await getIceServers(functions);
    assert.equal(first.length, 1);
    assert.deepEqual(first[0].urls, TURN_URIS);
    assert.match(first[0].username ?? "", new RegExp(`^\\d+:${user.uid}$`));
    assert.equal(await getIceServers(functions), first);
  });

  it("getIceServers() fetches new credentials when another user signs in", async () => {
    const functions = newApp();
    const auth = getAuth(functions.app);
    await signInAnonymously(auth);
    const before = await getIceServers(functions);
    await signOut(auth);
    const { user } = await signInAnonymously(auth);
    const after = await getIceServers(functions);
    assert.notEqual(after, before);
    assert.match(after[0].username ?? "", new RegExp(`^\\d+:${user.uid}$`));
  });

  it("asks for the ttl it is given", async () => {
    const functions = newApp();
    await signInAnonymously(getAuth(functions.app));
    const credentials = await createTurnClient(functions, { ttl: 120 }).getCredentials();
    assert.equal(credentials.ttl, 120);
    assert.ok(Math.abs(credentials.expiresAt - (Date.now() / 1000 + 120)) < 30, `expiresAt ${credentials.expiresAt}`);
  });

  it("reports a signed-out caller as refused, with the function's sentence", async () => {
    const functions = newApp();
    await assert.rejects(
      createTurnClient(functions).getIceServers(),
      (error: unknown) =>
        error instanceof TurnCredentialsError &&
        error.failure === "refused" &&
        error.code === "unauthenticated" &&
        error.message ===
          "getTurnCredentials refused the request (unauthenticated): Sign in with Firebase Auth before asking for TURN credentials.",
    );
  });

  it("reports a function nobody serves as unreachable", async () => {
    const functions = newApp(await freePort());
    await signInAnonymously(getAuth(functions.app));
    await assert.rejects(
      createTurnClient(functions).getIceServers(),
      (error: unknown) => error instanceof TurnCredentialsError && error.failure === "unreachable" && error.code === "internal",
    );
  });
});
