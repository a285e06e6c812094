// dannscope explore page: one offline file, every dot an image.
// Data comes from the script elements written by src/explore (see docs/explore.md for the format).
// Points are drawn by a small WebGL renderer (filled discs for source, open triangles for target,
// the shapes of the static figures) with a canvas-2D fallback that stamps the same markers into an
// ImageData buffer and, on very large maps, draws a seeded subset while the view moves.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- data
  const meta = JSON.parse($('ds-meta').textContent);
  const bin = b64bytes($('ds-bin').textContent);
  function b64bytes(text) {
    const s = atob(text.trim());
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function column(name) {
    const c = meta.columns[name];
    if (!c) return null;
    const T = c[2] === 'f32' ? Float32Array : c[2] === 'u32' ? Uint32Array : Uint8Array;
    return new T(bin.buffer, c[0], c[1]);
  }
  const N = meta.n;
  const coords = column('coords');
  const label = column('label');
  const pred = column('pred');
  const conf = column('conf');
  const disc = column('disc');
  const flags = column('flags');
  const dirOf = column('dir');
  const thumbOf = column('thumb');
  const thumbWH = column('thumb_wh');
  const nnS = column('nn_source');
  const nnSd = column('nn_source_dist');
  const nnT = column('nn_target');
  const nnTd = column('nn_target_dist');
  const kS = meta.k_source;
  const kT = meta.k_target;
  const classes = meta.classes;
  const C = classes.length;
  const NONE = 0xffffffff;
  const isTarget = (i) => (flags[i] & 1) === 1;
  const correct = (i) => pred !== null && pred[i] === label[i];
  const path = (i) => meta.dirs[dirOf[i]] + meta.files[i];
  const domainName = (i) => (isTarget(i) ? meta.target : meta.source);

  function hexRgb(h) {
    const v = parseInt(h.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }
  const classRgb = meta.colors.classes.map(hexRgb);
  const srcRgb = hexRgb(meta.colors.source);
  const tgtRgb = hexRgb(meta.colors.target);
  const rightRgb = hexRgb(meta.colors.right);
  const wrongRgb = hexRgb(meta.colors.wrong);
  const SEQ = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'].map(hexRgb);
  const DIV = [srcRgb, [187, 187, 187], tgtRgb];
  function ramp(stops, t) {
    t = Math.min(1, Math.max(0, t)) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const f = t - k;
    const a = stops[k];
    const b = stops[k + 1];
    return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  }
  const css = (c) => 'rgb(' + c.map(Math.round).join(',') + ')';

  // Bounding box and a uniform grid over the data for picking.
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < N; i++) {
    const x = coords[2 * i], y = coords[2 * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const spanX = Math.max(maxX - minX, 1e-6);
  const spanY = Math.max(maxY - minY, 1e-6);
  const G = Math.max(1, Math.ceil(Math.sqrt(N / 8)));
  const cellStart = new Uint32Array(G * G + 1);
  const cellPts = new Uint32Array(N);
  const cellOf = (v, lo, span) => Math.min(G - 1, Math.max(0, Math.floor(((v - lo) / span) * G)));
  {
    const cell = new Uint32Array(N);
    for (let i = 0; i < N; i++) {
      cell[i] = cellOf(coords[2 * i + 1], minY, spanY) * G + cellOf(coords[2 * i], minX, spanX);
      cellStart[cell[i] + 1]++;
    }
    for (let c = 0; c < G * G; c++) cellStart[c + 1] += cellStart[c];
    const fill = cellStart.slice(0, G * G);
    for (let i = 0; i < N; i++) cellPts[fill[cell[i]]++] = i;
  }

  // ---------------------------------------------------------------- state
  const S = {
    cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, scale: 1,
    color: 'class', src: true, tgt: true, cls: new Uint8Array(C).fill(1), rw: 'all',
    sel: -1, q: '', mode: 'pan', hover: -1, hl: -1,
  };
  let selection = null; // sorted indices of a box/lasso selection
  let searchHits = null; // indices whose file name matches S.q
  let scale0 = 1;
  let forced = null; // renderer forced by the URL hash (r=2d|gl)
  const rgba = new Uint8Array(4 * N); // per point colour; alpha 0 = filtered out
  const packed = new Uint32Array(N); // the same colour blended on white, for the 2-D renderer
  let nVisible = 0;

  function baseColor(i) {
    switch (S.color) {
      case 'domain': return isTarget(i) ? tgtRgb : srcRgb;
      case 'correct': return pred === null ? [150, 150, 150] : correct(i) ? rightRgb : wrongRgb;
      case 'confidence': return conf === null ? [150, 150, 150] : ramp(SEQ, conf[i]);
      case 'disc': return disc === null ? [150, 150, 150] : ramp(DIV, disc[i]);
      default: return classRgb[label[i]];
    }
  }
  function passes(i) {
    if (isTarget(i) ? !S.tgt : !S.src) return false;
    if (!S.cls[label[i]]) return false;
    if (S.rw !== 'all' && pred !== null && (S.rw === 'right') !== correct(i)) return false;
    return true;
  }
  function recolor() {
    const dimSet = new Uint8Array(N);
    const focus = searchHits || selection;
    if (focus) {
      dimSet.fill(1);
      for (const i of focus) dimSet[i] = 0;
    }
    nVisible = 0;
    for (let i = 0; i < N; i++) {
      const c = baseColor(i);
      const a = passes(i) ? (dimSet[i] ? 45 : 255) : 0;
      if (a) nVisible++;
      rgba[4 * i] = c[0];
      rgba[4 * i + 1] = c[1];
      rgba[4 * i + 2] = c[2];
      rgba[4 * i + 3] = a;
      const f = a / 255;
      const r = Math.round(c[0] * f + 255 * (1 - f));
      const g = Math.round(c[1] * f + 255 * (1 - f));
      const b = Math.round(c[2] * f + 255 * (1 - f));
      packed[i] = a ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : 0;
    }
    $('count').textContent = nVisible.toLocaleString('en-US') + ' of ' + N.toLocaleString('en-US') + ' points shown';
    if (renderer) renderer.colors();
    requestDraw();
  }

  // ---------------------------------------------------------------- view
  const map = $('map');
  let canvas = $('points');
  const overlay = $('overlay');
  const octx = overlay.getContext('2d');
  let W = 1, H = 1, dpr = 1;
  const toScreen = (x, y) => [(x - S.cx) * S.scale + W / 2, H / 2 - (y - S.cy) * S.scale];
  const toData = (px, py) => [S.cx + (px - W / 2) / S.scale, S.cy - (py - H / 2) / S.scale];
  // Marker radius of the static figures (plot::marker_radius): a third of the spacing N points
  // would have on a regular grid over the map's shorter side, rounded, 2 to 9 px. Zooming grows it
  // with the square root of the zoom (1.5 to 16 px).
  function markerRadius() {
    const spacing = Math.max(1, Math.min(W, H)) / Math.sqrt(Math.max(1, N));
    const r0 = Math.min(9, Math.max(2, Math.round(spacing * 0.3)));
    return Math.min(16, Math.max(1.5, r0 * Math.sqrt(S.scale / scale0)));
  }
  // Width of a target's open triangle and its circumradius, for a marker radius r: as in the figures.
  const triStroke = (r) => Math.max(1, Math.round(r / 3));
  const TRI = 1.25;
  function pointSize() {
    return 2 * markerRadius();
  }
  function fit() {
    S.cx = (minX + maxX) / 2;
    S.cy = (minY + maxY) / 2;
    S.scale = 0.92 * Math.min(W / spanX, H / spanY);
  }
  function resize() {
    dpr = window.devicePixelRatio || 1;
    const oldW = W, oldH = H;
    W = Math.max(1, map.clientWidth);
    H = Math.max(1, map.clientHeight);
    if (W === oldW && H === oldH && canvas.width === Math.round(W * dpr)) return;
    const fitted = 0.92 * Math.min(W / spanX, H / spanY);
    // The map keeps its centre and its zoom relative to the fitted view, so its content shrinks
    // (or grows) with the area when the neighbour panel docks beside it or goes away.
    if (renderer) S.scale *= fitted / scale0;
    scale0 = fitted;
    for (const c of [canvas, overlay]) {
      c.width = Math.round(W * dpr);
      c.height = Math.round(H * dpr);
    }
    requestDraw();
  }

  // ---------------------------------------------------------------- renderers
  // Signed distance to an equilateral triangle, point up, centred on its centroid, with half
  // side h (negative inside); y grows upwards. The same formula runs in the fragment shader.
  function triDist(x, y, h) {
    const k = Math.sqrt(3);
    x = Math.abs(x) - h;
    y = y + h / k;
    if (x + k * y > 0) [x, y] = [(x - k * y) / 2, (-k * x - y) / 2];
    x -= Math.min(0, Math.max(-2 * h, x));
    return -Math.hypot(x, y) * Math.sign(y);
  }
  const VS = 'attribute vec2 a_pos; attribute vec4 a_col; attribute float a_kind;' +
    'uniform vec2 u_scale; uniform vec2 u_offset; uniform float u_r;' +
    'varying vec4 v_col; varying float v_kind; varying float v_size;' +
    'void main(){ v_col = a_col; v_kind = a_kind;' +
    ' if (a_col.a == 0.0) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); gl_PointSize = 0.0; return; }' +
    ' v_size = 2.0 * u_r * (a_kind > 0.5 ? ' + TRI.toFixed(2) + ' : 1.0) + 2.0;' +
    ' gl_Position = vec4(a_pos * u_scale + u_offset, 0.0, 1.0); gl_PointSize = v_size; }';
  const FS = 'precision mediump float; varying vec4 v_col; varying float v_kind; varying float v_size;' +
    'uniform highp float u_r; uniform float u_stroke;' +
    'float tri(vec2 p, float h){ const float k = 1.7320508; p.x = abs(p.x) - h; p.y = p.y + h / k;' +
    ' if (p.x + k * p.y > 0.0) p = vec2(p.x - k * p.y, -k * p.x - p.y) / 2.0;' +
    ' p.x -= clamp(p.x, -2.0 * h, 0.0); return -length(p) * sign(p.y); }' +
    'void main(){ vec2 p = (gl_PointCoord - 0.5) * v_size; p.y = -p.y; float a;' +
    ' if (v_kind > 0.5) { float d = tri(p, u_r * ' + (TRI * Math.sqrt(3) / 2).toFixed(5) + ');' +
    '  a = clamp(0.5 - d, 0.0, 1.0) * clamp(d + u_stroke + 0.5, 0.0, 1.0); }' +
    ' else { a = clamp(u_r + 0.5 - length(p), 0.0, 1.0); }' +
    ' if (a < 0.02) discard;' +
    ' gl_FragColor = vec4(v_col.rgb, v_col.a * a); }';

  function makeGL() {
    const opts = { antialias: false, alpha: false, depth: false, stencil: false };
    let gl = null;
    let name = 'webgl2';
    try {
      gl = canvas.getContext('webgl2', opts);
      if (!gl) { gl = canvas.getContext('webgl', opts); name = 'webgl'; }
    } catch (e) { gl = null; }
    if (!gl) return null;
    // Software WebGL (SwiftShader, llvmpipe) draws points far slower than the 2-D fallback
    // (docs/explore.md has the numbers): leave it unless the hash asks for it (r=gl).
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const device = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    if (forced !== 'gl' && /swiftshader|llvmpipe|software/i.test(device)) {
      const lose = gl.getExtension('WEBGL_lose_context');
      if (lose) lose.loseContext();
      return null;
    }
    const sh = (type, src) => {
      const s = gl.createShader(type);
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (gl.getShaderParameter(s, gl.COMPILE_STATUS)) return s;
      console.warn('WebGL shader: ' + gl.getShaderInfoLog(s));
      return null;
    };
    const vs = sh(gl.VERTEX_SHADER, VS);
    const fs = sh(gl.FRAGMENT_SHADER, FS);
    if (!vs || !fs) return null;
    const prog = gl.createProgram();
    gl.attachShader(prog, vs);
    gl.attachShader(prog, fs);
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) {
      console.warn('WebGL program: ' + gl.getProgramInfoLog(prog));
      return null;
    }
    gl.useProgram(prog);
    const buf = (data, attr, size, type, norm, usage) => {
      const b = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, b);
      gl.bufferData(gl.ARRAY_BUFFER, data, usage);
      const loc = gl.getAttribLocation(prog, attr);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, size, type, norm, 0, 0);
      return b;
    };
    const kind = new Uint8Array(N);
    for (let i = 0; i < N; i++) kind[i] = isTarget(i) ? 255 : 0;
    buf(coords, 'a_pos', 2, gl.FLOAT, false, gl.STATIC_DRAW);
    buf(kind, 'a_kind', 1, gl.UNSIGNED_BYTE, true, gl.STATIC_DRAW);
    const colBuf = buf(rgba, 'a_col', 4, gl.UNSIGNED_BYTE, true, gl.DYNAMIC_DRAW);
    const u = (n) => gl.getUniformLocation(prog, n);
    const uScale = u('u_scale'), uOffset = u('u_offset'), uR = u('u_r'), uStroke = u('u_stroke');
    const maxSize = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE)[1] || 64;
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    gl.clearColor(1, 1, 1, 1);
    return {
      name,
      colors() {
        gl.bindBuffer(gl.ARRAY_BUFFER, colBuf);
        gl.bufferSubData(gl.ARRAY_BUFFER, 0, rgba);
      },
      draw() {
        gl.viewport(0, 0, canvas.width, canvas.height);
        gl.clear(gl.COLOR_BUFFER_BIT);
        const r = Math.min((maxSize - 2) / (2 * TRI), markerRadius() * dpr);
        gl.uniform2f(uScale, (2 * S.scale) / W, (2 * S.scale) / H);
        gl.uniform2f(uOffset, (-2 * S.scale * S.cx) / W, (-2 * S.scale * S.cy) / H);
        gl.uniform1f(uR, r);
        gl.uniform1f(uStroke, triStroke(r));
        gl.drawArrays(gl.POINTS, 0, N);
      },
      sync() {
        gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
      },
    };
  }

  function make2D() {
    // A canvas that tried WebGL may be tied to it: draw on a fresh one.
    const fresh = canvas.cloneNode(false);
    canvas.replaceWith(fresh);
    canvas = fresh;
    resize();
    const ctx = canvas.getContext('2d');
    let img = null, px = null, maskKey = '', fillMask = null, triMask = null, R = 0;
    // Pixel offsets of a filled disc of radius r and of an open triangle around a pixel centre.
    function masks(r) {
      const h = (TRI * r * Math.sqrt(3)) / 2, stroke = triStroke(r);
      const fillM = [], triM = [];
      const Rm = Math.ceil(TRI * r + 1);
      for (let dy = -Rm; dy <= Rm; dy++) {
        for (let dx = -Rm; dx <= Rm; dx++) {
          if (Math.hypot(dx, dy) <= r) fillM.push(dx, dy);
          const d = triDist(dx, -dy, h);
          if (d <= 0.3 && d > 0.3 - stroke) triM.push(dx, dy);
        }
      }
      return [Int32Array.from(fillM), Int32Array.from(triM), Rm];
    }
    return {
      name: '2d',
      colors() {},
      // Draws every point, or, while the view moves on a map too large to draw in a frame, an
      // evenly strided subset of lodCount points (in row order, so overlaps stay as in full).
      draw(full) {
        const t0 = performance.now();
        const w = canvas.width, h = canvas.height;
        if (!img || img.width !== w || img.height !== h) {
          img = ctx.createImageData(w, h);
          px = new Uint32Array(img.data.buffer);
        }
        px.fill(0xffffffff);
        const r = Math.max(1, markerRadius() * dpr);
        const key = r.toFixed(2);
        if (key !== maskKey) {
          [fillMask, triMask, R] = masks(r);
          maskKey = key;
        }
        const sub = !full && moving && lodCount < N;
        const n = sub ? lodCount : N;
        const step = N / n;
        const k = S.scale * dpr, ox = (W / 2) * dpr - S.cx * k, oy = (H / 2) * dpr + S.cy * k;
        for (let t = 0; t < n; t++) {
          const i = sub ? (t * step) | 0 : t;
          const c = packed[i];
          if (!c) continue;
          const sx = Math.round(coords[2 * i] * k + ox);
          const sy = Math.round(oy - coords[2 * i + 1] * k);
          if (sx < -R || sy < -R || sx >= w + R || sy >= h + R) continue;
          const m = flags[i] & 1 ? triMask : fillMask;
          if (sx >= R && sy >= R && sx < w - R && sy < h - R) {
            const base = sy * w + sx;
            for (let j = 0; j < m.length; j += 2) px[base + m[j + 1] * w + m[j]] = c;
          } else {
            for (let j = 0; j < m.length; j += 2) {
              const x = sx + m[j], y = sy + m[j + 1];
              if (x >= 0 && y >= 0 && x < w && y < h) px[y * w + x] = c;
            }
          }
        }
        ctx.putImageData(img, 0, 0);
        if (sub) {
          // While moving, steer the subset towards the budget from this frame's time.
          const f = FRAME_BUDGET_MS / Math.max(0.1, performance.now() - t0);
          lodCount = Math.min(N, Math.max(LOD_MIN, Math.round(n * Math.min(1.5, Math.max(0.5, f)))));
        } else if (++fullDraws > 1) {
          // Points that fit in a frame's budget, from the median time of the last three full
          // draws (not the first one, which includes compiling the loop).
          fullMs.push(performance.now() - t0);
          if (fullMs.length > 3) fullMs.shift();
          const ms = Math.max(0.1, [...fullMs].sort((a, b) => a - b)[fullMs.length >> 1]);
          lodCount = ms <= FRAME_BUDGET_MS ? N : Math.max(LOD_MIN, Math.floor((N * FRAME_BUDGET_MS) / ms));
        }
        lastSubset = sub ? n : 0;
      },
      sync() {
        ctx.getImageData(0, 0, 1, 1);
      },
    };
  }

  // Level of detail of the 2-D renderer: while the view moves (and until MOVE_IDLE_MS after),
  // a map whose full draw took more than FRAME_BUDGET_MS draws only an evenly strided subset,
  // sized from that time and then from each moving frame's own time; at rest it draws every point.
  const FRAME_BUDGET_MS = 20;
  const LOD_MIN = 20000;
  const MOVE_IDLE_MS = 150;
  let lodCount = N;
  let lastSubset = 0;
  let moving = false;
  let idleTimer = 0;
  let fullDraws = 0;
  const fullMs = [];
  function moved() {
    moving = true;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => { moving = false; requestDraw(); }, MOVE_IDLE_MS);
  }

  let renderer = null;
  let dirty = false;
  let statusText = '';
  function requestDraw() {
    if (!dirty) {
      dirty = true;
      requestAnimationFrame(() => drawNow());
    }
  }
  function drawNow(full) {
    dirty = false;
    if (!renderer) return;
    renderer.draw(full);
    drawOverlay();
    const name = renderer.name === '2d' ? 'canvas 2D' : renderer.name.toUpperCase();
    const text = name + ' renderer' + (lastSubset ? ' · moving: ' + lastSubset.toLocaleString('en-US') + ' of ' +
      N.toLocaleString('en-US') + ' points' : '');
    if (text !== statusText) $('status').textContent = statusText = text;
  }
  function ringAt(i, r, color, width) {
    const [x, y] = toScreen(coords[2 * i], coords[2 * i + 1]);
    octx.beginPath();
    octx.arc(x, y, r, 0, 2 * Math.PI);
    octx.strokeStyle = color;
    octx.lineWidth = width;
    octx.stroke();
  }
  function drawOverlay() {
    octx.setTransform(dpr, 0, 0, dpr, 0, 0);
    octx.clearRect(0, 0, W, H);
    const r = pointSize() / 2 + 3;
    if (S.sel >= 0) {
      for (let t = 0; t < kS; t++) if (nnS[S.sel * kS + t] !== NONE) ringAt(nnS[S.sel * kS + t], r, '#111', 1.2);
      for (let t = 0; t < kT; t++) if (nnT[S.sel * kT + t] !== NONE) ringAt(nnT[S.sel * kT + t], r, '#111', 1.2);
      ringAt(S.sel, r + 2, '#000', 2.5);
    }
    if (S.hl >= 0) ringAt(S.hl, r + 2, '#0b5cad', 2.5);
    if (S.hover >= 0) ringAt(S.hover, r, '#000', 1.5);
    if (drag && (drag.kind === 'box' || drag.kind === 'lasso') && drag.moved) {
      octx.beginPath();
      if (drag.kind === 'box') {
        octx.rect(drag.x0, drag.y0, drag.x - drag.x0, drag.y - drag.y0);
      } else {
        drag.path.forEach(([x, y], j) => (j ? octx.lineTo(x, y) : octx.moveTo(x, y)));
        octx.closePath();
      }
      octx.fillStyle = 'rgba(11,92,173,0.08)';
      octx.fill();
      octx.strokeStyle = '#0b5cad';
      octx.lineWidth = 1;
      octx.setLineDash([4, 3]);
      octx.stroke();
      octx.setLineDash([]);
    }
  }

  // ---------------------------------------------------------------- picking
  function pick(px, py) {
    const [x, y] = toData(px, py);
    const rad = (pointSize() / 2 + 3) / S.scale;
    const c0 = cellOf(x - rad, minX, spanX), c1 = cellOf(x + rad, minX, spanX);
    const r0 = cellOf(y - rad, minY, spanY), r1 = cellOf(y + rad, minY, spanY);
    let best = -1, bd = rad * rad;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = r * G + c;
        for (let j = cellStart[cell]; j < cellStart[cell + 1]; j++) {
          const i = cellPts[j];
          if (!rgba[4 * i + 3]) continue;
          const dx = coords[2 * i] - x, dy = coords[2 * i + 1] - y;
          const d = dx * dx + dy * dy;
          // Later points are drawn on top: prefer them on ties.
          if (d < bd || (d === bd && i > best)) { bd = d; best = i; }
        }
      }
    }
    return best;
  }

  // ---------------------------------------------------------------- thumbnails
  const pages = [];
  function page(p) {
    if (!pages[p]) {
      pages[p] = new Promise((resolve, reject) => {
        const img = new Image();
        img.onload = () => resolve(img);
        img.onerror = () => reject(new Error('thumbnail page ' + p + ' did not decode'));
        img.src = 'data:' + meta.thumbs.mime + ';base64,' + $('ds-t' + p).textContent.trim();
      });
    }
    return pages[p];
  }
  function thumbEl(i, size) {
    const t = thumbOf[i];
    if (t === NONE) {
      const d = document.createElement('div');
      d.className = 'nothumb thumb';
      d.style.width = d.style.height = size + 'px';
      d.textContent = 'no thumbnail';
      return d;
    }
    const cv = document.createElement('canvas');
    cv.className = 'thumb';
    cv.width = cv.height = Math.round(size * dpr);
    cv.style.width = cv.style.height = size + 'px';
    cv.dataset.thumb = String(t);
    const T = meta.thumbs;
    const p = Math.floor(t / T.per_page), cell = t % T.per_page;
    page(p).then((img) => {
      const w = thumbWH[2 * t], h = thumbWH[2 * t + 1];
      const sx = (cell % T.cols) * T.cell, sy = Math.floor(cell / T.cols) * T.cell;
      const f = cv.width / Math.max(w, h);
      const ctx = cv.getContext('2d');
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(img, sx, sy, w, h, (cv.width - w * f) / 2, (cv.height - h * f) / 2, w * f, h * f);
      cv.dataset.loaded = '1';
    }, (e) => console.warn(e.message));
    return cv;
  }

  // ---------------------------------------------------------------- text
  const pct = (v) => (100 * v).toFixed(1) + '%';
  function fields(i) {
    const f = [
      ['file', 'file', meta.files[i]],
      ['path', 'path', path(i)],
      ['domain', 'domain', domainName(i) + (isTarget(i) ? ' (target)' : ' (source)')],
      ['class', 'class', classes[label[i]]],
    ];
    if (pred !== null) {
      f.push(['pred', 'predicted', classes[pred[i]] + ' (' + pct(conf[i]) + ')']);
      f.push(['result', 'result', correct(i) ? 'right' : 'wrong', correct(i) ? 'right' : 'wrong']);
    }
    if (disc !== null) f.push(['disc', meta.disc_label, disc[i].toFixed(3)]);
    return f;
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function dl(i) {
    const d = el('dl');
    for (const [key, name, value, cls] of fields(i)) {
      d.appendChild(el('dt', '', name));
      const dd = el('dd', cls || '', value);
      dd.dataset.field = key;
      d.appendChild(dd);
    }
    return d;
  }

  // ---------------------------------------------------------------- hover card
  const card = $('card');
  let cardFor = -1;
  function showCard(i, mx, my) {
    if (i < 0) {
      card.hidden = true;
      cardFor = -1;
      return;
    }
    if (cardFor !== i) {
      cardFor = i;
      card.replaceChildren(thumbEl(i, 96), dl(i));
      card.dataset.index = String(i);
    }
    card.hidden = false;
    const cw = card.offsetWidth, ch = card.offsetHeight;
    card.style.left = (mx + 16 + cw > W ? Math.max(0, mx - 16 - cw) : mx + 16) + 'px';
    card.style.top = Math.max(0, Math.min(H - ch, my + 12)) + 'px';
  }

  // ---------------------------------------------------------------- side panel
  const panel = $('panel');
  const body = $('panel-body');
  function openPanel(nodes) {
    body.replaceChildren(...nodes);
    if (panel.hidden) {
      panel.hidden = false;
      resize();
    }
  }
  function closePanel() {
    if (!panel.hidden) {
      panel.hidden = true;
      resize();
    }
  }
  function pointItem(j, extra) {
    const li = el('li');
    li.dataset.index = String(j);
    li.appendChild(thumbEl(j, 48));
    const m = el('div', 'meta');
    m.appendChild(el('div', 'name', meta.files[j]));
    let line = classes[label[j]] + ' · ' + domainName(j);
    if (pred !== null) line += ' · pred ' + classes[pred[j]] + (correct(j) ? ' ✓' : ' ✗');
    const l2 = el('div', 'muted small', line);
    m.appendChild(l2);
    if (extra) m.appendChild(el('div', 'muted small', extra));
    li.appendChild(m);
    li.addEventListener('click', () => select(j));
    li.addEventListener('mouseenter', () => { S.hl = j; requestDraw(); });
    li.addEventListener('mouseleave', () => { S.hl = -1; requestDraw(); });
    return li;
  }
  function nnList(id, idx, dist, k, i) {
    const ul = el('ul', 'nn');
    ul.id = id;
    for (let t = 0; t < k; t++) {
      const j = idx[i * k + t];
      if (j === NONE) continue;
      ul.appendChild(pointItem(j, 'distance ' + dist[i * k + t].toPrecision(4)));
    }
    if (!ul.children.length) ul.appendChild(el('li', 'muted', 'none'));
    return ul;
  }
  // Pan the least needed to bring point i inside the map (with a margin).
  function ensureVisible(i) {
    const [x, y] = toScreen(coords[2 * i], coords[2 * i + 1]);
    const m = Math.min(40, W / 4, H / 4);
    const dx = x < m ? x - m : x > W - m ? x - (W - m) : 0;
    const dy = y < m ? y - m : y > H - m ? y - (H - m) : 0;
    if (dx || dy) {
      S.cx += dx / S.scale;
      S.cy -= dy / S.scale;
      requestDraw();
    }
  }
  // Which search found the lists (exact, or approximate NN-descent on large domains).
  function nnNote() {
    const m = [meta.nn_method_source, meta.nn_method_target];
    if (m.every((v) => v !== 'approximate')) return 'Exact neighbours.';
    if (m.every((v) => v === 'approximate')) return 'Approximate neighbours (NN-descent).';
    return 'Source neighbours ' + m[0] + ', target neighbours ' + m[1] + ' (NN-descent).';
  }
  function showPoint(i) {
    const head = el('h2', '', meta.files[i]);
    openPanel([
      head,
      thumbEl(i, 160),
      dl(i),
      el('h3', '', 'Nearest source · ' + meta.source),
      nnList('nn-source', nnS, nnSd, kS, i),
      el('h3', '', 'Nearest target · ' + meta.target),
      nnList('nn-target', nnT, nnTd, kT, i),
      el('p', 'muted small', 'Euclidean distance in the ' + meta.dim + '-D embedding space, not on the map. ' +
        nnNote()),
    ]);
    body.dataset.view = 'point';
    body.dataset.index = String(i);
    ensureVisible(i);
  }
  function select(i) {
    S.sel = i;
    if (i >= 0) showPoint(i);
    else if (body.dataset.view === 'point') closePanel();
    requestDraw();
    saveHash();
  }
  function grid(list, from, box) {
    const stop = Math.min(list.length, from + 200);
    for (let t = from; t < stop; t++) {
      const j = list[t];
      const c = el('div', 'cell');
      c.dataset.index = String(j);
      c.title = path(j) + '\n' + classes[label[j]] + ' · ' + domainName(j);
      c.style.borderBottomColor = css(classRgb[label[j]]);
      c.appendChild(thumbEl(j, 64));
      c.addEventListener('click', () => select(j));
      box.appendChild(c);
    }
    if (stop < list.length) {
      const more = el('button', 'more', 'show ' + Math.min(200, list.length - stop) + ' more');
      more.type = 'button';
      more.addEventListener('click', () => { more.remove(); grid(list, stop, box); });
      box.after(more);
    }
  }
  function showSelection() {
    const nodes = [el('h2', '', 'Selection · ' + selection.length.toLocaleString('en-US') + ' points')];
    const counts = new Uint32Array(2 * C);
    for (const i of selection) counts[2 * label[i] + (isTarget(i) ? 1 : 0)]++;
    const table = el('table', 'counts');
    table.id = 'sel-counts';
    const hr = el('tr');
    for (const h of ['class', meta.source, meta.target]) hr.appendChild(el('th', '', h));
    table.appendChild(hr);
    let ts = 0, tt = 0;
    for (let c = 0; c < C; c++) {
      if (!counts[2 * c] && !counts[2 * c + 1]) continue;
      const tr = el('tr');
      tr.dataset.class = String(c);
      tr.appendChild(el('td', '', classes[c]));
      tr.appendChild(el('td', '', String(counts[2 * c])));
      tr.appendChild(el('td', '', String(counts[2 * c + 1])));
      table.appendChild(tr);
      ts += counts[2 * c];
      tt += counts[2 * c + 1];
    }
    const tr = el('tr');
    for (const v of ['total', String(ts), String(tt)]) tr.appendChild(el('th', '', v));
    table.appendChild(tr);
    nodes.push(table);
    const box = el('div', 'grid');
    box.id = 'sel-grid';
    nodes.push(box);
    openPanel(nodes);
    body.dataset.view = 'selection';
    grid(selection, 0, box);
  }
  function showSearch() {
    const ul = el('ul', 'nn');
    ul.id = 'search-hits';
    for (const i of searchHits.slice(0, 100)) ul.appendChild(pointItem(i, path(i)));
    const more = searchHits.length > 100 ? ' (first 100 listed)' : '';
    openPanel([el('h2', '', 'Search “' + S.q + '” · ' + searchHits.length + ' matches' + more), ul]);
    body.dataset.view = 'search';
  }

  // ---------------------------------------------------------------- selection
  function finishSelection(d) {
    const out = [];
    if (d.kind === 'box') {
      const [ax, ay] = toData(Math.min(d.x0, d.x), Math.max(d.y0, d.y));
      const [bx, by] = toData(Math.max(d.x0, d.x), Math.min(d.y0, d.y));
      for (let i = 0; i < N; i++) {
        if (!passes(i)) continue;
        const x = coords[2 * i], y = coords[2 * i + 1];
        if (x >= ax && x <= bx && y >= ay && y <= by) out.push(i);
      }
    } else {
      const poly = d.path.map(([x, y]) => toData(x, y));
      for (let i = 0; i < N; i++) {
        if (passes(i) && inside(coords[2 * i], coords[2 * i + 1], poly)) out.push(i);
      }
    }
    setSelection(out);
  }
  function inside(x, y, poly) {
    let ins = false;
    for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
      const [xa, ya] = poly[a], [xb, yb] = poly[b];
      if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) ins = !ins;
    }
    return ins;
  }
  function setSelection(list) {
    selection = list && list.length ? list : null;
    if (selection) S.sel = -1;
    recolor();
    if (selection) showSelection();
    else if (body.dataset.view === 'selection') closePanel();
  }

  // ---------------------------------------------------------------- events
  let drag = null;
  function local(e) {
    const r = map.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }
  map.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    const [x, y] = local(e);
    const kind = e.shiftKey ? 'box' : S.mode;
    drag = { kind, x0: x, y0: y, x, y, moved: false, path: [[x, y]] };
    map.setPointerCapture(e.pointerId);
    if (kind === 'pan') map.classList.add('dragging');
  });
  map.addEventListener('pointermove', (e) => {
    const [x, y] = local(e);
    if (!drag) {
      const i = pick(x, y);
      if (i !== S.hover) { S.hover = i; requestDraw(); }
      showCard(i, x, y);
      return;
    }
    if (Math.abs(x - drag.x0) + Math.abs(y - drag.y0) > 3) drag.moved = true;
    if (drag.kind === 'pan') {
      S.cx -= (x - drag.x) / S.scale;
      S.cy += (y - drag.y) / S.scale;
      moved();
      showCard(-1);
    } else if (drag.kind === 'lasso') {
      drag.path.push([x, y]);
    }
    drag.x = x;
    drag.y = y;
    requestDraw();
  });
  map.addEventListener('pointerup', (e) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    map.classList.remove('dragging');
    const [x, y] = local(e);
    if (!d.moved) {
      const i = pick(x, y);
      if (i >= 0 || S.mode === 'pan') select(i);
      if (i < 0 && selection) setSelection(null);
    } else if (d.kind === 'box' || d.kind === 'lasso') {
      finishSelection(d);
    } else {
      saveHash();
    }
    requestDraw();
  });
  map.addEventListener('pointerleave', () => {
    if (!drag) {
      S.hover = -1;
      showCard(-1);
      requestDraw();
    }
  });
  map.addEventListener('wheel', (e) => {
    e.preventDefault();
    const [x, y] = local(e);
    const [dx, dy] = toData(x, y);
    const f = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
    S.scale = Math.min(scale0 * 2000, Math.max(scale0 / 20, S.scale * f));
    S.cx = dx - (x - W / 2) / S.scale;
    S.cy = dy + (y - H / 2) / S.scale;
    moved();
    showCard(-1);
    requestDraw();
    saveHash();
  }, { passive: false });
  window.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    setSelection(null);
    select(-1);
    closePanel();
  });
  window.addEventListener('resize', resize);
  $('panel-close').addEventListener('click', () => {
    if (body.dataset.view === 'selection') setSelection(null);
    if (body.dataset.view === 'point') S.sel = -1;
    closePanel();
    requestDraw();
    saveHash();
  });
  for (const b of document.querySelectorAll('.modes button')) {
    b.addEventListener('click', () => setMode(b.dataset.mode));
  }
  function setMode(m) {
    S.mode = m;
    for (const b of document.querySelectorAll('.modes button')) b.classList.toggle('on', b.dataset.mode === m);
    map.classList.toggle('select', m !== 'pan');
  }
  const colorSel = $('color-by');
  colorSel.addEventListener('change', () => { S.color = colorSel.value; legend(); recolor(); saveHash(); });
  $('f-source').addEventListener('change', (e) => { S.src = e.target.checked; recolor(); saveHash(); });
  $('f-target').addEventListener('change', (e) => { S.tgt = e.target.checked; recolor(); saveHash(); });
  for (const r of document.querySelectorAll('input[name=rw]')) {
    r.addEventListener('change', () => { S.rw = r.value; recolor(); saveHash(); });
  }
  $('cls-all').addEventListener('click', () => setClasses(1));
  $('cls-none').addEventListener('click', () => setClasses(0));
  function setClasses(v) {
    S.cls.fill(v);
    syncControls();
    recolor();
    saveHash();
  }
  let searchTimer = 0;
  const search = $('search');
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => runSearch(search.value), 150);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    runSearch(search.value);
    if (searchHits && searchHits.length) {
      const i = searchHits[0];
      S.cx = coords[2 * i];
      S.cy = coords[2 * i + 1];
      select(i);
    }
  });
  function runSearch(q) {
    S.q = q.trim();
    const needle = S.q.toLowerCase();
    if (!needle) {
      searchHits = null;
      if (body.dataset.view === 'search') closePanel();
    } else {
      searchHits = [];
      for (let i = 0; i < N; i++) if (meta.files[i].toLowerCase().includes(needle)) searchHits.push(i);
      showSearch();
    }
    recolor();
    saveHash();
  }

  // ---------------------------------------------------------------- controls
  function buildClassList() {
    const counts = new Uint32Array(C);
    for (let i = 0; i < N; i++) counts[label[i]]++;
    const box = $('classes');
    classes.forEach((name, c) => {
      const lab = el('label');
      const cb = el('input');
      cb.type = 'checkbox';
      cb.dataset.class = String(c);
      cb.addEventListener('change', () => { S.cls[c] = cb.checked ? 1 : 0; recolor(); saveHash(); });
      const sw = el('span', 'sw');
      sw.style.background = css(classRgb[c]);
      lab.append(cb, sw, el('span', '', name), el('span', 'cls-n', counts[c].toLocaleString('en-US')));
      box.appendChild(lab);
    });
  }
  function syncControls() {
    colorSel.value = S.color;
    $('f-source').checked = S.src;
    $('f-target').checked = S.tgt;
    for (const r of document.querySelectorAll('input[name=rw]')) r.checked = r.value === S.rw;
    for (const cb of document.querySelectorAll('#classes input')) cb.checked = !!S.cls[+cb.dataset.class];
    search.value = S.q;
  }
  function legend() {
    const box = $('scale-legend');
    box.replaceChildren();
    const two = (a, an, b, bn) => {
      for (const [c, n] of [[a, an], [b, bn]]) {
        const lab = el('div');
        const sw = el('span', 'sw');
        sw.style.background = css(c);
        lab.append(sw, ' ', n);
        box.appendChild(lab);
      }
    };
    const bar = (stops, lo, hi) => {
      const b = el('div', 'bar');
      b.style.background = 'linear-gradient(to right,' + stops.map(css).join(',') + ')';
      const ends = el('div', 'ends');
      ends.append(el('span', '', lo), el('span', '', hi));
      box.append(b, ends);
    };
    if (S.color === 'domain') two(srcRgb, meta.source + ' (source)', tgtRgb, meta.target + ' (target)');
    if (S.color === 'correct') two(rightRgb, 'right', wrongRgb, 'wrong');
    if (S.color === 'confidence') bar(SEQ, '0', 'confidence 1');
    if (S.color === 'disc') bar(DIV, '0 · source', meta.disc_label + ' 1 · target');
  }

  // ---------------------------------------------------------------- URL hash
  let hashTimer = 0;
  let lastHash = '';
  const num = (v) => Number(v.toPrecision(6));
  function hashString() {
    const p = [];
    p.push('v=' + [num(S.cx), num(S.cy), num(S.scale / scale0)].join(','));
    if (S.color !== 'class') p.push('c=' + S.color);
    if (!S.src || !S.tgt) p.push('d=' + (S.src ? 's' : '') + (S.tgt ? 't' : ''));
    if (S.cls.some((v) => !v)) {
      const on = [];
      S.cls.forEach((v, c) => v && on.push(c));
      p.push('cls=' + on.join('.'));
    }
    if (S.rw !== 'all') p.push('rw=' + S.rw);
    if (S.sel >= 0) p.push('p=' + S.sel);
    if (S.q) p.push('q=' + encodeURIComponent(S.q));
    if (forced) p.push('r=' + forced);
    return p.join('&');
  }
  function saveHash() {
    clearTimeout(hashTimer);
    hashTimer = setTimeout(() => {
      const h = hashString();
      if (h === lastHash) return;
      lastHash = h;
      try {
        history.replaceState(null, '', '#' + h);
      } catch (e) {
        location.hash = h;
      }
    }, 150);
  }
  function readHash() {
    const h = location.hash.replace(/^#/, '');
    const kv = {};
    for (const part of h.split('&')) {
      const eq = part.indexOf('=');
      if (eq > 0) kv[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1));
    }
    return kv;
  }
  function applyView(kv) {
    if (kv.v) {
      const [x, y, z] = kv.v.split(',').map(Number);
      if (isFinite(x) && isFinite(y) && isFinite(z) && z > 0) {
        S.cx = x;
        S.cy = y;
        S.scale = z * scale0;
      }
    }
  }
  function applyHash(kv) {
    S.color = ['class', 'domain', 'correct', 'confidence', 'disc'].includes(kv.c) ? kv.c : 'class';
    S.src = kv.d === undefined || kv.d.includes('s');
    S.tgt = kv.d === undefined || kv.d.includes('t');
    if (kv.cls !== undefined) {
      S.cls.fill(0);
      for (const c of kv.cls.split('.')) if (+c >= 0 && +c < C && c !== '') S.cls[+c] = 1;
    } else {
      S.cls.fill(1);
    }
    S.rw = ['right', 'wrong'].includes(kv.rw) ? kv.rw : 'all';
    S.q = kv.q || '';
    const p = kv.p === undefined ? -1 : parseInt(kv.p, 10);
    S.sel = p >= 0 && p < N ? p : -1;
  }
  function loadHash() {
    const kv = readHash();
    applyHash(kv);
    syncControls();
    legend();
    if (S.q) runSearch(S.q);
    else { searchHits = null; recolor(); }
    if (S.sel >= 0) showPoint(S.sel);
    // The view last: opening the panel above changes the map's size.
    applyView(kv);
    requestDraw();
    lastHash = hashString();
  }
  window.addEventListener('hashchange', () => {
    if (location.hash.replace(/^#/, '') !== lastHash) loadHash();
  });

  // ---------------------------------------------------------------- start
  $('title').textContent = meta.title;
  $('pair').textContent = meta.source + ' → ' + meta.target + ' · ' + N.toLocaleString('en-US') + ' points · ' +
    meta.thumbs.count.toLocaleString('en-US') + ' thumbnails';
  $('source-name').textContent = meta.source + ' (source)';
  $('target-name').textContent = meta.target + ' (target)';
  document.querySelector('#legend [data-domain=source] .legend-name').textContent = 'source · ' + meta.source;
  document.querySelector('#legend [data-domain=target] .legend-name').textContent = 'target · ' + meta.target;
  if (pred === null) {
    $('rw-section').hidden = true;
    for (const v of ['correct', 'confidence']) colorSel.querySelector('[value=' + v + ']').disabled = true;
  }
  if (disc === null) colorSel.querySelector('[value=disc]').disabled = true;
  else colorSel.querySelector('[value=disc]').textContent = 'discriminator · ' + meta.disc_label;
  buildClassList();
  forced = ['2d', 'gl'].includes(readHash().r) ? readHash().r : null;
  resize();
  fit();
  renderer = forced === '2d' ? null : makeGL();
  if (!renderer) renderer = make2D();
  if (!readHash().v) saveHash();
  loadHash();
  renderer.colors();
  drawNow();

  // A small, stable handle for scripts (the browser tests and the benchmark use it).
  window.dannscopeExplore = {
    n: N,
    renderer: renderer.name,
    visibleCount: () => nVisible,
    screenOf(i) {
      const r = map.getBoundingClientRect();
      const [x, y] = toScreen(coords[2 * i], coords[2 * i + 1]);
      return [r.left + x, r.top + y];
    },
    view: () => ({ cx: S.cx, cy: S.cy, scale: S.scale, scale0 }),
    // Moves the view as a drag or the wheel would (the 2-D renderer may then draw a subset).
    setView(cx, cy, scale) { S.cx = cx; S.cy = cy; S.scale = scale; moved(); },
    // Draws now; full = true draws every point even while moving.
    draw: (full) => drawNow(full === true),
    // Marker radius in CSS pixels and the points the last draw left out while moving.
    markerRadius,
    subset: () => lastSubset,
    mapRect() {
      const r = map.getBoundingClientRect();
      return { left: r.left, top: r.top, width: r.width, height: r.height };
    },
    sync: () => renderer.sync(),
    select,
  };
  document.body.dataset.ready = '1';
})();
