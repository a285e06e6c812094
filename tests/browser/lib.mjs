// Shared helpers of the headless-Chromium scripts: launch the system Chromium (never a downloaded one)
// with a fresh profile, and record console errors and every request that is not file: or data:.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const CHROMIUM = process.env.DANNSCOPE_CHROMIUM || '/usr/bin/chromium';

export const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch Chromium with `extra` flags; returns { browser, profile }. */
export async function launch(extra = []) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dannscope-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    args: [...BASE_FLAGS, `--user-data-dir=${profile}`, ...extra],
    defaultViewport: { width: 1400, height: 860, deviceScaleFactor: 1 },
  });
  return { browser, profile };
}

/** Close the browser and remove its profile folder. */
export async function close({ browser, profile }) {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

/** Open a page that records problems into the returned `problems` array. */
export async function watchedPage(browser) {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!/^(file|data|about):/.test(u)) problems.push(`network request: ${u}`);
  });
  page.on('requestfailed', (r) => {
    if (!r.url().startsWith('data:')) problems.push(`failed request: ${r.url().slice(0, 120)}`);
  });
  return { page, problems };
}
