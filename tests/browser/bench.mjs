// Frame times of pan and zoom on an explore page in headless Chromium (a benchmark, not a test).
// Usage: node bench.mjs <page.html> [extra chromium flags...]; BENCH_RENDERERS=2d (or gl, or
// gl,2d, the default) picks the renderers.
// For each renderer (WebGL, asked for with `#r=gl` since headless Chromium only has software WebGL,
// and the canvas-2D fallback, `#r=2d`) it loads the page at 1280 × 800 (load = navigation until the
// page is ready: decoding and first draw), drives 60 frames of panning and 60 of zooming from
// requestAnimationFrame and reports, per frame, the time to draw (JS + GPU work, synchronised by
// reading one pixel back) and the interval between animation frames; then 10 full draws (what the
// page draws once the view rests). Prints one JSON line per renderer and motion.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, close, watchedPage } from './lib.mjs';

const [htmlPath, ...flags] = process.argv.slice(2);
const url = pathToFileURL(path.resolve(htmlPath)).href;

async function measure(page, motion, home) {
  return page.evaluate(async (motion, v) => {
    const E = window.dannscopeExplore;
    // Every motion starts from the view the page opened with.
    E.setView(v.cx, v.cy, v.scale);
    const draw = [];
    const interval = [];
    let last = null;
    let subset = 0;
    // 'full': the view stays and every point is drawn; 'pan' and 'zoom' move it each frame.
    const frames = motion === 'full' ? 11 : 61;
    for (let f = 0; f < frames; f++) {
      const ts = await new Promise((r) => requestAnimationFrame(r));
      if (motion === 'pan') E.setView(v.cx + (f * 3) / v.scale, v.cy - (f * 2) / v.scale, v.scale);
      else if (motion === 'zoom') E.setView(v.cx, v.cy, v.scale * Math.pow(1.04, f));
      const t0 = performance.now();
      E.draw(motion === 'full');
      E.sync();
      const t1 = performance.now();
      if (f > 0) {
        draw.push(t1 - t0);
        interval.push(ts - last);
      }
      last = ts;
      subset = Math.max(subset, E.subset ? E.subset() : 0);
    }
    const stats = (a) => {
      const s = [...a].sort((x, y) => x - y);
      const mean = a.reduce((x, y) => x + y, 0) / a.length;
      return { mean: +mean.toFixed(2), p50: +s[s.length >> 1].toFixed(2), p95: +s[Math.floor(s.length * 0.95)].toFixed(2) };
    };
    return { frames: draw.length, subset, draw_ms: stats(draw), raf_interval_ms: stats(interval) };
  }, motion, home);
}

const session = await launch(flags);
try {
  const renderers = (process.env.BENCH_RENDERERS || 'gl,2d').split(',');
  for (const hash of renderers.map((r) => '#r=' + r)) {
    const { page, problems } = await watchedPage(session.browser);
    await page.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
    const t0 = Date.now();
    await page.goto(url + hash, { waitUntil: 'load', timeout: 120000 });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 120000 });
    const load_s = (Date.now() - t0) / 1000;
    const info = await page.evaluate(() => ({ n: window.dannscopeExplore.n, renderer: window.dannscopeExplore.renderer }));
    const home = await page.evaluate(() => window.dannscopeExplore.view());
    for (const motion of ['pan', 'zoom', 'full']) {
      const r = await measure(page, motion, home);
      console.log(JSON.stringify({ file: path.basename(htmlPath), ...info, load_s, motion, ...r }));
    }
    if (problems.length) console.log(JSON.stringify({ problems }));
    await page.close();
  }
} finally {
  await close(session);
}
