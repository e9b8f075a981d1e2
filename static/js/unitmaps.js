// What each unit draws (TensorFlow Playground style): GET /unit-maps gives every unit's activation
// over the input plane; each map is drawn inside its node of the network diagram (on its canvas)
// (the inputs too), with one colour scale per layer stated by a colour bar under the diagram.
// Clicking a node enlarges its map beside the decision boundary. Requests are throttled: at most
// one in flight and at most one every MIN_GAP ms while playing, so drawing never slows play.

import { getJSON } from './api.js';
import { toMat, fmt } from './tensor.js';
import { NEG, POS, MID } from './colors.js';
import { drawColorbar } from './colorbar.js';
import { onTap } from './tooltip.js';

const FEW = 8;              // layers wider than this show their first FEW units ("show all" toggles)
const MIN_GAP = 350;        // ms between two requests while playing
const RES = 32;
const FEATURE_NAMES = { x1: 'x₁', x2: 'x₂', 'x1^2': 'x₁²', 'x2^2': 'x₂²', x1x2: 'x₁·x₂', sin_x1: 'sin x₁', sin_x2: 'sin x₂' };
export const featureLabel = (name) => FEATURE_NAMES[name] || name;

const mix = (a, b, t) => [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * t));

/** A layer's colour scale: symmetric ±M when it has negative values, else lo..hi around the middle. */
export function scaleOf(min, max) {
  if (!(Number.isFinite(min) && Number.isFinite(max))) return { lo: -1, mid: 0, hi: 1 };
  if (min < 0) { const m = Math.max(Math.abs(min), Math.abs(max)) || 1; return { lo: -m, mid: 0, hi: m }; }
  const hi = max <= 1 ? 1 : max;
  return { lo: 0, mid: hi / 2, hi };
}

function rgb(v, s) {
  if (!Number.isFinite(v)) return [200, 200, 200];
  const t = Math.max(-1, Math.min(1, (v - s.mid) / ((s.hi - s.lo) / 2 || 1)));
  return t < 0 ? mix(MID, NEG, -t) : mix(MID, POS, t);
}

/** rgb(v, s) written into px[o..o+3] without an array per pixel (the same rounding as mix). */
function rgbInto(px, o, v, s) {
  px[o + 3] = 255;
  if (!Number.isFinite(v)) { px[o] = 200; px[o + 1] = 200; px[o + 2] = 200; return; }
  const t = Math.max(-1, Math.min(1, (v - s.mid) / ((s.hi - s.lo) / 2 || 1)));
  const end = t < 0 ? NEG : POS;
  const k = Math.abs(t);
  px[o] = Math.round(MID[0] + (end[0] - MID[0]) * k);
  px[o + 1] = Math.round(MID[1] + (end[1] - MID[1]) * k);
  px[o + 2] = Math.round(MID[2] + (end[2] - MID[2]) * k);
}

/** Draw one res×res map (row i at x2[i]) on a canvas, x2 growing upward. */
export function drawMap(canvas, data, off, res, scale, flip) {
  if (canvas.width !== res) { canvas.width = res; canvas.height = res; }
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(res, res);
  for (let i = 0; i < res; i += 1) {
    const row = flip ? res - 1 - i : i;
    for (let j = 0; j < res; j += 1) rgbInto(img.data, (row * res + j) * 4, data[off + i * res + j], scale);
  }
  ctx.putImageData(img, 0, 0);
}

/** A map's corners made transparent (radius: a sixth of its side), once as it is drawn: a clip on
 *  every frame's paint cost more. */
function roundCorners(canvas) {
  const ctx = canvas.getContext('2d');
  ctx.globalCompositeOperation = 'destination-in';
  ctx.beginPath();
  ctx.roundRect(0, 0, canvas.width, canvas.height, canvas.width / 6);
  ctx.fill();
  ctx.globalCompositeOperation = 'source-over';
}

export class UnitMaps {
  /** @param diagram the Diagram; legend, zoom, help (the text about the maps): elements; getId() the session id (or null). */
  constructor(diagram, { legend, zoom, toggle, help, getId, onError }) {
    Object.assign(this, { diagram, legend, zoom, toggle, help, getId, onError });
    this.enabled = true;
    this.all = false;
    this.busy = false;
    this.last = 0;
    this.pending = false;
    this.key = null;
    this.data = null;
    this.picked = null;            // {l, j}: the node whose map is enlarged
    this.requests = 0;
    diagram.maxShown = FEW;
    diagram.gap = 32;
    diagram.radius = 14;
    diagram.onBuild = () => this.attach();
    toggle.addEventListener('click', () => {
      this.all = !this.all;
      diagram.maxShown = this.all ? 1e9 : FEW;
      diagram.build(diagram.sizes);
    });
  }

  /** A network without a plane (MNIST, CSV): no maps (and no help text about them). */
  setAvailable(ok) {
    this.enabled = ok;
    if (this.help) this.help.hidden = !ok;
    this.data = null;
    this.key = null;
    this.legend.hidden = !ok;
    this.zoom.hidden = true;
    this.picked = null;
    this.attach();
  }

  /** After each build: one res×res canvas per shown node (kept out of sight, in the diagram's
   *  element: each frame the diagram paints them into its nodes, static/js/diagram.js onPaint). */
  attach() {
    const d = this.diagram;
    if (!d.nodes) return;
    d.root.querySelector('.unit-map-store')?.remove();
    const store = document.createElement('div');
    store.className = 'unit-map-store';
    store.hidden = true;
    d.root.appendChild(store);
    const wide = Math.max(...d.sizes) > FEW;
    this.toggle.hidden = !wide || !this.enabled;
    this.toggle.textContent = this.all ? `show the first ${FEW} units` : 'show all units';
    this.canvases = [];
    d.onPaint = null;
    if (!this.enabled) return;
    d.nodes.forEach((layerNodes, li) => {
      this.canvases[li] = layerNodes.map((n) => {
        const c = document.createElement('canvas');
        c.className = 'unit-map-canvas';
        c.dataset.layer = String(li + 1);
        c.dataset.unit = String(n.j + 1);
        store.appendChild(c);
        if (!n.picks) onTap(n.circle, () => this.pick(li, n.j));   // once a node: attach() runs again on setAvailable
        n.picks = true;
        return c;
      });
    });
    d.onPaint = (ctx) => this.paintInto(ctx);
    if (this.data) this.draw();
  }

  /** Each drawn map in its node: a square inside the circle (side 1.45 r). */
  paintInto(ctx) {
    const d = this.diagram;
    const side = d.radius * 1.45;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';          // 32 pixels into about 18: averaged, not sampled
    this.canvases.forEach((row, li) => row.forEach((c, j) => {
      const n = d.nodes[li] && d.nodes[li][j];
      if (n && c.dataset.drawn) ctx.drawImage(c, n.cx - side / 2, n.cy - side / 2, side, side);
    }));
  }

  /** Fetch the maps again if the step changed (force: always); throttled while playing. */
  refresh(stepKey, { force = false, playing = false } = {}) {
    const id = this.getId();
    if (!this.enabled || !id) return;
    if (!force && stepKey === this.key) return;
    const wait = playing ? MIN_GAP - (performance.now() - this.last) : 0;
    if (this.busy || wait > 0) {
      this.pending = { stepKey, playing };
      if (!this.busy && !this.timer) this.timer = setTimeout(() => { this.timer = null; this.again(); }, wait);
      return;
    }
    this.fetch(id, stepKey);
  }

  again() {
    const p = this.pending;
    this.pending = false;
    if (p) this.refresh(p.stepKey, { force: true, playing: p.playing });
  }

  async fetch(id, stepKey) {
    this.busy = true;
    this.last = performance.now();
    this.key = stepKey;
    this.requests += 1;
    try {
      const res = await getJSON(`/api/sessions/${id}/unit-maps?resolution=${RES}&encoding=b64`);
      if (id !== this.getId()) return;
      this.data = decode(res);
      this.draw();
    } catch (err) {
      if (err.status === 409) this.setAvailable(false);
      else if (err.status !== 404 && this.onError) this.onError(err);
    } finally {
      this.busy = false;
      if (this.pending) this.again();
    }
  }

  /** The maps of diagram layer li (0: the features) as {maps: [mat], scale, label}. */
  layer(li) {
    const d = this.data;
    if (!d) return null;
    if (li === 0) return d.inputs;
    return d.layers[li - 1] || null;
  }

  draw() {
    const d = this.data;
    if (!d || !this.canvases) return;
    this.canvases.forEach((row, li) => {
      const L = this.layer(li);
      if (!L) return;
      row.forEach((c, j) => {
        if (j >= L.count) return;
        drawMap(c, L.mat.data, j * d.res * d.res, d.res, L.scales ? L.scales[j] : L.scale, d.flip);
        roundCorners(c);
        c.dataset.drawn = String(d.step);
      });
    });
    this.diagram.paint();                 // into the nodes
    this.drawLegend();
    if (this.picked) this.showZoom();
    document.body.dataset.unitMapsStep = String(d.step);
  }

  drawLegend() {
    const d = this.data;
    const parts = [d.inputs, ...d.layers].map((L) => {
      const s = L.scale;
      if (L.scales) {
        return `<span class="cbar-item" title="each input feature has its own colour scale, ± its largest value over the plane">
        <b>${L.label}</b> <span class="num">−max</span><canvas class="cbar" width="60" height="1"></canvas><span class="num">+max</span> <span class="muted">(each its own)</span></span>`;
      }
      return `<span class="cbar-item" title="the colour scale of ${L.label}: every unit of the layer uses it">
        <b>${L.label}</b> <span class="num">${fmt(s.lo, 2)}</span><canvas class="cbar" width="60" height="1"></canvas><span class="num">${fmt(s.hi, 2)}</span></span>`;
    });
    const html = `<span class="muted">colour scale of each layer's maps:</span> ${parts.join(' ')}`;
    if (html === this.legendHtml) return;      // the same labels and ends: the same bars (each spans its scale)
    this.legendHtml = html;
    this.legend.innerHTML = html;
    this.legend.querySelectorAll('canvas.cbar').forEach((c, k) => {
      const L = k === 0 ? d.inputs : d.layers[k - 1];
      const row = new Float32Array(60).map((_, i) => L.scale.lo + ((L.scale.hi - L.scale.lo) * i) / 59);
      drawMap(c, row, 0, 60, L.scale, false);
    });
  }

  pick(li, j) {
    this.picked = { li, j };
    this.showZoom();
  }

  showZoom() {
    const L = this.layer(this.picked.li);
    const d = this.data;
    if (!L || this.picked.j >= L.count) return;
    this.zoom.hidden = false;
    const name = this.picked.li === 0 ? `input ${L.names[this.picked.j]}` : `${L.label} unit ${this.picked.j + 1}`;
    this.zoom.querySelector('[data-role="zoom-title"]').textContent = `${name} over the input plane (step ${d.step})`;
    const c = this.zoom.querySelector('canvas');
    const s = L.scales ? L.scales[this.picked.j] : L.scale;
    drawMap(c, L.mat.data, this.picked.j * d.res * d.res, d.res, s, d.flip);
    drawColorbar(this.zoom, s, (v) => rgb(v, s));              // its scale: lo, mid and hi in numbers
    this.zoom.querySelector('[data-role="zoom-scale"]').textContent =
      `x₁ ${fmt(d.x1[0], 2)} … ${fmt(d.x1[d.res - 1], 2)} →, x₂ ${fmt(Math.min(d.x2[0], d.x2[d.res - 1]), 2)} … ${fmt(Math.max(d.x2[0], d.x2[d.res - 1]), 2)} ↑; colours ${fmt(s.lo, 2)} … ${fmt(s.hi, 2)}`;
  }

  clear() {
    this.data = null;
    this.key = null;
    this.picked = null;
    this.zoom.hidden = true;
    this.legend.innerHTML = '';
    this.legendHtml = null;
  }
}

/** The answer → {res, flip, step, x1, x2, inputs, layers}, each layer {mat, count, scale, label}. */
function decode(res) {
  const r = res.resolution;
  const axis = (a) => (Array.isArray(a) ? a : Array.from(toMat(a).data));
  const x1 = axis(res.x1);
  const x2 = axis(res.x2);
  const feats = res.features.map((f) => toMat(f.map));
  const inputs = new Float32Array(feats.length * r * r);
  const scales = feats.map((m, k) => {
    inputs.set(m.data, k * r * r);
    let lo = Infinity; let hi = -Infinity;
    m.data.forEach((v) => { if (v < lo) lo = v; if (v > hi) hi = v; });
    return scaleOf(Math.min(lo, -1e-9), hi);        // symmetric ±max: white at 0
  });
  return {
    res: r, step: res.step, x1, x2, flip: x2[0] < x2[r - 1],
    inputs: { mat: { data: inputs }, count: feats.length, scales, scale: { lo: -1, mid: 0, hi: 1 }, label: 'a(1) = x',
      names: res.features.map((f) => featureLabel(f.name)) },
    layers: res.layers.map((L) => ({ mat: toMat(L.maps), count: L.units, scale: scaleOf(L.min, L.max), label: L.label })),
  };
}
