// The data: for 2-D sets the train and test points over the network's decision boundary (or
// regression surface) from predict-grid; for MNIST the batch's digits with true and predicted
// labels and output probabilities, W(1) drawn as one 28×28 image per hidden unit, and the
// confusion matrix.

import { CLASS_COLORS, PLOTLY_DIVERGING, PLOTLY_SEQUENTIAL, PLOT_CONFIG, baseLayout, divergingInto } from './colors.js';
import { toMat } from './tensor.js';
import { Surface } from './surface.js';
import { BatchView, argmax } from './batchview.js';

const Plotly = window.Plotly;
const MAX_DIGITS = 12;
export const MAX_UNITS = 32;   // W(1)'s images: the first units (static/js/playing.js asks for their rows)
const UNIT_COLS = 10;     // W(1) images per row of the one canvas that holds them all
const TILE = 28 + 3;      // a 28×28 image and a 3-pixel gap (transparent)
const CONFUSION = `<h4>Confusion matrix <span class="muted" data-role="confusion-note">rows: true class, columns: predicted —
  the whole test set, after each epoch (run an Epoch)</span></h4><div class="chart small" data-role="confusion"></div>`;

/** W(1)'s first ``m`` rows as 28×28 images, each on its own diverging scale, tiled on one canvas
 *  (UNIT_COLS a row): one image upload a frame instead of 32 canvases (each its own texture). */
function drawUnits(el, W, m) {
  let canvas = el.querySelector('canvas');
  const rows = Math.ceil(m / UNIT_COLS);
  const cols = Math.min(m, UNIT_COLS);
  const width = cols * TILE - 3;
  const height = rows * TILE - 3;
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    el.innerHTML = `<canvas width="${width}" height="${height}" style="width:${(width * 10) / 7}px"></canvas>`;
    canvas = el.querySelector('canvas');
    canvas.img = canvas.getContext('2d').createImageData(width, height);     // transparent until drawn
    canvas.addEventListener('pointermove', (ev) => {
      const r = canvas.getBoundingClientRect();
      const i = Math.floor(((ev.clientY - r.top) / r.height) * height / TILE);
      const j = Math.floor(((ev.clientX - r.left) / r.width) * width / TILE);
      const k = i * UNIT_COLS + j;
      canvas.title = k < Number(canvas.dataset.units) ? `unit ${k + 1}: W(1) row ${k + 1}` : '';
    });
  }
  if (canvas.dataset.units !== String(m)) canvas.dataset.units = String(m);   // unchanged: not written (each write repaints)
  const px = canvas.img.data;
  for (let k = 0; k < m; k += 1) {
    const off = k * 784;
    let max = 0;
    for (let i = 0; i < 784; i += 1) max = Math.max(max, Math.abs(W[off + i]));
    const x0 = (k % UNIT_COLS) * TILE;
    const y0 = Math.floor(k / UNIT_COLS) * TILE;
    for (let i = 0; i < 28; i += 1) {
      for (let j = 0; j < 28; j += 1) divergingInto(px, ((y0 + i) * width + x0 + j) * 4, W[off + i * 28 + j], max || 1);
    }
  }
  canvas.getContext('2d').putImageData(canvas.img, 0, 0);
}

export class DataView {
  constructor(root) {
    this.root = root;
    this.kind = null;
    this.plotted = false;
    this.surface = new Surface();
    this.fast = null;          // while playing: the zmax of the surface drawn as an image (surface.js)
  }

  /** Prepare for a data set ({name, kind, input_shape, n_classes}). */
  build(info) {
    this.info = info || {};
    const inputs = (this.info.input_shape || [2])[0];
    this.kind = inputs === 784 ? 'mnist' : (inputs === 2 || this.info.name !== 'csv' ? 'plane' : 'none');
    this.plotted = false;
    this.fast = null;
    this.points = null;
    this.root.dataset.kind = this.kind;
    const help = document.getElementById('data-help');
    if (help) {
      help.textContent = this.kind === 'mnist'
        ? 'The current minibatch: each digit with its true and predicted label and the output layer a(L) (10 probabilities).'
        : (this.info.kind === 'regression'
          ? 'The network\'s output ŷ over the input plane (blue above 0, orange below 0, white at 0), with the targets y as the dots\' colours on the same scale. Filled dots: training points; open rings: test points.'
          : 'The network\'s prediction over the input plane: white is the decision boundary (P = 0.5), blue class 1, orange class 0. Filled dots: training points; open rings: test points.');
    }
    if (this.kind === 'mnist') {
      this.root.innerHTML = `<h4>The batch <span class="muted">true → predicted, bars: output probabilities a(L)</span></h4>
        <div class="digits" data-role="digits"></div>
        <h4>W(1) as images <span class="muted">one 28×28 picture per hidden unit: what each unit looks for</span></h4>
        <div class="units" data-role="units"></div>
        ${CONFUSION}`;
      this.batch = new BatchView(this.root.querySelector('[data-role="digits"]'), MAX_DIGITS);
    } else if (this.kind === 'plane') {
      this.root.innerHTML = `<div class="chart" data-role="boundary"></div>${this.info.kind === 'classification' ? CONFUSION : ''}`;
    } else {
      this.root.innerHTML = '<p class="muted">This data set has more than two inputs: see the layer panels.</p>';
    }
  }

  /** The decision boundary (2-D sets): grid from predict-grid, plus the data points. While
   *  `playing`, the surface is a layout image (only it is redrawn while the points and their
   *  colour scale stay); otherwise a heatmap trace (hover shows P(class 1) or ŷ). */
  showGrid(grid, { playing = false } = {}) {
    if (this.kind !== 'plane' || !grid) return;
    const el = this.root.querySelector('[data-role="boundary"]');
    const x1 = grid.x1 || grid.xs || grid.x || [];
    const x2 = grid.x2 || grid.ys || grid.y || [];
    const z = toMat(grid.value || grid.values || grid.z);
    const regression = grid.kind === 'regression' || this.info.kind === 'regression';
    const rows = x2.length;
    const cols = x1.length;
    const surface = [];
    if (z) {
      for (let i = 0; i < rows; i += 1) {
        const row = [];
        for (let j = 0; j < cols; j += 1) {
          const v = z.data[i * cols + j];
          row.push(regression ? v : 2 * v - 1);    // P(class 1) ∈ [0, 1] → [−1, 1], 0 on the boundary
        }
        surface.push(row);
      }
    }
    const zmax = regression ? Math.max(1e-6, ...surface.flat().map(Math.abs)) : 1;
    const pts = grid.points || this.points || {};
    if (playing && this.plotted && this.fast === zmax && this.fastPoints === pts) {
      const image = this.surface.image(surface, x1, x2, zmax);       // each attribute (a whole object would insert one)
      Plotly.relayout(el, Object.fromEntries(Object.entries(image).map(([k, v]) => [`images[0].${k}`, v])));
      el.dataset.drawn = String(Number(el.dataset.drawn || 0) + 1);
      return;
    }
    const traces = playing ? [] : [{ type: 'heatmap', x: x1, y: x2, z: surface, colorscale: PLOTLY_DIVERGING, zmin: -zmax, zmax, zsmooth: 'fast',
      showscale: false, opacity: 0.75, hovertemplate: regression ? 'ŷ = %{z:.3f}<extra></extra>' : 'P(class 1) = %{customdata:.3f}<extra></extra>', customdata: regression ? undefined : surface.map((r) => r.map((v) => (v + 1) / 2)) }];
    ['train', 'test'].forEach((part) => {
      const p = pts[part];
      if (!p) return;
      const X = toMat(p.x);
      const labels = p.labels || (p.targets ? Array.from(toMat(p.targets).data) : (p.y ? toLabels(toMat(p.y)) : []));
      const xs = []; const ys = []; const cs = [];
      for (let i = 0; i < X.rows; i += 1) {
        xs.push(X.data[i * X.cols]); ys.push(X.data[i * X.cols + 1]);
        cs.push(regression ? labels[i] : CLASS_COLORS[labels[i] % CLASS_COLORS.length]);
      }
      traces.push({ type: 'scatter', mode: 'markers', x: xs, y: ys, name: part,
        marker: { size: part === 'train' ? 6 : 5, color: cs, colorscale: regression ? PLOTLY_DIVERGING : undefined,
          cmin: regression ? -zmax : undefined, cmax: regression ? zmax : undefined,   // the surface's scale
          symbol: part === 'train' ? 'circle' : 'circle-open', line: { width: part === 'train' ? 0.6 : 1.4, color: part === 'train' ? '#fff' : undefined } },
        hovertemplate: `${part}: (%{x:.2f}, %{y:.2f})<extra></extra>`, meta: { points: xs.length } });
    });
    const layout = baseLayout({ xaxis: { title: { text: 'x1', standoff: 4 }, automargin: true, range: [x1[0], x1[cols - 1]], constrain: 'domain' },
      yaxis: { title: { text: 'x2' }, range: [x2[0], x2[rows - 1]], scaleanchor: 'x' },
      margin: { l: 40, r: 8, t: 8, b: 58 }, hovermode: 'closest',
      legend: { orientation: 'h', x: 0, y: 0, yref: 'container', yanchor: 'bottom' },   // under the x1 title, not on it
      images: playing ? [this.surface.image(surface, x1, x2, zmax)] : [] });
    this.fast = playing ? zmax : null;
    this.fastPoints = pts;
    if (!this.plotted) { Plotly.newPlot(el, traces, layout, PLOT_CONFIG); this.plotted = true; } else Plotly.react(el, traces, layout, PLOT_CONFIG);
    el.dataset.drawn = String(Number(el.dataset.drawn || 0) + 1);
  }

  /** MNIST: the batch's digits and W(1) as images. */
  showView(view) {
    if (this.kind !== 'mnist' || !view.batch || !view.batch.x) return;
    const x = view.batch.x;
    const y = view.batch.y;
    const out = view.layers.length ? view.layers[view.layers.length - 1].a : null;
    this.batch.draw(x, y, out);
    const first = view.layers[0];
    const units = this.root.querySelector('[data-role="units"]');
    if (first && first.W && first.W.cols === 784) {
      drawUnits(units, first.W.data, Math.min(MAX_UNITS, first.W.rows));
    }
  }

  /** No confusion matrix (back in time before the first epoch ended). */
  clearConfusion() {
    const el = this.root.querySelector('[data-role="confusion"]');
    if (!el || !el.dataset.total) return;
    Plotly.purge(el);
    delete el.dataset.total;
    delete el.dataset.epoch;
    const note = this.root.querySelector('[data-role="confusion-note"]');
    if (note) note.textContent = 'rows: true class, columns: predicted — the whole test set, after each epoch (run an Epoch)';
  }

  /** Confusion matrix over the test set (GET /confusion): rows true class, columns predicted;
   *  `lag`: said after the note (while playing it is counted only every few seconds). */
  showConfusion(res, lag = '') {
    const el = this.root.querySelector('[data-role="confusion"]');
    if (!el || !res || !res.matrix) return;
    const m = res.matrix;
    const labels = (res.class_names || m.map((_, i) => String(i))).map(String);
    const trace = { type: 'heatmap', z: m, x: labels, y: labels, colorscale: PLOTLY_SEQUENTIAL, showscale: false,
      hovertemplate: 'true %{y}, predicted %{x}: %{z}<extra></extra>', texttemplate: '%{z}', textfont: { size: 9 } };
    Plotly.react(el, [trace], baseLayout({ xaxis: { title: { text: 'predicted' }, side: 'bottom', type: 'category' },
      yaxis: { title: { text: 'true' }, autorange: 'reversed', type: 'category' }, margin: { l: 40, r: 8, t: 8, b: 36 }, hovermode: 'closest' }), PLOT_CONFIG);
    el.dataset.total = String(m.flat().reduce((a, b) => a + b, 0));
    el.dataset.epoch = String(res.epoch);
    const note = this.root.querySelector('[data-role="confusion-note"]');
    if (note) note.textContent = `rows: true class, columns: predicted — all ${res.n} test samples after epoch ${res.epoch}, accuracy ${(100 * res.accuracy).toFixed(1)}%${lag}`;
  }
}

function toLabels(y) {
  if (!y) return [];
  if (y.cols === 1) return Array.from(y.data);
  return Array.from({ length: y.rows }, (_, i) => argmax(y.data, i * y.cols, y.cols));
}

