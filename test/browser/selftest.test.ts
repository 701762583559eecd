import { strict as assert } from "node:assert";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { SelfTestResult } from "#selftest/run";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";
import { startSelfTestSite, type SelfTestSite } from "../helpers/selftest-site";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";

const OUTPUT_DIR = join(REPO_ROOT, "test-output");

/** Opens the page (or reuses `page`), clicks the button once and waits for the verdict. */
async function runPage(
  site: SelfTestSite,
  existing?: Page,
): Promise<{ page: Page; result: SelfTestResult; verdict: string; outcome: string; requested: string[] }> {
  const page = existing ?? (await (await site.browser.newContext()).newPage());
  const requested: string[] = [];
  page.on("request", (request) => requested.push(request.url()));
  if (!existing) await page.goto(site.url);
  await page.click("#run:enabled");
  await page.waitForSelector("#verdict[data-outcome]", { timeout: 40_000 });
  const result = await page.evaluate(() => (window as { selfTestResult?: SelfTestResult }).selfTestResult!);
  const verdict = (await page.textContent("#verdict")) ?? "";
  const outcome = (await page.getAttribute("#verdict", "data-outcome")) ?? "";
  return { page, result, verdict, outcome, requested };
}

async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  const path = join(OUTPUT_DIR, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

describe("browser self-test page through a real coturn", function () {
  this.timeout(180_000);
  const secret = newSecret();
  let site: SelfTestSite;
  let run: Awaited<ReturnType<typeof runPage>>;

  before(async () => {
    site = await startSelfTestSite({ coturnSecret: secret, functionsSecret: secret });
    run = await runPage(site);
  });
  after(async () => {
    await site?.stop();
  });

  it("reaches the success verdict", () => {
    assert.equal(run.outcome, "pass", run.verdict);
    assert.equal(run.result.pass, true);
    assert.match(
      run.verdict,
      /^TURN works: the two peers connected through the relay \(127\.0\.0\.1:\d+, (udp|tcp) to the TURN server\) and exchanged data with a round-trip time of \d+\.\d ms\.$/,
    );
  });

  it("connects relay to relay, through the coturn it started", () => {
    const pair = run.result.selectedPair!;
    assert.equal(pair.localType, "relay");
    assert.equal(pair.remoteType, "relay");
    assert.match(pair.localAddress, /^127\.0\.0\.1:\d+$/);
    assert.ok(["udp", "tcp"].includes(pair.protocol), pair.protocol);
  });

  it("shows only relay candidates, from both peers, in the table", async () => {
    const rows = await run.page.$$eval("#candidates tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    assert.ok(rows.length >= 2, `expected candidates from both peers, got ${JSON.stringify(rows)}`);
    assert.deepEqual([...new Set(rows.map((row) => row[0]))].sort(), ["A", "B"]);
    for (const [, type, protocol, address, ms] of rows) {
      assert.equal(type, "relay");
      assert.ok(["udp", "tcp"].includes(protocol), protocol);
      assert.match(address, /^127\.0\.0\.1:\d+$/);
      assert.ok(Number(ms) >= 0, ms);
    }
    assert.equal(rows.length, run.result.candidates.length);
  });

  it("loads and calls nothing but the emulators on loopback", () => {
    const origins = [...new Set(run.requested.map((url) => new URL(url).origin))].sort();
    const { auth, functions, hosting } = site.stack.ports;
    assert.deepEqual(origins, [auth, functions, hosting].sort().map((port) => `http://127.0.0.1:${port}`));
  });

  it("never shows the TURN credential on the page", async () => {
    const text = (await run.page.textContent("body")) ?? "";
    assert.ok(!text.includes(secret), "the shared secret is on the page");
    // A credential is base64(HMAC-SHA1): 27 characters and one "=".
    assert.doesNotMatch(text, /[A-Za-z0-9+/]{27}=/);
    assert.doesNotMatch(JSON.stringify(run.result), /[A-Za-z0-9+/]{27}=/);
  });

  it("writes a screenshot of the verdict to test-output/", async () => {
    const path = await screenshot(run.page, "selftest-pass.png");
    assert.ok((await stat(path)).size > 10_000, `${path} is too small to show the page`);
  });

  it("serves the call page too, which says in a sentence that it needs the Firestore emulator", async () => {
    const page = await (await site.browser.newContext()).newPage();
    await page.goto(`${site.url}call.html`);
    await page.waitForSelector("#error:not(:empty)");
    assert.equal(
      await page.textContent("#error"),
      "emulators.json names no Firestore emulator: start the emulators with firestore for this page.",
    );
    assert.equal(await page.isDisabled("#call"), true);
  });

  it("prints where the time goes, first run (function cold) and second run (warm) (benchmark)", async () => {
    const second = await runPage(site, run.page);
    assert.equal(second.outcome, "pass", second.verdict);
    for (const [label, t] of [["first run ", run.result.timings], ["second run", second.result.timings]] as const) {
      for (const key of ["signInMs", "credentialsMs", "iceRelayCandidateMs", "iceConnectedMs", "totalConnectedMs", "rttMs"] as const) {
        assert.equal(typeof t[key], "number", `${key} missing from ${JSON.stringify(t)}`);
      }
      console.log(
        `      benchmark selftest ${label}: sign-in ${t.signInMs} ms, credential fetch (callable) ${t.credentialsMs} ms | ` +
          `ICE: first relay candidate ${t.iceRelayCandidateMs} ms, connected ${t.iceConnectedMs} ms | ` +
          `from click: relay candidate ${t.totalRelayCandidateMs} ms, connected ${t.totalConnectedMs} ms | data channel RTT ${t.rttMs} ms`,
      );
    }
  });
});

describe("browser self-test page when the relay does not work", function () {
  this.timeout(180_000);
  let site: SelfTestSite;

  before(async () => {
    site = await startSelfTestSite({ coturnSecret: newSecret(), functionsSecret: newSecret() });
  });
  after(async () => {
    await site?.stop();
  });

  it("shows the bad-credentials sentence when coturn holds another secret", async () => {
    const run = await runPage(site);
    assert.equal(run.outcome, "fail");
    const [udp, tcp] = site.coturn.uris();
    assert.equal(
      run.verdict,
      `The TURN server refused the credentials (401 Unauthorized from ${udp}, ${tcp}). ` +
        "The secret coturn checks (static-auth-secret) is not the one the functions sign with (TURN_SHARED_SECRET), " +
        "or the TURN server's clock is far off.",
    );
    assert.deepEqual(run.result.candidates, []);
    await screenshot(run.page, "selftest-wrong-secret.png");
  });

  it("says no TURN server answered once coturn is gone", async () => {
    await site.coturn.stop();
    const run = await runPage(site);
    assert.equal(run.outcome, "fail");
    assert.match(
      run.verdict,
      /^No TURN server answered (before ICE gathering ended|within 10 s) \(turn:127\.0\.0\.1:\d+\?transport=udp, turn:127\.0\.0\.1:\d+\?transport=tcp\)\. Check that coturn is running and that these addresses and ports \(TURN_URIS\) are reachable from this browser\.$/,
    );
    await screenshot(run.page, "selftest-no-turn.png");
  });
});
