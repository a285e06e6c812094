// Drives the explore page in headless Chromium and checks it against what Rust computed.
// Usage: node explore_check.mjs <page.html> <expected.json> <screenshot dir>
// Runs the page twice at 1280 × 800: with the renderer the page picks, and with the other one
// (`#r=gl` or `#r=2d`).
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

const rect = (id) => {
  const r = document.getElementById(id).getBoundingClientRect();
  return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height };
};
// Points whose centre lies inside the map's rectangle.
const inView = () => {
  const E = window.dannscopeExplore;
  const m = document.getElementById('map').getBoundingClientRect();
  let n = 0;
  for (let i = 0; i < E.n; i++) {
    const [x, y] = E.screenOf(i);
    if (x >= m.left && x <= m.right && y >= m.top && y <= m.bottom) n++;
  }
  return n;
};
const overlap = (a, b) => !(a.left >= b.right || b.left >= a.right || a.top >= b.bottom || b.top >= a.bottom);

// The points canvas as RGBA (drawn in full just before, so WebGL's buffer is still there).
async function pixels(page) {
  return page.evaluate(() => {
    window.dannscopeExplore.draw(true);
    const c = document.getElementById('points');
    const t = document.createElement('canvas');
    t.width = c.width;
    t.height = c.height;
    const ctx = t.getContext('2d');
    ctx.drawImage(c, 0, 0);
    return { w: t.width, h: t.height, data: Array.from(ctx.getImageData(0, 0, t.width, t.height).data) };
  });
}

// Source points are filled discs, target points open triangles: at a zoom where markers are large,
// an isolated source point's centre is coloured, an isolated target point's centre is background
// with the outline around it.
async function checkShapes(page, label) {
  const v = await page.evaluate(() => window.dannscopeExplore.view());
  await page.evaluate((v) => {
    const E = window.dannscopeExplore;
    E.setView(v.cx, v.cy, v.scale0 * 6);
    E.draw(true);
  }, v);
  const info = await page.evaluate(() => {
    const E = window.dannscopeExplore;
    const m = E.mapRect();
    const pts = [];
    for (let i = 0; i < E.n; i++) {
      const [x, y] = E.screenOf(i);
      pts.push([x - m.left, y - m.top]);
    }
    return { pts, r: E.markerRadius(), w: m.width, h: m.height };
  });
  check(info.r >= 6, `markers grow when zoomed (radius ${info.r})`);
  const img = await pixels(page);
  const at = (x, y) => {
    const o = 4 * (Math.round(y) * img.w + Math.round(x));
    return img.data.slice(o, o + 3);
  };
  const white = (c) => c[0] > 245 && c[1] > 245 && c[2] > 245;
  const isolated = (i) => {
    const [x, y] = info.pts[i];
    if (x < 30 || y < 30 || x > info.w - 30 || y > info.h - 30) return false;
    return info.pts.every(([u, w], j) => j === i || Math.hypot(u - x, w - y) > 3 * info.r);
  };
  const found = { source: 0, target: 0 };
  for (let i = 0; i < info.pts.length; i++) {
    if (!isolated(i)) continue;
    const [x, y] = info.pts[i];
    const target = i >= want.n_source;
    // Any coloured pixel within the triangle's circumradius (1.25 r) around the centre.
    let ink = 0;
    for (let dy = -1.3 * info.r; dy <= 1.3 * info.r; dy++) {
      for (let dx = -1.3 * info.r; dx <= 1.3 * info.r; dx++) if (!white(at(x + dx, y + dy))) ink++;
    }
    check(ink > 0, `point ${i} is drawn`);
    check(white(at(x, y)) === target, `point ${i} (${target ? 'target' : 'source'}) centre ${at(x, y)}`);
    found[target ? 'target' : 'source']++;
  }
  check(found.source > 0 && found.target > 0, `isolated points of both domains at 6x (${JSON.stringify(found)})`);
  await page.screenshot({ path: path.join(shotDir, `explore_zoom6_${label}.png`) });
  await page.evaluate((v) => {
    window.dannscopeExplore.setView(v.cx, v.cy, v.scale);
    window.dannscopeExplore.draw(true);
  }, v);
  return found;
}

async function pass(label, flags, hash) {
  const session = await launch(flags);
  const { page, problems } = await watchedPage(session.browser);
  await page.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
  const result = { pass: label };
  try {
    await ready(page, hash);
    result.renderer = await page.evaluate(() => window.dannscopeExplore.renderer);
    check((await visible(page)) === want.n, `all ${want.n} points visible`);

    // A legend on the map names the two shapes: a filled disc for source, an open triangle for target.
    const legend = await page.evaluate(() => {
      const l = document.getElementById('legend');
      const r = l.getBoundingClientRect();
      const m = document.getElementById('map').getBoundingClientRect();
      return {
        source: l.querySelector('[data-domain=source]').textContent.trim(),
        target: l.querySelector('[data-domain=target]').textContent.trim(),
        disc: !!l.querySelector('[data-domain=source] circle[fill]:not([fill=none])'),
        triangle: l.querySelector('[data-domain=target] polygon')?.getAttribute('fill') === 'none',
        inside: r.width > 0 && r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom,
      };
    });
    check(legend.inside, 'legend shown inside the map');
    check(legend.source === `source · ${want.source_name}` && legend.target === `target · ${want.target_name}`,
      `legend names ${legend.source} / ${legend.target}`);
    check(legend.disc && legend.triangle, 'legend: filled disc for source, open triangle for target');

    // Marker size follows the point count as in the static figures (a third of the grid spacing
    // over the map's shorter side, 2 to 9 px) and grows with the zoom.
    const map0 = await page.evaluate(rect, 'map');
    const r0 = await page.evaluate(() => window.dannscopeExplore.markerRadius());
    const spacing = Math.min(map0.width, map0.height) / Math.sqrt(want.n);
    const rWant = Math.min(9, Math.max(2, Math.round(spacing * 0.3)));
    check(r0 === rWant, `marker radius ${r0} = ${rWant} for ${want.n} points`);
    result.shapes = await checkShapes(page, label);

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
    const shownBefore = await page.evaluate(inView);
    await page.mouse.click(x, y);
    await page.waitForSelector('#nn-source');
    // The panel docks beside the map: the map shrinks, its canvas follows, nothing overlaps, and
    // the clicked point stays in view.
    const lay = await page.evaluate((i) => {
      const r = (id) => {
        const b = document.getElementById(id).getBoundingClientRect();
        return { left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width, height: b.height };
      };
      return { map: r('map'), panel: r('panel'), side: r('side'), canvas: document.getElementById('points').width,
        vw: innerWidth, at: window.dannscopeExplore.screenOf(i) };
    }, want.point);
    check(!overlap(lay.map, lay.panel) && !overlap(lay.side, lay.panel), 'panel beside the map, not over it');
    check(lay.panel.right <= lay.vw + 0.5 && lay.panel.width >= 300, 'panel inside the window');
    check(lay.map.width < map0.width - 300, `map narrower with the panel (${map0.width} -> ${lay.map.width})`);
    check(lay.canvas === Math.round(lay.map.width), `map canvas follows the map (${lay.canvas} px)`);
    // The map's content shrinks with it: what was in view stays in view (a margin may move a few
    // points when the clicked one is brought away from the edge).
    const shownAfter = await page.evaluate(inView);
    check(shownBefore === want.n && shownAfter >= 0.99 * shownBefore, `points in view ${shownBefore} -> ${shownAfter}`);
    const [ax, ay] = lay.at;
    check(ax > lay.map.left && ax < lay.map.right && ay > lay.map.top && ay < lay.map.bottom, 'clicked point in view');
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

    // Lasso selection: a triangle drawn in lasso mode selects the points inside it (counted on the
    // map as it is while drawing: the panel that opens afterwards resizes the map).
    await page.click('.modes button[data-mode="lasso"]');
    const tri = [[box.x0, box.y1], [(box.x0 + box.x1) / 2, box.y0], [box.x1, box.y1]];
    const inside = await page.evaluate((tri) => {
      const E = window.dannscopeExplore;
      const inTri = (x, y) => {
        let ins = false;
        for (let a = 0, b = tri.length - 1; a < tri.length; b = a++) {
          const [xa, ya] = tri[a], [xb, yb] = tri[b];
          if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) ins = !ins;
        }
        return ins;
      };
      let n = 0;
      for (let i = 0; i < E.n; i++) if (inTri(...E.screenOf(i))) n++;
      return n;
    }, tri);
    await page.mouse.move(...tri[0]);
    await page.mouse.down();
    for (const p of [tri[1], tri[2], tri[0]]) await page.mouse.move(...p, { steps: 10 });
    await page.mouse.up();
    await page.waitForSelector('#sel-counts');
    const lasso = { inside, head: await page.evaluate(() => document.querySelector('#panel-body h2').textContent) };
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

    // Zooming grew the markers, by the square root of the zoom.
    const z = await page.evaluate(() => {
      const E = window.dannscopeExplore;
      const v = E.view();
      return { r: E.markerRadius(), zoom: v.scale / v.scale0 };
    });
    const mapNow = await page.evaluate(rect, 'map');
    const rBase = Math.min(9, Math.max(2, Math.round((Math.min(mapNow.width, mapNow.height) / Math.sqrt(want.n)) * 0.3)));
    check(z.zoom > 1.5 && Math.abs(z.r - Math.min(16, rBase * Math.sqrt(z.zoom))) < 1e-6,
      `marker radius ${z.r} at zoom ${z.zoom}`);

    // A narrow window: the panel goes below the map, still without overlapping it.
    await page.setViewport({ width: 820, height: 800, deviceScaleFactor: 1 });
    // The layout changes at once; the canvas follows on the window's resize event.
    await page.waitForFunction(() => {
      const w = document.getElementById('map').getBoundingClientRect().width;
      return w < 700 && document.getElementById('points').width === Math.round(w);
    }, { timeout: 3000 }).catch(() => {});
    const narrow = await page.evaluate(() => ({ map: document.getElementById('map').getBoundingClientRect().toJSON(),
      panel: document.getElementById('panel').getBoundingClientRect().toJSON(), canvas: document.getElementById('points').width }));
    check(!overlap(narrow.map, narrow.panel) && narrow.panel.top >= narrow.map.bottom - 0.5, 'narrow: panel below the map');
    check(narrow.canvas === Math.round(narrow.map.width), 'narrow: map canvas follows the map');
    await page.screenshot({ path: path.join(shotDir, `explore_narrow_${label}.png`) });

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
