// Drives the explore page in headless Chromium and checks it against what Rust computed.
// Usage: node explore_check.mjs <page.html> <expected.json> <screenshot dir>
// Runs the page twice: with the renderer the page picks, and with the other one (`#r=gl` or `#r=2d`).
// Prints one JSON line per pass and exits non-zero on the first failed check.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, close, watchedPage } from './lib.mjs';

const [htmlPath, expectedPath, shotDir] = process.argv.slice(2);
const want = JSON.parse(fs.readFileSync(expectedPath, 'utf8'));
const url = pathToFileURL(path.resolve(htmlPath)).href;
fs.mkdirSync(shotDir, { recursive: true });

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function ready(page, hash = '') {
  await page.goto(url + hash, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
}

async function visible(page) {
  return page.evaluate(() => window.dannscopeExplore.visibleCount());
}

async function thumbsLoaded(page, sel) {
  await page.waitForFunction(
    (s) => [...document.querySelectorAll(s + ' canvas.thumb')].every((c) => c.dataset.loaded === '1'),
    { timeout: 20000 },
    sel,
  );
}

async function pass(label, flags, hash) {
  const session = await launch(flags);
  const { page, problems } = await watchedPage(session.browser);
  const result = { pass: label };
  try {
    await ready(page, hash);
    result.renderer = await page.evaluate(() => window.dannscopeExplore.renderer);
    check((await visible(page)) === want.n, `all ${want.n} points visible`);

    // Hover the known point: the card shows its class and path.
    const [x, y] = await page.evaluate((i) => window.dannscopeExplore.screenOf(i), want.point);
    await page.mouse.move(x - 30, y - 30);
    await page.mouse.move(x, y, { steps: 4 });
    await page.waitForFunction((i) => {
      const c = document.getElementById('card');
      return !c.hidden && c.dataset.index === String(i);
    }, { timeout: 5000 }, want.point);
    const card = await page.evaluate(() => {
      const f = (k) => document.querySelector(`#card [data-field="${k}"]`)?.textContent;
      return { cls: f('class'), path: f('path'), pred: f('pred'), result: f('result'), disc: f('disc') };
    });
    check(card.cls === want.class, `card class ${card.cls} = ${want.class}`);
    check(card.path === want.path, `card path ${card.path} = ${want.path}`);
    check(card.disc === want.disc, `card discriminator ${card.disc} = ${want.disc}`);
    if (want.has_thumb) await thumbsLoaded(page, '#card');
    await page.screenshot({ path: path.join(shotDir, `explore_hover_${label}.png`) });

    // Click it: the neighbour lists are the ones computed in Rust.
    await page.mouse.click(x, y);
    await page.waitForSelector('#nn-source');
    const nn = await page.evaluate(() => ({
      source: [...document.querySelectorAll('#nn-source li')].map((li) => Number(li.dataset.index)),
      target: [...document.querySelectorAll('#nn-target li')].map((li) => Number(li.dataset.index)),
    }));
    check(same(nn.source, want.nn_source), `source neighbours ${nn.source} = ${want.nn_source}`);
    check(same(nn.target, want.nn_target), `target neighbours ${nn.target} = ${want.nn_target}`);
    await thumbsLoaded(page, '#panel');
    await page.mouse.move(5, 5);
    await page.screenshot({ path: path.join(shotDir, `explore_neighbours_${label}.png`) });

    // The view state is in the hash: reloading it brings the selected point back.
    await page.waitForFunction((i) => location.hash.includes(`p=${i}`), { timeout: 3000 }, want.point);
    const hash1 = await page.evaluate(() => location.hash);
    const view1 = await page.evaluate(() => window.dannscopeExplore.view());
    await page.evaluate(() => document.querySelector('#color-by').value);
    await page.select('#color-by', 'disc');
    await page.waitForFunction(() => location.hash.includes('c=disc'), { timeout: 3000 });

    // Filters.
    await page.click('#f-target');
    check((await visible(page)) === want.n_source, 'target hidden: source count');
    await page.click('#f-target');
    await page.click('#cls-none');
    await page.click(`#classes input[data-class="${want.filter_class}"]`);
    check((await visible(page)) === want.n_filter_class, 'one class shown');
    await page.click('#cls-all');
    await page.click('input[name=rw][value=wrong]');
    check((await visible(page)) === want.n_wrong, 'wrong only');
    await page.click('input[name=rw][value=all]');
    check((await visible(page)) === want.n, 'all again');
    await page.waitForFunction(() => !location.hash.includes('rw='), { timeout: 3000 });

    // Reload with the saved hash: same point selected, same view.
    await page.goto('about:blank');
    await ready(page, hash1);
    await page.waitForSelector('#nn-source');
    const reloaded = await page.evaluate(() => document.getElementById('panel-body').dataset.index);
    check(reloaded === String(want.point), 'selected point restored from the hash');
    const view2 = await page.evaluate(() => window.dannscopeExplore.view());
    const off = Math.hypot(view2.cx - view1.cx, view2.cy - view1.cy) * view1.scale;
    check(off < 0.5 && Math.abs(view2.scale / view1.scale - 1) < 1e-4, `view restored from the hash (${off} px)`);

    // Box selection (shift-drag) over the middle of the map; the panel counts match the points inside.
    const box = await page.evaluate(() => {
      const r = document.getElementById('map').getBoundingClientRect();
      return { x0: r.left + r.width * 0.3, y0: r.top + r.height * 0.3, x1: r.left + r.width * 0.62, y1: r.top + r.height * 0.7 };
    });
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x0, box.y0);
    await page.mouse.down();
    await page.mouse.move(box.x1, box.y1, { steps: 8 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await page.waitForSelector('#sel-counts');
    const sel = await page.evaluate((b) => {
      const E = window.dannscopeExplore;
      let inside = 0;
      for (let i = 0; i < E.n; i++) {
        const [x, y] = E.screenOf(i);
        if (x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1) inside++;
      }
      const rows = [...document.querySelectorAll('#sel-counts tr[data-class]')];
      const total = rows.reduce((s, tr) => s + Number(tr.children[1].textContent) + Number(tr.children[2].textContent), 0);
      return { inside, total, cells: document.querySelectorAll('#sel-grid .cell').length };
    }, box);
    result.selected = sel.total;
    check(sel.total > 0 && sel.total === sel.inside, `selection counts ${sel.total} = points in the box ${sel.inside}`);
    check(sel.cells === Math.min(200, sel.total), 'selection grid cells');
    await thumbsLoaded(page, '#sel-grid');
    await page.screenshot({ path: path.join(shotDir, `explore_selection_${label}.png`) });
    await page.keyboard.press('Escape');

    // Lasso selection: a triangle drawn in lasso mode selects the points inside it.
    await page.click('.modes button[data-mode="lasso"]');
    const tri = [[box.x0, box.y1], [(box.x0 + box.x1) / 2, box.y0], [box.x1, box.y1]];
    await page.mouse.move(...tri[0]);
    await page.mouse.down();
    for (const p of [tri[1], tri[2], tri[0]]) await page.mouse.move(...p, { steps: 10 });
    await page.mouse.up();
    await page.waitForSelector('#sel-counts');
    const lasso = await page.evaluate((tri) => {
      const E = window.dannscopeExplore;
      const inTri = (x, y) => {
        let ins = false;
        for (let a = 0, b = tri.length - 1; a < tri.length; b = a++) {
          const [xa, ya] = tri[a], [xb, yb] = tri[b];
          if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) ins = !ins;
        }
        return ins;
      };
      let inside = 0;
      for (let i = 0; i < E.n; i++) if (inTri(...E.screenOf(i))) inside++;
      const head = document.querySelector('#panel-body h2').textContent;
      return { inside, head };
    }, tri);
    // Points within a pixel of the edge may fall either way (the path is sampled while dragging).
    const got = Number(lasso.head.replace(/[^0-9]/g, ''));
    result.lasso = got;
    check(got > 0 && Math.abs(got - lasso.inside) <= Math.max(3, lasso.inside * 0.03), `lasso ${got} ≈ ${lasso.inside}`);
    await page.keyboard.press('Escape');
    await page.click('.modes button[data-mode="pan"]');

    // Wheel zoom keeps the data point under the cursor in place.
    const under = () => page.evaluate(() => {
      const m = document.getElementById('map').getBoundingClientRect();
      const v = window.dannscopeExplore.view();
      const px = m.width * 0.4, py = m.height * 0.45;
      return { x: m.left + px, y: m.top + py, scale: v.scale,
        dx: v.cx + (px - m.width / 2) / v.scale, dy: v.cy - (py - m.height / 2) / v.scale };
    });
    const z0 = await under();
    await page.mouse.move(z0.x, z0.y);
    await page.mouse.wheel({ deltaY: -400 });
    await page.waitForFunction((s) => window.dannscopeExplore.view().scale > s * 1.5, { timeout: 3000 }, z0.scale);
    const z1 = await under();
    const moved = Math.hypot(z1.dx - z0.dx, z1.dy - z0.dy) * z1.scale;
    check(moved < 0.5, `zoom keeps the point under the cursor (moved ${moved} px)`);

    // Search by file name (the name holds markup that must stay text).
    await page.type('#search', want.search);
    await page.waitForSelector('#search-hits li');
    const hits = await page.evaluate(() => [...document.querySelectorAll('#search-hits li')].map((li) => Number(li.dataset.index)));
    check(same(hits, want.search_hits), `search hits ${hits} = ${want.search_hits}`);
    check(await page.evaluate(() => document.querySelectorAll('#panel b, #card b').length === 0), 'markup in names is text');

    check(problems.length === 0, problems.join('; '));
    result.ok = true;
  } catch (e) {
    if (problems.length) console.error(`problems on the page: ${problems.join('; ')}`);
    throw e;
  } finally {
    await close(session);
  }
  console.log(JSON.stringify(result));
  return result;
}

try {
  const first = await pass('default', [], '');
  // Then the other renderer: WebGL (software in headless Chromium, so it must be asked for) or the
  // canvas-2D fallback.
  const other = first.renderer === '2d' ? 'gl' : '2d';
  const second = await pass(other === 'gl' ? 'webgl' : 'canvas2d', [], `#r=${other}`);
  if (second.renderer === first.renderer) console.log(JSON.stringify({ note: `no ${other} renderer in this Chromium` }));
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}
