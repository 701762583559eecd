// The push suites' fakes and how the code under test reaches them: in the Functions emulator,
// through a preloaded redirect (node --require, bundled here with esbuild) and the params and
// secret of a configured project; in this process, through the same redirect and a
// firebase-admin app with the test service account.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { build } from "esbuild";
import { ApnsClient } from "#functions/push/apns";
import type { PushTransport } from "#functions/push/deliver";
import { firebaseMessagingSender } from "#functions/push/fcm";
import { adminAppModule } from "@webrtc-lite/dev-stack/admin";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import type { StackSettings } from "@webrtc-lite/dev-stack/signaling-stack";
import { FAKE_HOSTS, TEST_APNS, makePushPki, startFakeApns, startFakeGoogle, type FakeServer, type PushPki } from "./push-fakes";
import { redirectTls } from "./push-redirect";

/** The bundle id the suites' iOS targets use, listed in APNS_BUNDLE_IDS. */
export const TEST_BUNDLE_ID = "com.example.calls";

/** A suite's running fakes, the stack settings that point the functions at them, and an in-process transport to them. */
export interface PushFakes {
  pki: PushPki;
  google: FakeServer & { issuedTokens: Set<string> };
  apns: FakeServer;
  /** Params and secrets for useSignalingStack. */
  stackSettings(): StackSettings;
  /** What the trigger would pass handleSessionPush, reaching the fakes from this process. */
  transport: PushTransport;
}

/** Registers mocha hooks that start the fakes before a suite (before the stack: register this first) and stop them after. */
export function usePushFakes(): PushFakes {
  const fakes = {} as PushFakes;
  let restore: (() => void) | undefined;
  let app: ReturnType<typeof adminAppModule.initializeApp> | undefined;
  let apnsClient: ApnsClient | undefined;
  before(async () => {
    const pki = await makePushPki(PROJECT_ID);
    const [google, apns] = await Promise.all([startFakeGoogle(pki), startFakeApns(pki)]);
    const routes = { [FAKE_HOSTS.oauth]: google.port, [FAKE_HOSTS.fcm]: google.port, [FAKE_HOSTS.apns]: apns.port, [FAKE_HOSTS.apnsSandbox]: apns.port };
    const preload = join(pki.dir, "push-redirect-preload.cjs");
    await build({ entryPoints: [join(__dirname, "push-redirect-preload.ts")], bundle: true, platform: "node", format: "cjs", target: "node22", outfile: preload, logLevel: "warning" });
    restore = redirectTls(routes, pki.caPem);
    app = adminAppModule.initializeApp({ credential: adminAppModule.cert(pki.serviceAccountCredential), projectId: PROJECT_ID }, `push-${randomUUID()}`);
    apnsClient = new ApnsClient({ privateKeyPem: pki.apnsKeyPem, ...TEST_APNS });
    const client = apnsClient;
    Object.assign(fakes, {
      pki,
      google,
      apns,
      stackSettings: (): StackSettings => ({
        params: {
          NODE_OPTIONS: `--require ${preload}`,
          PUSH_TEST_ROUTES: Object.entries(routes).map(([host, port]) => `${host}=${port}`).join(","),
          PUSH_TEST_CA: pki.caPath,
          GOOGLE_APPLICATION_CREDENTIALS: pki.serviceAccountPath,
          APNS_KEY_ID: TEST_APNS.keyId,
          APNS_TEAM_ID: TEST_APNS.teamId,
          APNS_BUNDLE_IDS: TEST_BUNDLE_ID,
        },
        secrets: { APNS_AUTH_KEY: pki.apnsKeyPem },
      }),
      transport: { sendFcm: firebaseMessagingSender(app), apns: { send: (request) => client.send(request), bundleIds: [TEST_BUNDLE_ID] } },
    } satisfies PushFakes);
  });
  after(async () => {
    apnsClient?.close();
    if (app) await adminAppModule.deleteApp(app);
    restore?.();
    await fakes.google?.close();
    await fakes.apns?.close();
    await fakes.pki?.remove();
  });
  return fakes;
}
