import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCredentialsResponse } from "#functions/credentials/response";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { buildSelfTest, writeSelfTestEmulators } from "@webrtc-lite/dev-stack/selftest";
import { emulatorAdmin, type EmulatorAdmin } from "@webrtc-lite/dev-stack/admin";
import type { PageCredentials } from "./call-pages";
import { launchChromium, type TestBrowser } from "./chromium";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { startEmulatorStack, type EmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";

/** The web pages (web/selftest) on the Hosting emulator, with the emulators, a coturn and a Chromium. */
export interface SelfTestSite {
  coturn: TestCoturn;
  stack: EmulatorStack;
  browser: TestBrowser;
  /** `http://127.0.0.1:<hosting port>/` */
  url: string;
  stop(): Promise<void>;
}

/** How to start a site: which secret each side holds, and whether Firestore and Functions run. */
export interface SelfTestSiteOptions {
  coturnSecret: string;
  functionsSecret: string;
  firestore?: boolean;
  /**
   * Whether the Functions emulator runs (default true). Without it nothing answers the
   * callable nor runs a trigger: a test hands the pages credentials itself (`page.route`).
   */
  functions?: boolean;
  /**
   * Serve this folder as it is (an app's own build) instead of building the workspace's pages.
   * It may still be empty: Hosting reads it on each request, so an app can be bundled into it
   * while the emulators start. `emulators.json` is written into it; it is left to its owner.
   */
  pageDir?: string;
}

/**
 * Builds the pages into a throw-away folder (never web/dist, which `npm start` may be serving),
 * starts coturn with `coturnSecret` and the functions with `functionsSecret`, serves the pages
 * and launches Chromium.
 */
export async function startSelfTestSite(options: SelfTestSiteOptions): Promise<SelfTestSite> {
  if (options.pageDir !== undefined) await mkdir(options.pageDir, { recursive: true });
  const pageDir = options.pageDir ?? (await buildSelfTest({ outDir: await mkdtemp(join(tmpdir(), "webrtc-lite-pages-")) }));
  const removePages = (): Promise<void> => (options.pageDir === undefined ? rm(pageDir, { recursive: true, force: true }) : Promise.resolve());
  const coturn = await startCoturn([options.coturnSecret], { relayBetweenLocalClients: true });
  let stack: EmulatorStack | undefined;
  try {
    stack = await startEmulatorStack({
      emulators: [
        "auth",
        ...(options.functions === false ? [] : (["functions"] as const)),
        ...(options.firestore ? (["firestore"] as const) : []),
        "hosting",
      ],
      params: functionParams(coturn.uris()),
      secrets: { TURN_SHARED_SECRET: options.functionsSecret },
      hostingPublic: pageDir,
    });
    // Without the Functions emulator the pages still get its (unused) port: a test that routes
    // the callable's requests answers them there.
    await writeSelfTestEmulators(pageDir, {
      auth: stack.ports.auth,
      functions: stack.ports.functions,
      ...(options.firestore ? { firestore: stack.ports.firestore } : {}),
    });
    const browser = await launchChromium();
    const running = stack;
    return {
      coturn,
      stack: running,
      browser,
      url: `http://127.0.0.1:${running.ports.hosting}/`,
      async stop() {
        await browser.close();
        await running.stop();
        await coturn.stop();
        await removePages();
      },
    };
  } catch (error) {
    await stack?.stop();
    await coturn.stop();
    await removePages();
    throw error;
  }
}

/** A site with no Functions emulator, an admin Firestore on its emulator, and what the pages get instead of the callable. */
export interface ServerlessCallSite {
  site: SelfTestSite;
  admin: EmulatorAdmin;
  /** The secret coturn checks credentials against (a native test client mints its own with it). */
  secret: string;
  /** For `openCallPage`: an hour's TURN credentials, minted by the test, answer the pages' callable requests. */
  credentials: PageCredentials;
  stop(): Promise<void>;
}

/**
 * The call path with no function: the pages with the Auth, Firestore and Hosting emulators and a loopback
 * coturn, and no Functions emulator, so nothing could run a trigger while they call. The TURN
 * credentials are minted here for `user`. `pageDir` serves an app's own build of the pages.
 */
export async function startServerlessCallSite(user: string, pageDir?: string): Promise<ServerlessCallSite> {
  const secret = newSecret();
  const site = await startSelfTestSite({ coturnSecret: secret, functionsSecret: secret, firestore: true, functions: false, ...(pageDir === undefined ? {} : { pageDir }) });
  const admin = emulatorAdmin(site.stack.ports.firestore);
  const ttl = 3_600;
  const response = buildCredentialsResponse(mintTurnCredential(secret, user, ttl, Date.now()), ttl, { host: "127.0.0.1", turnUris: site.coturn.uris(), stunServer: undefined });
  return {
    site,
    admin,
    secret,
    credentials: { callableUrl: site.stack.functionUrl("getTurnCredentials"), response },
    async stop() {
      await admin.close();
      await site.stop();
    },
  };
}
