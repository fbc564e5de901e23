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

let shot = 0;
/** Saves a full-page screenshot and the raw HTML of the current page. */
export async function capture(page, name) {
  shot += 1;
  const file = `${String(shot).padStart(2, '0')}-${name}`;
  await page.screenshot({ path: join(SCREENSHOTS, `${file}.png`), fullPage: true });
  // The served document as sent (not the live DOM), for the HTML validator.
  const response = await page.context().request.get(page.url());
  writeFileSync(join(HTML, `${file}.html`), await response.text());
}

/** Every visible form control has a label (or an accessible name). */
export async function unlabelledControls(page) {
  return page.$$eval('input, select, textarea', (controls) =>
    controls
      .filter((c) => !['hidden', 'submit', 'button'].includes(c.type))
      .filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label'))
      .map((c) => c.outerHTML));
}
