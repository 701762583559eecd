import { strict as assert } from "node:assert";
import type { Page } from "playwright-core";
import type { TurnCredentials } from "@webrtc-lite/contract";
import type { TestBrowser } from "./chromium";

/** One signed-in call page (web/selftest/call.html) and what its console said about Firestore's streams. */
export interface CallPage {
  name: string;
  page: Page;
  uid: string;
  /** Firestore SDK lines about broken or backed-off streams, and page errors. */
  streamTrouble: string[];
}

// What the Firestore web SDK logs (at debug level) when a stream breaks and it backs off; the
// Firestore emulator's stream flake ("Received message larger than max") shows up as such a break.
const STREAM_TROUBLE = /larger than max|transport errored|close with error|Backing off for [1-9]\d{3,} ms/i;

/** TURN credentials a test minted, and the callable URL whose requests a page gets them from (no Functions emulator). */
export interface PageCredentials {
  callableUrl: string;
  response: TurnCredentials;
}

/** Answers a page's `getTurnCredentials` calls with `credentials` (minted by the test) instead of a Functions emulator. */
async function serveCredentials(page: Page, callableUrl: string, credentials: TurnCredentials): Promise<void> {
  const cors = {
    "access-control-allow-origin": "*",
    "access-control-allow-headers": "authorization, content-type, x-firebase-appcheck, x-firebase-gmpid, x-firebase-client, x-client-version",
    "access-control-allow-methods": "POST, OPTIONS",
  };
  await page.route(callableUrl, (route) =>
    route.request().method() === "OPTIONS"
      ? route.fulfill({ status: 204, headers: cors })
      : route.fulfill({ status: 200, headers: { ...cors, "content-type": "application/json" }, body: JSON.stringify({ result: credentials }) }),
  );
}

/**
 * Opens call.html in a fresh browser context (a new anonymous user) and waits until it can call;
 * `beforeLoad` may prepare the page first (e.g. `page.addInitScript`).
 */
export async function openCallPage(
  browser: TestBrowser,
  url: string,
  name: string,
  credentials?: PageCredentials,
  beforeLoad?: (page: Page) => Promise<void>,
): Promise<CallPage> {
  const page = await (await browser.newContext()).newPage();
  await beforeLoad?.(page);
  const streamTrouble: string[] = [];
  page.on("console", (message) => {
    if (STREAM_TROUBLE.test(message.text())) streamTrouble.push(message.text().slice(0, 300));
  });
  page.on("pageerror", (error) => streamTrouble.push(`page error: ${error.message}`));
  if (credentials) await serveCredentials(page, credentials.callableUrl, credentials.response);
  await page.goto(`${url}${url.includes("?") ? "&" : "?"}firestoreLog=debug`);
  await page.waitForSelector("#call:enabled", { timeout: 30_000 });
  const uid = (await page.textContent("#me")) ?? "";
  assert.match(uid, /^[A-Za-z0-9]{20,128}$/);
  return { name, page, uid, streamTrouble };
}

/**
 * Runs one step of a call and, if it fails, says whether a Firestore stream broke meanwhile:
 * the emulator flake is named as such, and a failure without it is reported as a real one.
 */
export async function step<T>(what: string, pages: CallPage[], action: () => Promise<T>, extraTrouble: () => string[] = () => []): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const trouble = [...pages.flatMap((call) => call.streamTrouble.map((line) => `${call.name}: ${line}`)), ...extraTrouble()];
    const errors = await Promise.all(pages.map(async (call) => `${call.name}: ${(await call.page.textContent("#error").catch(() => "")) || "-"}`));
    const verdict =
      trouble.length > 0
        ? `A Firestore listener stream broke meanwhile (the Firestore emulator's stream flake, not a client bug):\n  ${trouble.slice(0, 8).join("\n  ")}`
        : "No Firestore stream broke meanwhile: this is a real failure.";
    throw new Error(`${what} failed: ${error instanceof Error ? error.message : String(error)}\n${verdict}\nPage errors: ${errors.join("; ")}`);
  }
}

/** Waits until the page shows the call in `phase`. */
export async function phase(call: CallPage, expected: string, timeoutMs = 30_000): Promise<void> {
  await call.page.waitForSelector(`#state[data-phase="${expected}"]`, { timeout: timeoutMs });
}

/** An epoch-ms stamp the page wrote (`data-<name>` on `selector`). */
export async function stamp(call: CallPage, selector: string, name: string): Promise<number> {
  const value = Number(await call.page.getAttribute(selector, `data-${name}`));
  assert.ok(value > 0, `${call.name}'s ${selector} has no data-${name}`);
  return value;
}

/** Timings of one call, in ms, from the pages' own stamps. */
export interface CallTimings {
  dialToRing: number;
  /** From the click to the create batch leaving the caller's page (credentials, peer connection, offer). */
  dialToCreate: number;
  /** From the caller's create batch committing (its page shows `ringing`) to the callee's page showing the call. */
  createToRing: number;
  ringToConnected: number;
  hangUpToOtherSide: number;
}

/** Sends `text` from one page's data channel and waits (`timeoutMs`, 10 s by default) for it on the other. */
export async function sendMessage(from: CallPage, to: CallPage, text: string, timeoutMs = 10_000): Promise<void> {
  await from.page.fill("#message", text);
  await from.page.click("#send:enabled");
  await to.page.locator("#messages li", { hasText: text }).waitFor({ timeout: timeoutMs });
}

/** What a test may check at two moments of a call. */
export interface CallHooks {
  /** As soon as the callee's page shows the call, before it is answered. */
  ringing?(sessionId: string): Promise<void>;
  /** Right after the callee's page clicked "Answer", before the test waits for both sides to connect. */
  answered?(sessionId: string): Promise<void>;
  /** Once both sides are connected and data went both ways, before the hang-up. */
  connected?(sessionId: string): Promise<void>;
  /** Checks what each page listed under warnings (one line each) once both have ended; without it, neither page may have warned. */
  warnings?(shown: Record<"caller" | "callee", string[]>): void;
}

/**
 * One full call between two pages: `caller` dials, `callee` sees it ring and answers, both
 * connect relay to relay, a message goes each way, `caller` hangs up and both show
 * `ended (hangup)`. Returns the session id and the timings from the pages' stamps.
 */
export async function placeCall(
  caller: CallPage,
  callee: CallPage,
  hooks: CallHooks = {},
  extraTrouble: () => string[] = () => [],
): Promise<{ sessionId: string; timings: CallTimings }> {
  const pages = [caller, callee];
  await caller.page.fill("#callee", callee.uid);
  await caller.page.click("#call");
  const ringing = callee.page.locator(`#incoming li[data-caller="${caller.uid}"]`);
  await step("ringing on the callee's page", pages, () => ringing.waitFor({ timeout: 20_000 }), extraTrouble);
  const sessionId = (await ringing.getAttribute("data-session")) ?? "";
  const rangAt = Number(await ringing.getAttribute("data-seen-at"));
  await hooks.ringing?.(sessionId);
  const dialedAt = await stamp(caller, "#call", "clicked-at");
  await step("the caller's page showing the session", pages, () => phase(caller, "ringing"), extraTrouble);
  const createdAt = await stamp(caller, "#state", "ringing-at");
  const createSentAt = await stamp(caller, "#call", "create-sent-at");
  assert.equal(await caller.page.textContent("#session"), sessionId);

  await ringing.locator("button.answer").click();
  await hooks.answered?.(sessionId);
  await step("both sides connecting", pages, () => Promise.all([phase(caller, "connected"), phase(callee, "connected")]), extraTrouble);
  const connectedAt = Math.max(await stamp(caller, "#state", "connected-at"), await stamp(callee, "#state", "connected-at"));
  for (const { page } of pages) {
    await page.waitForSelector("#path:not(:empty)");
    assert.match((await page.textContent("#path")) ?? "", /^relay to relay \((udp|tcp)\)$/);
  }
  await sendMessage(caller, callee, "hello callee");
  await sendMessage(callee, caller, "hello caller");
  await hooks.connected?.(sessionId);

  await caller.page.click("#hangup");
  await step("both sides ending", pages, () => Promise.all([phase(caller, "ended"), phase(callee, "ended")]), extraTrouble);
  assert.equal(await caller.page.textContent("#state"), "ended (hangup)");
  assert.equal(await callee.page.textContent("#state"), "ended (hangup)");
  const hungUpAt = await stamp(caller, "#hangup", "clicked-at");
  const otherEndedAt = await stamp(callee, "#state", "ended-at");
  const [callerWarnings, calleeWarnings] = await Promise.all(pages.map((call) => call.page.locator("#warnings li").allTextContents()));
  if (hooks.warnings) hooks.warnings({ caller: callerWarnings, callee: calleeWarnings });
  else assert.deepEqual({ caller: callerWarnings, callee: calleeWarnings }, { caller: [], callee: [] }, "a page warned");
  return { sessionId, timings: { dialToRing: rangAt - dialedAt, dialToCreate: createSentAt - dialedAt, createToRing: rangAt - createdAt, ringToConnected: connectedAt - rangAt, hangUpToOtherSide: otherEndedAt - hungUpAt } };
}

/** The line a browser test prints with its timings. */
export function describeTimings(label: string, timings: CallTimings): string {
  return `      benchmark ${label}: dial→ring ${timings.dialToRing} ms (dial→create sent ${timings.dialToCreate} ms, create committed→ring ${timings.createToRing} ms), ring→both connected (incl. answer click) ${timings.ringToConnected} ms, hang-up→other side ended ${timings.hangUpToOtherSide} ms`;
}

/** A line saying how often the pages' Firestore streams broke and recovered during a passing call (the Firestore emulator's stream flake). */
export function describeStreamTrouble(pages: CallPage[]): string {
  const counts = pages.map((call) => `${call.name} ${call.streamTrouble.length}`).join(", ");
  const first = pages.flatMap((call) => call.streamTrouble)[0];
  return `      Firestore stream breaks seen by the pages: ${counts}${first ? ` (first: ${first})` : ""}`;
}
