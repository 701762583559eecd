import { strict as assert } from "node:assert";
import type { Page } from "playwright-core";
import { candidatesPath } from "@webrtc-lite/contract";
import { adminFirestoreModule } from "@webrtc-lite/dev-stack/admin";
import { describeStreamTrouble, describeTimings, openCallPage, placeCall, step, type CallPage } from "../helpers/call-pages";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { startServerlessCallSite, type ServerlessCallSite } from "../helpers/selftest-site";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

// Every address below is on loopback (the network rule): an entry that reached addIceCandidate
// and was taken could make Chromium send checks to 127.0.0.1:9 and nowhere else.
const LOOPBACK_HOST = "2122260223 127.0.0.1 9 typ host";

/**
 * Category 1: the rules accept these (under the current grammar and the tightened one: the
 * lines are plain loopback host candidates), so the callee writes them itself, through the
 * rules; the caller's browser refuses them in addIceCandidate.
 */
const UNUSABLE = [
  { candidate: `candidate:1 1 udp ${LOOPBACK_HOST}`, sdpMid: "nope", sdpMLineIndex: 0 },
  { candidate: `candidate:2 1 udp ${LOOPBACK_HOST}`, sdpMid: null, sdpMLineIndex: 7 },
];

/**
 * Category 2: written with the rules bypassed (a peer under older, laxer rules). `contract`
 * entries must be refused before addIceCandidate; the unsupported transport is refused by the
 * contract or, if its grammar takes any transport name, by the browser.
 */
const MALFORMED: Array<{ value: Record<string, unknown>; contract: boolean }> = [
  { value: { candidate: `candidate:3 1 udp 4294967296 127.0.0.1 9 typ host`, sdpMid: "0", sdpMLineIndex: 0 }, contract: true },
  { value: { candidate: "candidate:4 1 udp 1686052607 127.0.0.1 9 typ srflx raddr 127.0.0.1", sdpMid: "0", sdpMLineIndex: 0 }, contract: true },
  { value: { candidate: "candidate:5 1 udp 2122260223 <script>alert(1)</script> 9 typ host", sdpMid: "0", sdpMLineIndex: 0 }, contract: true },
  { value: { candidate: 42, sdpMid: "0", sdpMLineIndex: 0 }, contract: true },
  { value: { candidate: `candidate:6 1 udp ${LOOPBACK_HOST}`, sdpMid: "0", sdpMLineIndex: 0, onerror: "alert(1)" }, contract: true },
  { value: { candidate: `candidate:7 1 sctp ${LOOPBACK_HOST}`, sdpMid: "0", sdpMLineIndex: 0 }, contract: false },
];

/** A Firestore REST value for the entries above (strings, integers, null, maps of those). */
function restValue(value: unknown): Record<string, unknown> {
  if (value === null) return { nullValue: null };
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "number") return { integerValue: String(value) };
  return { mapValue: { fields: Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, field]) => [key, restValue(field)])) } };
}

/**
 * Runs in the callee's page before its scripts: holds every `icecandidate` event until the test
 * calls `releaseCandidates()`, so that the hostile entries come first in the callee's document
 * and the caller can connect only by adding the real ones written after them. (No named inner
 * functions: the test runner's transpiler would wrap them in a helper the page does not have.)
 */
function holdGatheredCandidates(): void {
  const held: Array<() => void> = [];
  let released = false;
  // RTCPeerConnection inherits addEventListener from EventTarget; this own one shadows it.
  RTCPeerConnection.prototype.addEventListener = function (this: RTCPeerConnection, type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions) {
    if (type !== "icecandidate") return EventTarget.prototype.addEventListener.call(this, type, listener, options);
    const deliver = typeof listener === "function" ? listener.bind(this) : listener.handleEvent.bind(listener);
    return EventTarget.prototype.addEventListener.call(this, type, (event: Event) => (released ? deliver(event) : held.push(() => deliver(event))), options);
  };
  (window as unknown as { releaseCandidates: () => void }).releaseCandidates = () => {
    released = true;
    held.splice(0).forEach((deliver) => deliver());
  };
}

/**
 * Appends `entries` to a document from `page`, through the rules, as the page's signed-in user:
 * its own ID token (from the Auth SDK's IndexedDB) on a Firestore REST commit, the arrayUnion
 * the web SDK sends. Returns the HTTP status and body.
 */
async function appendAsPageUser(page: Page, firestoreUrl: string, path: string, entries: unknown[]): Promise<{ status: number; body: string }> {
  const name = `projects/${PROJECT_ID}/databases/(default)/documents/${path}`;
  const commit = {
    writes: [
      {
        update: { name, fields: {} },
        updateMask: { fieldPaths: [] },
        updateTransforms: [{ fieldPath: "candidates", appendMissingElements: { values: entries.map(restValue) } }],
        currentDocument: { exists: true },
      },
    ],
  };
  return page.evaluate(
    async ({ url, body }) => {
      const token = await new Promise<string>((resolve, reject) => {
        const opening = indexedDB.open("firebaseLocalStorageDb");
        opening.onerror = () => reject(opening.error ?? new Error("IndexedDB did not open"));
        opening.onsuccess = () => {
          const reading = opening.result.transaction("firebaseLocalStorage").objectStore("firebaseLocalStorage").getAll();
          reading.onerror = () => reject(reading.error ?? new Error("IndexedDB read failed"));
          reading.onsuccess = () => resolve((reading.result as Array<{ value: { stsTokenManager: { accessToken: string } } }>)[0].value.stsTokenManager.accessToken);
        };
      });
      const response = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
      return { status: response.status, body: await response.text() };
    },
    { url: `${firestoreUrl}/v1/projects/${PROJECT_ID}/databases/(default)/documents:commit`, body: JSON.stringify(commit) },
  );
}

/**
 * The proof that a hostile peer cannot break a call: the callee puts entries the caller
 * cannot use ahead of its real candidates, and the caller skips each once and connects anyway.
 * Auth, Firestore and Hosting emulators and a loopback coturn; no Functions emulator.
 */
describe("two browsers call each other while the callee writes candidate entries the caller cannot use", function () {
  this.timeout(180_000);
  let serverless: ServerlessCallSite;

  before(async () => {
    serverless = await startServerlessCallSite("web-call-hostile-test");
  });
  after(async () => {
    await serverless?.stop();
  });

  it("connects relay to relay, carries data both ways and hangs up; the caller reports each bad entry once", async () => {
    const { site, admin, credentials } = serverless;
    const firestoreUrl = `http://127.0.0.1:${site.stack.ports.firestore}`;
    const url = `${site.url}call.html`;
    const alice: CallPage = await openCallPage(site.browser, url, "caller", credentials);
    const bob: CallPage = await openCallPage(site.browser, url, "callee", credentials, async (page) => {
      await page.addInitScript(holdGatheredCandidates);
    });
    const pages = [alice, bob];
    const { FieldValue } = adminFirestoreModule;

    const { timings } = await placeCall(alice, bob, {
      answered: async (sessionId) => {
        const path = candidatesPath(sessionId, "callee");
        const document = admin.db.doc(path);
        await step("the callee's answer batch", pages, () => waitFor("the callee's candidates document", async () => ((await document.get()).exists ? true : undefined), 20_000));
        // One write per entry: every write delivers the whole array to the caller again.
        for (const entry of UNUSABLE) {
          const { status, body } = await appendAsPageUser(bob.page, firestoreUrl, path, [entry]);
          assert.equal(status, 200, `the rules refused the callee's own append: ${body}`);
        }
        for (const { value } of MALFORMED) await document.update({ candidates: FieldValue.arrayUnion(value) });
        assert.deepEqual((await document.get()).get("candidates"), [...UNUSABLE, ...MALFORMED.map(({ value }) => value)], "the bad entries come first, in order");
        await bob.page.evaluate(() => (window as unknown as { releaseCandidates: () => void }).releaseCandidates());
      },
      warnings: (shown) => {
        assert.deepEqual(shown.callee, []);
        const byIndex = new Map(shown.caller.map((line) => [Number(/candidates\[(\d+)\]/.exec(line)?.[1]), line]));
        const bad = UNUSABLE.length + MALFORMED.length;
        assert.equal(shown.caller.length, bad, `one warning per bad entry:\n${shown.caller.join("\n")}`);
        assert.deepEqual([...byIndex.keys()].sort((a, b) => a - b), Array.from({ length: bad }, (_, index) => index));
        UNUSABLE.forEach((_, index) => assert.match(byIndex.get(index)!, /was skipped: this browser refused it \(OperationError: /));
        MALFORMED.forEach(({ contract }, offset) => {
          if (contract) assert.doesNotMatch(byIndex.get(UNUSABLE.length + offset)!, /this browser refused it/, "refused before addIceCandidate");
        });
      },
    });
    console.log(describeTimings(`call with ${UNUSABLE.length + MALFORMED.length} bad entries ahead of the callee's candidates`, timings));
    console.log(describeStreamTrouble(pages));
  });
});
