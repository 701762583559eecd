import { strict as assert } from "node:assert";
import type { Page } from "playwright-core";
import type { TestBrowser } from "../helpers/chromium";
import { PROJECT_ID } from "../helpers/emulators";
import { startSelfTestSite, type SelfTestSite } from "../helpers/selftest-site";
import { newSecret } from "../helpers/turn-config";
import { waitFor } from "../helpers/wait";

type FirestoreValue = { stringValue?: string; timestampValue?: string };

/**
 * Reads a document through the Firestore emulator's REST API as its owner (rules do not
 * apply), or `undefined` when it does not exist.
 */
async function readAsOwner(port: number, path: string): Promise<Record<string, FirestoreValue> | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/projects/${PROJECT_ID}/databases/(default)/documents/${path}`, {
    headers: { authorization: "Bearer owner" },
  });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`Firestore emulator answered ${response.status} for ${path}: ${await response.text()}`);
  return ((await response.json()) as { fields: Record<string, FirestoreValue> }).fields;
}

async function openCallPage(browser: TestBrowser, url: string): Promise<{ page: Page; uid: string }> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await page.waitForSelector("#call:enabled", { timeout: 30_000 });
  const uid = (await page.textContent("#me")) ?? "";
  assert.match(uid, /^[A-Za-z0-9]{20,128}$/);
  return { page, uid };
}

async function phase(page: Page, expected: string): Promise<void> {
  await page.waitForSelector(`#state[data-phase="${expected}"]`, { timeout: 30_000 });
}

describe("two browsers call each other through Firestore signaling and the TURN relay", function () {
  this.timeout(240_000);
  let site: SelfTestSite;

  before(async () => {
    const secret = newSecret();
    site = await startSelfTestSite({ coturnSecret: secret, functionsSecret: secret, firestore: true });
  });
  after(async () => {
    await site?.stop();
  });

  it("rings, connects relay to relay, carries data both ways, hangs up, and cleans up", async () => {
    const url = `${site.url}call.html`;
    const alice = await openCallPage(site.browser, url);
    const bob = await openCallPage(site.browser, url);
    assert.notEqual(alice.uid, bob.uid);

    const dialedAt = Date.now();
    await alice.page.fill("#callee", bob.uid);
    await alice.page.click("#call");
    const ringing = bob.page.locator(`#incoming li[data-caller="${alice.uid}"]`);
    await ringing.waitFor({ timeout: 30_000 });
    const rangAt = Date.now();
    const sessionId = (await ringing.getAttribute("data-session")) ?? "";
    assert.equal(await alice.page.textContent("#session"), sessionId);

    await ringing.locator("button.answer").click();
    await Promise.all([phase(alice.page, "connected"), phase(bob.page, "connected")]);
    const connectedAt = Date.now();
    for (const { page } of [alice, bob]) {
      await page.waitForSelector("#path:not(:empty)");
      assert.match((await page.textContent("#path")) ?? "", /^relay to relay \((udp|tcp)\)$/);
    }

    for (const [from, to, text] of [[alice, bob, "hello bob"], [bob, alice, "hello alice"]] as const) {
      await from.page.fill("#message", text);
      await from.page.click("#send:enabled");
      await to.page.locator("#messages li", { hasText: text }).waitFor({ timeout: 10_000 });
    }

    const status = async (): Promise<string | undefined> => (await readAsOwner(site.stack.ports.firestore, `webrtc_sessions/${sessionId}`))?.status?.stringValue;
    await waitFor("the server to mark the session connected", async () => ((await status()) === "connected" ? true : undefined), 30_000);

    await alice.page.click("#hangup");
    await Promise.all([phase(alice.page, "ended"), phase(bob.page, "ended")]);
    assert.equal(await alice.page.textContent("#state"), "ended (hangup)");
    assert.equal(await bob.page.textContent("#state"), "ended (hangup)");

    const ended = await readAsOwner(site.stack.ports.firestore, `webrtc_sessions/${sessionId}`);
    assert.equal(ended?.status?.stringValue, "ended");
    assert.equal(ended?.ended_reason?.stringValue, "hangup");
    const endedAt = Date.parse(ended?.ended_at?.timestampValue ?? "");
    const expireAt = Date.parse(ended?.expire_at?.timestampValue ?? "");
    assert.equal(expireAt - endedAt, 3_600_000, "an ended session expires one hour after it ended");
    for (const sender of ["caller", "callee"]) {
      await waitFor(
        `ice_candidates/${sender} to be deleted`,
        async () => ((await readAsOwner(site.stack.ports.firestore, `webrtc_sessions/${sessionId}/ice_candidates/${sender}`)) === undefined ? true : undefined),
        30_000,
      );
    }
    console.log(
      `      benchmark call: dial to ringing ${rangAt - dialedAt} ms, ringing to both connected (incl. answer click) ${connectedAt - rangAt} ms`,
    );
  });
});
