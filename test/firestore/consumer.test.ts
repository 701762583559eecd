import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { sessionPath } from "@webrtc-lite/contract";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { describeTimings, openCallPage, placeCall } from "../helpers/call-pages";
import {
  bundleApp,
  createConsumerApp,
  installedPackages,
  packPublishedPackages,
  runNodeCall,
  typecheckApp,
  type ConsumerApp,
  type InstalledPackage,
  type PackedPackage,
  type TypeCheck,
} from "../helpers/consumer-app";
import { startServerlessCallSite, type ServerlessCallSite } from "../helpers/selftest-site";

/** How long one step of the Node app's call may take, and the whole script (then it is killed). */
const NODE_STEP_TIMEOUT_MS = 20_000;
const NODE_CALL_TIMEOUT_MS = 60_000;

const kB = (bytes: number): string => `${(bytes / 1_000).toFixed(1)} kB`;

/**
 * The packages as an app team gets them: `npm pack` of the contract and the client, installed
 * from the tarballs into an app outside the repository beside firebase, esbuild, typescript and
 * @roamhq/wrtc from the registry. The app type-checks and bundles the two-browser call page
 * with its own tools and two Chromium pages call with that bundle; a Node script of the app
 * calls on libwebrtc. Auth, Firestore and Hosting emulators and a loopback coturn; no
 * Functions emulator (the test mints the TURN credentials).
 */
describe("an app installs the packed contract and client and calls with them, in Chromium and on Node", function () {
  this.timeout(240_000);
  let workDir: string | undefined;
  let serverless: ServerlessCallSite | undefined;
  let tarballs: PackedPackage[];
  let app: ConsumerApp;
  let installed: InstalledPackage[];
  let typeCheck: TypeCheck;
  let bundled: string[];

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "webrtc-lite-consumer-"));
    workDir = dir;
    const appDir = join(dir, "app");
    // The emulators start while the packages are packed and installed (each takes 10–30 s):
    // Hosting serves the app's public folder, which the app's build fills later.
    const site = startServerlessCallSite("consumer-test", join(appDir, "public"));
    const built = (async () => {
      await mkdir(join(dir, "packs"));
      tarballs = await packPublishedPackages(join(dir, "packs"));
      app = await createConsumerApp(appDir, tarballs);
      installed = await installedPackages(app);
      typeCheck = await typecheckApp(app);
      bundled = await bundleApp(app);
    })();
    const [siteOutcome, builtOutcome] = await Promise.allSettled([site, built]);
    if (siteOutcome.status === "fulfilled") serverless = siteOutcome.value;
    else throw siteOutcome.reason;
    if (builtOutcome.status === "rejected") throw builtOutcome.reason;
  });
  after(async () => {
    try {
      await serverless?.stop();
    } finally {
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  });

  it("installs the two tarballs as copies, and nothing but registry packages beside them", async () => {
    const fromRepo = installed.filter((entry) => entry.path.startsWith("node_modules/@webrtc-lite/"));
    // Copies of exactly the packed bytes (the lockfile's integrity is the tarball's hash), not links into the workspace.
    const expected = await Promise.all(
      tarballs.map(async (tarball) => ({
        path: `node_modules/${tarball.name}`,
        resolved: `file:../packs/${basename(tarball.file)}`,
        integrity: `sha512-${createHash("sha512").update(await readFile(tarball.file)).digest("base64")}`,
        link: false,
      })),
    );
    assert.deepEqual(
      fromRepo.map(({ path, resolved, integrity, link }) => ({ path, resolved, integrity, link })),
      expected.sort((a, b) => a.path.localeCompare(b.path)),
    );
    const others = installed.filter((entry) => !fromRepo.includes(entry));
    // A registry package: a tarball URL, or none where npm is set to leave it out; always its integrity.
    const fromRegistry = (entry: InstalledPackage): boolean =>
      !entry.link && (entry.resolved === undefined || /^https:\/\/[^/]+\/.+\.tgz$/.test(entry.resolved)) && /^sha512-/.test(entry.integrity ?? "");
    assert.deepEqual(others.filter((entry) => !fromRegistry(entry)), [], "every other package comes from the registry");
    // One copy of each: the client's own dependency on the contract is the tarball, not a registry lookalike.
    assert.deepEqual(
      installed.filter((entry) => /(^|\/)@webrtc-lite\/(contract|client)$/.test(entry.path)).map((entry) => entry.path),
      ["node_modules/@webrtc-lite/client", "node_modules/@webrtc-lite/contract"],
    );
    for (const name of ["client", "contract"]) {
      assert.ok((await lstat(join(app.dir, "node_modules", "@webrtc-lite", name))).isDirectory(), `@webrtc-lite/${name} is a folder, not a link`);
    }
    const firebase = installed.find((entry) => entry.path === "node_modules/firebase");
    assert.match(firebase?.version ?? "", /^12\./);
    console.log(
      `      consumer app: ${tarballs.map((tarball) => `${tarball.name} ${kB(tarball.bytes)}`).join(", ")} packed; ` +
        `npm install of the app (${app.added} packages added) took ${(app.installMs / 1_000).toFixed(1)} s`,
    );
  });

  it("type-checks the call page with the app's tsc --strict against the published .d.ts only, and the .d.ts themselves", () => {
    const { files, errors } = typeCheck;
    const ours = files.filter((file) => file.includes("@webrtc-lite/"));
    assert.ok(files.includes("src/call.ts"));
    assert.ok(ours.includes("node_modules/@webrtc-lite/client/dist/index.d.ts"), "the client's types come from dist");
    assert.ok(ours.includes("node_modules/@webrtc-lite/contract/dist/index.d.ts"), "the contract's types come from dist");
    assert.deepEqual(ours.filter((file) => !/^node_modules\/@webrtc-lite\/(client|contract)\/dist\/.+\.d\.ts$/.test(file)), [], "a package's source was read");
    assert.deepEqual(files.filter((file) => file.startsWith("..")), [], "tsc read files outside the app");
    // Other libraries' .d.ts may fail `skipLibCheck: false` (firebase 12 names `Temporal`, which
    // TypeScript 5.9 lacks; the app skips lib checks for that): only theirs may.
    const thirdParty = /^node_modules\/(?!@webrtc-lite\/)[^(]+\.d\.[cm]?ts\(/;
    assert.deepEqual(errors.filter((line) => !thirdParty.test(line)), [], "the app's sources or the packages' .d.ts do not type-check");
  });

  it("bundles the call page with the app's esbuild from the published JavaScript only", () => {
    const ours = bundled.filter((file) => file.includes("@webrtc-lite/"));
    assert.ok(bundled.includes("src/call.ts"));
    assert.ok(ours.includes("node_modules/@webrtc-lite/client/dist/index.js"));
    assert.ok(ours.includes("node_modules/@webrtc-lite/contract/dist/index.js"));
    assert.deepEqual(ours.filter((file) => !/^node_modules\/@webrtc-lite\/(client|contract)\/dist\/.+\.js$/.test(file)), [], "a package's source was bundled");
    assert.deepEqual(bundled.filter((file) => file.startsWith("..")), [], "esbuild read files outside the app");
  });

  it("calls between two Chromium pages running the app's bundle: rings, connects relay to relay, talks both ways, hangs up", async () => {
    const { site, admin, credentials } = serverless!;
    const url = `${site.url}call.html`;
    // Hosting serves the app's own bundle (there is no other build in its folder).
    const served = await fetch(`${site.url}call.js`).then((response) => response.text());
    assert.equal(served, await readFile(join(app.publicDir, "call.js"), "utf8"));

    const alice = await openCallPage(site.browser, url, "caller", credentials);
    const bob = await openCallPage(site.browser, url, "callee", credentials);
    const { sessionId, timings } = await placeCall(alice, bob);
    const session = (await admin.db.doc(sessionPath(sessionId)).get()).data()!;
    assert.deepEqual(
      [session.caller_id, session.callee_id, session.end_request?.by, session.end_request?.reason],
      [alice.uid, bob.uid, "caller", "hangup"],
    );
    console.log(describeTimings("call (the app's bundle)", timings));
  });

  it("calls from the app's Node script on @roamhq/wrtc: rings, connects relay to relay, talks both ways, hangs up", async () => {
    const { site, admin, secret } = serverless!;
    // What getTurnCredentials would hand each side, minted here (no Functions emulator runs).
    const iceServers = (user: string): RTCIceServer[] => {
      const { username, credential } = mintTurnCredential(secret, user, 3_600, Date.now());
      return [{ urls: site.coturn.uris(), username, credential }];
    };
    const config = {
      projectId: PROJECT_ID,
      authUrl: `http://127.0.0.1:${site.stack.ports.auth}`,
      firestore: { host: "127.0.0.1", port: site.stack.ports.firestore },
      iceServers: { caller: iceServers("consumer-node-caller"), callee: iceServers("consumer-node-callee") },
      stepTimeoutMs: NODE_STEP_TIMEOUT_MS,
    };
    const result = await runNodeCall(app, config, NODE_CALL_TIMEOUT_MS);
    if (result.error !== undefined) {
      // What each side went through and what coturn refused: enough to tell ICE from signaling.
      const coturn = site.coturn.output().split("\n").filter((line) => /error|fail|refus|quota|alloc/i.test(line)).slice(-20);
      assert.fail(
        `the Node app's call failed: ${result.error}\nphases ${JSON.stringify(result.phases)}; sides ${JSON.stringify(result.sides)}; ` +
          `Firestore stream breaks ${result.streamBreaks}; Firestore log ${JSON.stringify(result.firestoreLog)}\ncoturn:\n${coturn.join("\n")}`,
      );
    }
    assert.equal(result.ok, true);
    assert.match(result.sessionId ?? "", /^[A-Za-z0-9]{20}$/);
    assert.equal(result.incomingSessionId, result.sessionId);
    assert.deepEqual(result.phases, { caller: ["ringing", "connecting", "connected", "ended"], callee: ["connecting", "connected", "ended"] });
    assert.match(result.paths?.caller ?? "", /^relay to relay \((udp|tcp)\)$/);
    assert.match(result.paths?.callee ?? "", /^relay to relay \((udp|tcp)\)$/);
    assert.deepEqual(result.received, { callee: "hello callee", caller: "hello caller" });
    assert.deepEqual(result.ended, { caller: "hangup", callee: "hangup" });
    assert.deepEqual(result.errors, { caller: null, callee: null });
    assert.deepEqual(result.warnings, []);
    const session = (await admin.db.doc(sessionPath(result.sessionId!)).get()).data()!;
    assert.deepEqual(
      [session.caller_id, session.callee_id, session.end_request?.by, session.end_request?.reason],
      [result.callerUid, result.calleeUid, "caller", "hangup"],
    );
    console.log(
      `      benchmark call (the app's Node script): dial→ring ${result.ms.dialToRing} ms, dial→connected ${result.ms.dialToConnected} ms, ` +
        `hang-up→other side ended ${result.ms.hangUpToOtherSide} ms, script ${result.ms.total} ms; Firestore stream breaks: ${result.streamBreaks}`,
    );
  });
});
