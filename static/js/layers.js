// Per-layer panels: heatmaps of W(l), b(l), z(l+1), a(l+1), δ(l+1), ∂cost/∂W(l), ∂cost/∂b(l)
// and the update ΔW(l), labelled in the lecture's notation. Panels off screen are drawn when
// they scroll into view, so large layers never slow down Play.

import { Heatmap } from './heatmap.js';
import { fmt, maxAbs } from './tensor.js';
import { layerColor } from './colors.js';

const QUANTITIES = [
  { key: 'W', group: 'weights', rowName: 'to unit', colName: 'from unit',
    help: 'W(l): the weights that feed layer l+1; row j holds the weights into unit j.' },
  { key: 'b', group: 'weights', rowName: 'unit', help: 'b(l): one bias per unit of layer l+1 (the "+1" unit\'s weights).' },
  { key: 'z', group: 'forward', rowName: 'sample', colName: 'unit', transpose: true,
    help: 'z(l+1) = W(l)·a(l) + b(l): the weighted input of each unit, one column per sample.' },
  { key: 'a', group: 'forward', rowName: 'sample', colName: 'unit', transpose: true,
    help: 'a(l+1) = f(z(l+1)): the activation, one column per sample of the batch.' },
  { key: 'mask', group: 'forward', rowName: 'sample', colName: 'unit', transpose: true, dropout: true,
    help: 'Dropout mask of layer l+1 for this batch: white = the unit was switched off for that sample, blue = kept (scaled by 1/(1−p)).' },
  { key: 'delta', group: 'backward', rowName: 'sample', colName: 'unit', transpose: true,
    help: 'δ(l+1) = ∂cost/∂z(l+1): the error of each unit, propagated back from the output.' },
  { key: 'dW', group: 'backward', rowName: 'to unit', colName: 'from unit',
    help: '∂cost/∂W(l) = δ(l+1)·a(l)ᵀ, averaged over the batch.' },
  { key: 'db', group: 'backward', rowName: 'unit', help: '∂cost/∂b(l) = δ(l+1), averaged over the batch.' },
  { key: 'dW_applied', group: 'update', rowName: 'to unit', colName: 'from unit',
    help: 'ΔW(l): the change the optimizer made to W(l) in the last update (W ← W − η·∂cost/∂W for SGD).' },
];

const LABEL = { mask: 'mask', W: 'W', b: 'b', z: 'z', a: 'a', delta: 'δ', dW: '∂cost/∂W', db: '∂cost/∂b', dW_applied: 'ΔW' };
const SHIFTED = new Set(['z', 'a', 'delta', 'mask']);
const label = (key, index) => `${LABEL[key]}(${SHIFTED.has(key) ? index + 1 : index})`;

export class LayerPanels {
  constructor(root, { onPickSample }) {
    this.root = root;
    this.onPickSample = onPickSample;
    this.mode = 'panel';
    this.panels = [];
    this.view = null;
    this.visible = new Set();
    this.observer = new IntersectionObserver((entries) => {
      entries.forEach((e) => {
        const i = Number(e.target.dataset.panel);
        if (e.isIntersecting) { this.visible.add(i); this.drawPanel(i); } else this.visible.delete(i);
      });
    }, { rootMargin: '200px' });
  }

  /** Rebuild the panels for a new architecture. */
  build(config, inputSize) {
    this.observer.disconnect();
    this.visible.clear();
    this.root.innerHTML = '';
    this.panels = [];
    const input = document.createElement('section');
    input.className = 'layer-panel';
    input.dataset.panel = '-1';
    input.innerHTML = `<header><h3>Layer 1 · input</h3><span class="muted">${inputSize} units</span></header>
      <p class="help">a(1) = x: the batch's inputs, one column per sample.</p><div class="hm-row"></div>`;
    this.root.appendChild(input);
    this.inputMap = new Heatmap(input.querySelector('.hm-row'), {
      key: 'x', label: 'a(1)', rowName: 'sample', colName: 'input', transpose: true,
    });
    this.inputMap.onPick = (cell) => this.onPickSample(cell.row);
    config.layers.forEach((layer, i) => {
      const index = i + 1;
      const sec = document.createElement('section');
      sec.className = 'layer-panel';
      sec.dataset.panel = String(i);
      sec.dataset.layer = String(index);
      sec.style.borderTopColor = layerColor(i);
      const fromUnits = i === 0 ? inputSize : config.layers[i - 1].units;
      sec.innerHTML = `<header><h3>Layer ${index} → ${index + 1}</h3>
        <span class="muted">${fromUnits} → ${layer.units} units, f = ${layer.activation}</span></header>
        <div class="hm-groups">
          <div class="hm-group" data-group="weights"><h4>weights</h4><div class="hm-row"></div></div>
          <div class="hm-group" data-group="forward"><h4>forward pass</h4><div class="hm-row"></div></div>
          <div class="hm-group" data-group="backward"><h4>backward pass</h4><div class="hm-row"></div></div>
          <div class="hm-group" data-group="update"><h4>update</h4><div class="hm-row"></div></div>
        </div>`;
      this.root.appendChild(sec);
      const maps = {};
      QUANTITIES.forEach((q) => {
        if (q.dropout && !(layer.dropout > 0)) return;    // the mask: only where dropout is on
        const row = sec.querySelector(`[data-group="${q.group}"] .hm-row`);
        const big = q.key === 'W' || q.key === 'dW' || q.key === 'dW_applied';
        maps[q.key] = new Heatmap(row, {
          key: q.key, label: label(q.key, index), help: q.help, rowName: q.rowName, colName: q.colName,
          transpose: q.transpose, maxWidth: big ? 240 : 200, maxHeight: big ? 150 : 120,
        });
        if (q.transpose) maps[q.key].onPick = (cell) => this.onPickSample(cell.row);
      });
      this.panels.push({ index, section: sec, maps, dirty: true });
      this.observer.observe(sec);
    });
    this.observer.observe(input);
  }

  /** The panels on screen (or within its margin): their layer entries' indices (W(l) → l). */
  visibleLayers() { return this.panels.filter((p, i) => this.visible.has(i)).map((p) => p.index); }

  setMode(mode) {
    this.mode = mode;
    this.panels.forEach((p) => { p.dirty = true; });
    this.render(this.view);
  }

  /** Show a view (from stepview.merge). Only visible panels are drawn now; the others when they
   *  scroll into view. Stopped, small layers are drawn anyway; while `playing`, none off screen. */
  render(view, { playing = false } = {}) {
    if (!view) return;
    this.view = view;
    this.playing = playing;
    this.scales = this.computeScales(view);
    this.inputDirty = true;
    this.panels.forEach((p) => { p.dirty = true; });
    if (!playing || this.visible.has(-1)) this.drawPanel(-1);
    // Big layers (MNIST's 128×784) only while on screen.
    this.panels.forEach((p, i) => {
      const entry = view.layers.find((e) => e.index === p.index);
      const size = entry && entry.W ? entry.W.data.length : 0;
      if ((!playing && size <= 4096) || this.visible.has(i)) this.drawPanel(i);
    });
  }

  computeScales(view) {
    const global = {};
    const perLayer = {};
    view.layers.forEach((entry) => {
      let layerMax = 0;
      QUANTITIES.forEach(({ key }) => {
        if (key === 'mask') return;
        const m = maxAbs(entry[key]);
        global[key] = Math.max(global[key] || 0, m);
        layerMax = Math.max(layerMax, m);
      });
      perLayer[entry.index] = layerMax;
    });
    return { global, perLayer };
  }

  scaleFor(key, entry, mat) {
    if (key === 'mask') return maxAbs(mat) || 1;
    if (this.mode === 'global') return this.scales.global[key] || 1;
    if (this.mode === 'layer') return this.scales.perLayer[entry.index] || 1;
    return maxAbs(mat) || 1;
  }

  drawPanel(i) {
    const view = this.view;
    if (!view) return;
    if (i === -1) {
      if (!this.inputDirty) return;
      this.inputDirty = false;
      const x = view.batch && view.batch.x;
      if (x) this.inputMap.set(x, maxAbs(x) || 1); else this.inputMap.clear('a(1)');
      return;
    }
    const p = this.panels[i];
    if (!p || !p.dirty) return;
    p.dirty = false;
    p.section.dataset.step = String(view.step);      // the step this panel shows
    const entry = view.layers.find((e) => e.index === p.index);
    QUANTITIES.forEach(({ key }) => {
      const mat = entry && entry[key];
      const map = p.maps[key];
      if (!map) return;
      if (mat) {
        // A play frame's W(l) or ∂cost/∂W(l) of a big layer holds the rows the page draws elsewhere
        // until this panel, on screen, asks for all of them (static/js/playing.js): say so.
        mat.label = mat.rowsOf ? `${label(key, p.index)}, rows 1–${mat.rows} of ${mat.rowsOf} (while playing)` : label(key, p.index);
        map.set(mat, this.scaleFor(key, entry, mat));
      } else {
        const sum = entry && entry.omitted && entry.omitted[key];
        // A big layer's ΔW is left out of the frames while playing (app/frames.py LEAN_DROP)
        const lean = this.playing && key === 'dW_applied' && entry && entry.W;
        const why = view.phase === 'diverged' ? 'not finite (diverged)'
          : lean ? 'not sent while playing (a layer this big): shown after Pause'
          : (sum ? `too large to send in one answer: min ${fmt(sum.min, 3)}, max ${fmt(sum.max, 3)}, mean ${fmt(sum.mean, 3)}` : 'not computed yet');
        map.clear(label(key, p.index), why);
      }
    });
  }
}
