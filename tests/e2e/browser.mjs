// Shared set-up for the browser tests: Debian's Chromium driven by
// playwright-core (a test tool's own browser download does not work here).
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8080';
export const ARTIFACTS = process.env.ARTIFACTS ?? new URL('../artifacts', import.meta.url).pathname;
export const SCREENSHOTS = join(ARTIFACTS, 'screenshots');
export const HTML = join(ARTIFACTS, 'html');
mkdirSync(SCREENSHOTS, { recursive: true });
mkdirSync(HTML, { recursive: true });

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // Playwright runs it headless in a fresh temporary profile of its own.
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run',
    ],
  });
  return browser;
}

/** Each page's last main-frame document response, kept for `capture`. */
const documents = new WeakMap();

/**
 * A new page in `context` whose documents `capture` can save: every
 * main-frame navigation's response is kept, a redirect's replaced by the
 * document it leads to.
 */
export async function newPage(context) {
  const page = await context.newPage();
  page.on('response', (response) => {
    const redirect = response.status() >= 300 && response.status() < 400;
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame() && !redirect) {
      documents.set(page, response);
    }
  });
  return page;
}

let shot = 0;
/**
 * Saves a full-page screenshot, and for the HTML validator the document the
 * browser received for the current page, as sent (not the live DOM, and not
 * fetched again: a page reached by POST has no GET twin to stand in for it).
 * Returns that HTML.
 */
export async function capture(page, name) {
  shot += 1;
  const file = `${String(shot).padStart(2, '0')}-${name}`;
  await page.waitForLoadState('load');
  await page.screenshot({ path: join(SCREENSHOTS, `${file}.png`), fullPage: true });
  const response = documents.get(page);
  if (!response) throw new Error(`${name}: no document seen; open the page with newPage()`);
  if (response.url() !== page.url()) {
    throw new Error(`${name}: the last document is ${response.url()}, the page shows ${page.url()}`);
  }
  const html = await response.text();
  writeFileSync(join(HTML, `${file}.html`), html);
  return html;
}

/** Every visible form control has a label (or an accessible name). */
export async function unlabelledControls(page) {
  return page.$$eval('input, select, textarea', (controls) =>
    controls
      .filter((c) => !['hidden', 'submit', 'button'].includes(c.type))
      .filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label'))
      .map((c) => c.outerHTML));
}
