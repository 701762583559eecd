import { chromium, type Browser, type BrowserContext } from "playwright-core";

/** Debian's Chromium; no tool may download a browser of its own. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Flags for a quiet, reproducible Chromium. `--allow-loopback-in-peer-connection` lets WebRTC
 * use the loopback interface: without it a machine whose only network is `lo` (a CI container,
 * a test network namespace) gathers no candidates at all, not even relay ones through a TURN
 * server on 127.0.0.1.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--allow-loopback-in-peer-connection",
];

/** A Chromium with a throw-away profile; each context is a separate, fresh browser identity. */
export interface TestBrowser {
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Launches Debian's Chromium through playwright-core. Playwright gives it a fresh temporary
 * user-data-dir and removes it on close; contexts share nothing (cookies, IndexedDB), so two
 * contexts are two signed-in users.
 */
export async function launchChromium(): Promise<TestBrowser> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return {
    newContext: () => browser.newContext({ viewport: { width: 1000, height: 900 } }),
    close: () => browser.close(),
  };
}
