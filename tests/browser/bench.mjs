// Frame times of pan and zoom on an explore page in headless Chromium (a benchmark, not a test).
// Usage: node bench.mjs <page.html> [extra chromium flags...]
// For each renderer (WebGL, asked for with `#r=gl` since headless Chromium only has software WebGL,
// and the canvas-2D fallback, `#r=2d`) it
// drives 60 frames of panning and 60 of zooming from requestAnimationFrame and reports, per frame,
// the time to draw (JS + GPU work, synchronised by reading one pixel back) and the interval between
// animation frames. Prints one JSON line per renderer and motion.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, close, watchedPage } from './lib.mjs';

const [htmlPath, ...flags] = process.argv.slice(2);
const url = pathToFileURL(path.resolve(htmlPath)).href;

async function measure(page, motion) {
  return page.evaluate(async (motion) => {
    const E = window.dannscopeExplore;
    const v = E.view();
    const draw = [];
    const interval = [];
    let last = null;
    for (let f = 0; f < 61; f++) {
      const ts = await new Promise((r) => requestAnimationFrame(r));
      if (motion === 'pan') E.setView(v.cx + (f * 3) / v.scale, v.cy - (f * 2) / v.scale, v.scale);
      else E.setView(v.cx, v.cy, v.scale * Math.pow(1.04, f));
      const t0 = performance.now();
      E.draw();
      E.sync();
      const t1 = performance.now();
      if (f > 0) {
        draw.push(t1 - t0);
        interval.push(ts - last);
      }
      last = ts;
    }
    const stats = (a) => {
      const s = [...a].sort((x, y) => x - y);
      const mean = a.reduce((x, y) => x + y, 0) / a.length;
      return { mean: +mean.toFixed(2), p50: +s[s.length >> 1].toFixed(2), p95: +s[Math.floor(s.length * 0.95)].toFixed(2) };
    };
    return { frames: draw.length, draw_ms: stats(draw), raf_interval_ms: stats(interval) };
  }, motion);
}

const session = await launch(flags);
try {
  for (const hash of ['#r=gl', '#r=2d']) {
    const { page, problems } = await watchedPage(session.browser);
    const t0 = Date.now();
    await page.goto(url + hash, { waitUntil: 'load', timeout: 120000 });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 120000 });
    const load_s = (Date.now() - t0) / 1000;
    const info = await page.evaluate(() => ({ n: window.dannscopeExplore.n, renderer: window.dannscopeExplore.renderer }));
    for (const motion of ['pan', 'zoom']) {
      const r = await measure(page, motion);
      console.log(JSON.stringify({ file: path.basename(htmlPath), ...info, load_s, motion, ...r }));
    }
    if (problems.length) console.log(JSON.stringify({ problems }));
    await page.close();
  }
} finally {
  await close(session);
}
