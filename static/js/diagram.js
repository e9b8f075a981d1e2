// The network as the lecture draws it: circles for neurons (filled by their activation for the
// selected sample), a "+1" bias unit under every layer but the last, and links coloured by the
// sign of the weight and as thick as |w| (TensorFlow Playground style). Big layers show their
// first units only. Hover (or a tap) shows the values; click a neuron to see its equations.
// Everything that changes as the network trains is drawn on one canvas under the SVG: the links,
// each neuron's fill and (static/js/unitmaps.js, through onPaint) the maps inside the nodes; the
// SVG on top holds what stays (outlines, bias units, labels) and takes the pointer. Measured in
// headless Chromium while playing: 150 SVG lines rewritten each frame cost about a tenth of a core
// on MNIST (2026-12-02); with the fills and the 20 maps (canvases in foreignObjects) in the SVG the
// diagram cost xor 0.17 of a core (2026-12-03). Hovering a link finds it by its distance from the
// pointer. The canvas has a pixel per device pixel of the SVG's box (see resize).
import { divergingCss } from './colors.js';
import { at, fmt, maxAbs } from './tensor.js';
import { activationsOf } from './stepview.js';
import { showTip, hideTip, onHover, onTap } from './tooltip.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_SHOWN = 10;
const RES = Math.min(2, window.devicePixelRatio || 1);   // canvas pixels per CSS pixel (2 on a sharp screen)
const NO_VALUE = '#e3e3e3';    // a neuron before its activation is known
const UNKNOWN = { color: '#ccc', width: 0.6 };

/** Distance from point (px, py) to the segment (x1, y1)–(x2, y2). */
function toSegment(px, py, x1, y1, x2, y2) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - x1 - t * dx, py - y1 - t * dy);
}

function svgEl(tag, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, tag);
  Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v));
  if (parent) parent.appendChild(e);
  return e;
}

export class Diagram {
  constructor(root, { onSelect }) {
    this.root = root;
    this.onSelect = onSelect;
    this.sample = 0;
    this.selected = null;
    this.view = null;
    this.maxShown = MAX_SHOWN;   // static/js/unitmaps.js: 8, or every unit ("show all")
    this.gap = 24;
    this.radius = 9;
    this.onBuild = null;         // called after each build (unit maps attach their canvases)
    this.onPaint = null;         // called with the canvas's context after each paint, in SVG units (unit maps)
  }

  build(sizes, activations) {
    this.sizes = sizes;
    this.activations = activations;
    this.root.innerHTML = '';
    const W = 520;
    const gap = this.gap;
    const H = Math.max(300, (Math.min(Math.max(...sizes), this.maxShown) + 1) * gap + 40);
    const box = document.createElement('div');
    box.className = 'diagram-box';
    this.root.appendChild(box);
    this.canvas = document.createElement('canvas');      // under the SVG; its pixels: the box's, once measured
    this.canvas.className = 'paint';
    this.canvas.width = W * RES;
    this.canvas.height = H * RES;
    this.fit = { k: RES, x: 0, y: 0 };                   // SVG units → canvas pixels: x · k + x0
    box.appendChild(this.canvas);
    this.observer?.disconnect();
    this.observer = new ResizeObserver((entries) => this.resize(entries[0].contentRect));
    this.observer.observe(box);
    const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'diagram', role: 'img',
      'aria-label': 'network diagram' }, box);
    this.svg = svg;
    const gNodes = svgEl('g', { class: 'nodes' }, svg);
    const nL = sizes.length;
    const x = (l) => 40 + (l * (W - 80)) / Math.max(1, nL - 1);
    const shown = sizes.map((n) => Math.min(n, this.maxShown));
    const y = (l, j, withBias) => {
      const n = shown[l] + (withBias ? 1 : 0);
      return H / 2 - ((n - 1) * gap) / 2 + j * gap - 6;
    };
    this.nodes = [];
    this.links = [];
    sizes.forEach((n, l) => {
      const hasBias = l < nL - 1;
      const layerNodes = [];
      for (let j = 0; j < shown[l]; j += 1) {
        layerNodes.push({ l: l + 1, j, cx: x(l), cy: y(l, j, hasBias) });
      }
      if (hasBias) layerNodes.bias = { l: l + 1, cx: x(l), cy: y(l, shown[l], true) };
      this.nodes.push(layerNodes);
      const label = svgEl('text', { x: x(l), y: H - 6, class: 'layer-label', 'text-anchor': 'middle' }, svg);
      label.textContent = l === 0 ? `a(1) = x · ${n}` : `a(${l + 1}) · ${n}`;
      if (n > shown[l]) {
        const more = svgEl('text', { x: x(l), y: 14, class: 'more', 'text-anchor': 'middle' }, svg);
        more.textContent = `first ${shown[l]} of ${n}`;
      }
    });
    for (let l = 0; l < nL - 1; l += 1) {
      const from = this.nodes[l];
      const to = this.nodes[l + 1];
      to.forEach((t) => {
        from.forEach((f) => {
          this.links.push({ x1: f.cx, y1: f.cy, x2: t.cx, y2: t.cy, index: l + 1, j: t.j, k: f.j, bias: false });
        });
        const b = from.bias;
        this.links.push({ x1: b.cx, y1: b.cy, x2: t.cx, y2: t.cy, index: l + 1, j: t.j, bias: true });
      });
    }
    this.nodes.forEach((layerNodes) => {
      layerNodes.forEach((n) => {
        n.circle = svgEl('circle', { cx: n.cx, cy: n.cy, r: this.radius, class: 'neuron',
          'data-layer': n.l, 'data-unit': n.j + 1 }, gNodes);
        onTap(n.circle, () => { this.selected = { l: n.l, j: n.j }; this.render(this.view); this.onSelect(this.selected); });
      });
      if (layerNodes.bias) {
        const b = layerNodes.bias;
        svgEl('rect', { x: b.cx - 10, y: b.cy - 9, width: 20, height: 18, rx: 4, class: 'bias' }, gNodes);
        const t = svgEl('text', { x: b.cx, y: b.cy + 4, class: 'bias-text', 'text-anchor': 'middle' }, gNodes);
        t.textContent = '+1';
      }
    });
    this.W = W; this.H = H;
    onHover(svg, (ev) => this.hover(ev));           // mouse, pen and a finger's tap (static/js/tooltip.js)
    this.render(this.view);
    if (this.onBuild) this.onBuild(this);
  }

  setSample(i) { this.sample = i; this.render(this.view); }

  render(view) {
    this.view = view;
    if (!this.nodes) return;
    const s = this.sample;
    this.nodes.forEach((layerNodes, li) => {
      const l = li + 1;
      const a = view ? activationsOf(view, l) : null;
      const scale = a ? maxAbs(a) || 1 : 1;
      layerNodes.forEach((n) => {
        const has = a && s < a.rows;
        n.fill = has ? divergingCss(at(a, s, n.j), l === 1 ? scale : Math.max(scale, 1)) : NO_VALUE;
        const sel = Boolean(this.selected && this.selected.l === l && this.selected.j === n.j);
        if (sel !== n.selected) { n.circle.classList.toggle('selected', sel); n.selected = sel; }
      });
    });
    this.paint();
  }

  /** The canvas gets one pixel per device pixel of its box, and the viewBox's mapping (meet,
   *  centred, as the SVG): a bitmap the compositor has to scale costs it a resampling every frame
   *  (2026-12-03, xor playing in headless Chromium: 40 ms a second). */
  resize(rect) {
    const w = rect.width;
    const h = rect.height;
    if (!(w > 0 && h > 0)) return;
    Object.assign(this.canvas, { width: Math.round(w * RES), height: Math.round(h * RES) });
    Object.assign(this.canvas.style, { width: `${w}px`, height: `${h}px` });
    const s = Math.min(w / this.W, h / this.H);
    this.fit = { k: s * RES, x: ((w - this.W * s) / 2) * RES, y: ((h - this.H * s) / 2) * RES };
    this.paint();
  }

  /** Canvas pixel of SVG point (x, y). */
  toCanvas(x, y) { return [x * this.fit.k + this.fit.x, y * this.fit.k + this.fit.y]; }

  /** The canvas again: links, then each neuron's fill, then whatever onPaint adds (the maps). */
  paint() {
    if (!this.canvas || !this.nodes) return;
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(this.fit.k, 0, 0, this.fit.k, this.fit.x, this.fit.y);
    this.drawLinks(ctx, this.view);
    this.nodes.forEach((layerNodes) => layerNodes.forEach((n) => {
      ctx.fillStyle = n.fill || NO_VALUE;
      ctx.beginPath();
      ctx.arc(n.cx, n.cy, this.radius, 0, 2 * Math.PI);
      ctx.fill();
    }));
    if (this.onPaint) this.onPaint(ctx);
    this.canvas.step = this.view ? this.view.step : null;   // a property, not data-*: an attribute written each frame repainted the whole card
  }

  /** The weight a link stands for, or null before the weights are known. */
  weightOf(lk, view) {
    const entry = view && view.layers.find((e) => e.index === lk.index);
    const w = entry && (lk.bias ? (entry.b ? entry.b.data[lk.j] : null) : (entry.W ? at(entry.W, lk.j, lk.k) : null));
    return w === undefined ? null : w;
  }

  /** Every link on the canvas: coloured by the sign of w, as thick as |w| (0.4-5 units, scaled to
   *  the layer's largest |w| or |b|); grey before the weights are known. */
  drawLinks(ctx, view) {
    ctx.lineCap = 'butt';                         // the ends are under the neurons
    const maxW = {};
    (view ? view.layers : []).forEach((e) => { maxW[e.index] = Math.max(maxAbs(e.W), maxAbs(e.b)) || 1; });
    this.links.forEach((lk) => {
      const w = this.weightOf(lk, view);
      let { color, width } = w === null ? UNKNOWN
        : { color: divergingCss(w, maxW[lk.index]), width: 0.4 + 4.6 * Math.min(1, Math.abs(w) / maxW[lk.index]) };
      if (!Number.isFinite(width)) width = 1;     // a non-finite w (diverged): magenta, 1 unit (canvas ignores NaN)
      lk.color = color;
      lk.width = width;
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(lk.x1, lk.y1);
      ctx.lineTo(lk.x2, lk.y2);
      ctx.stroke();
    });
  }

  /** The link under client point (x, y): the nearest within its half width + 2 units, or null. */
  linkAt(x, y) {
    const m = this.svg.getScreenCTM();
    if (!m) return null;
    const p = new DOMPoint(x, y).matrixTransform(m.inverse());
    let best = null;
    let bestD = Infinity;
    this.links.forEach((lk) => {
      const d = toSegment(p.x, p.y, lk.x1, lk.y1, lk.x2, lk.y2) - (lk.width || 0.6) / 2;
      if (d < 2 && d < bestD) { best = lk; bestD = d; }
    });
    return best;
  }

  hover(ev) {
    const target = ev.target;
    const view = this.view;
    if (!view) { hideTip(); return; }
    if (target.classList.contains('neuron')) {
      const l = Number(target.dataset.layer);
      const j = Number(target.dataset.unit) - 1;
      const a = activationsOf(view, l);
      const entry = view.layers.find((e) => e.index === l - 1);
      const s = this.sample;
      const rows = [`<b>layer ${l}, unit ${j + 1}</b> · sample ${s + 1}`];
      if (entry && entry.z) rows.push(`z(${l}) = ${fmt(at(entry.z, s, j), 6)}`);
      if (a) rows.push(`a(${l}) = ${fmt(at(a, s, j), 6)}`);
      if (entry && entry.delta) rows.push(`δ(${l}) = ${fmt(at(entry.delta, s, j), 6)}`);
      if (!a) rows.push('<i>not computed yet — press Forward</i>');
      rows.push(`<span class="muted">${ev.pointerType === 'touch' ? 'its equations: in “Equations with the numbers in”' : 'click for the equations'}</span>`);
      showTip(ev, rows.join('<br>'));
      return;
    }
    const lk = target === this.svg ? this.linkAt(ev.clientX, ev.clientY) : null;   // over the links' canvas
    if (lk) {
      const entry = view.layers.find((e) => e.index === lk.index);
      const val = this.weightOf(lk, view);
      if (!entry || !entry.W || val === null) { hideTip(); return; }
      const name = lk.bias ? `b(${lk.index})[${lk.j + 1}]` : `W(${lk.index})[${lk.j + 1},${lk.k + 1}]`;
      const grad = lk.bias ? entry.db && entry.db.data[lk.j] : entry.dW && at(entry.dW, lk.j, lk.k);
      const rows = [`<b>${name}</b> = ${fmt(val, 6)}`];
      if (grad !== null && grad !== undefined) rows.push(`∂cost/∂w = ${fmt(grad, 6)}`);
      showTip(ev, rows.join('<br>'));
      return;
    }
    hideTip();
  }
}
