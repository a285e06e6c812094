// Renders a report's index.html in headless Chromium at the given viewport sizes and checks what a reader
// sees: no horizontal overflow of the page body, the study summary and every verdict present, no text
// smaller than 11 px (computed styles of every element with its own text), no console errors and no
// network requests. Prints one JSON line per size; exits 1 on a problem.
//
//   node report_check.mjs REPORT/index.html [SHOT_DIR] [WxH ...]
import path from 'node:path';
import { launch, close, watchedPage } from './lib.mjs';

const [file, shots, ...sizes] = process.argv.slice(2);
if (!file) {
  console.error('usage: node report_check.mjs REPORT/index.html [SHOT_DIR] [WxH ...]');
  process.exit(2);
}
const viewports = (sizes.length ? sizes : ['1280x800', '1920x1080']).map((s) => {
  const [width, height] = s.split('x').map(Number);
  return { width, height };
});

const ctx = await launch();
let failed = false;
try {
  for (const vp of viewports) {
    const { page, problems } = await watchedPage(ctx.browser);
    await page.setViewport({ ...vp, deviceScaleFactor: 1 });
    await page.goto('file://' + path.resolve(file), { waitUntil: 'load' });
    const r = await page.evaluate(() => {
      const doc = document.documentElement;
      const overflow = Math.max(doc.scrollWidth, document.body.scrollWidth) - window.innerWidth;
      let smallest = Infinity;
      const small = [];
      for (const el of document.body.querySelectorAll('*')) {
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
        if (!own || el.closest('svg')) continue;
        const cs = getComputedStyle(el);
        if (cs.display === 'none' || cs.visibility === 'hidden') continue;
        const px = parseFloat(cs.fontSize);
        smallest = Math.min(smallest, px);
        if (px < 11 && small.length < 5) small.push(`${el.tagName.toLowerCase()}.${el.className}: ${px}px`);
      }
      const summary = document.querySelector('header p.summary');
      const verdicts = [...document.querySelectorAll('article p.verdict')].map((p) => p.textContent);
      const top = summary ? summary.getBoundingClientRect().top : null;
      return { overflow, smallest, small, summary: summary ? summary.textContent : null, summaryTop: top, verdicts };
    });
    if (shots) await page.screenshot({ path: path.join(shots, `report_${vp.width}x${vp.height}.png`) });
    const bad = [...problems];
    if (r.overflow > 0) bad.push(`the page is ${r.overflow}px wider than the ${vp.width}px window`);
    if (r.small.length) bad.push(`text under 11px: ${r.small.join('; ')}`);
    if (!r.summary) bad.push('no study summary in the header');
    else if (r.summaryTop > vp.height) bad.push(`the study summary starts below the first screen (${r.summaryTop}px)`);
    console.log(JSON.stringify({ viewport: `${vp.width}x${vp.height}`, ...r, problems: bad }));
    if (bad.length) failed = true;
    await page.close();
  }
} finally {
  await close(ctx);
}
process.exit(failed ? 1 : 0);
