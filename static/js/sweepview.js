// Drawing a sweep's results: small multiples (one canvas thumbnail of the minibatch loss per run and,
// on 2-D sets, its decision boundary; the cell coloured by the final loss, diverged runs marked ✕
// with their step) and an overlay of
// every setting's mean loss over seeds with a band of ± one standard deviation.

import { CLASS_COLORS, PLOT_CONFIG, baseLayout, rateColor } from './colors.js';
import { fmt } from './tensor.js';

const Plotly = window.Plotly;
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/** Viridis at t ∈ [0, 1] as [r, g, b]: low final loss dark purple, high yellow. */
export function viridis(t) {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(x));
  return VIRIDIS[k].map((v, m) => Math.round(v + (VIRIDIS[k + 1][m] - v) * (x - k)));
}

/** A setting's text: "adam", "sgd + momentum 0.9 + Nesterov", "8-8", "η 0.1", ... */
export function valueLabel(axis, value) {
  if (axis === 'optimizer') {
    if (typeof value === 'string') return value;
    let text = value.name;
    if (value.momentum) text += ` + momentum ${value.momentum}`;
    if (value.nesterov) text += ' + Nesterov';
    return text;
  }
  if (axis === 'layers') return value.map((u) => (typeof u === 'object' ? u.units : u)).join('-');
  if (axis === 'learning_rate') return `η ${fmt(value, 3)}`;
  if (axis === 'batch_size') return `batch ${value}`;
  if (axis === 'seed') return `seed ${value}`;
  return String(value);
}

export const settingsLabel = (settings, skip = []) => Object.entries(settings)
  .filter(([axis]) => !skip.includes(axis)).map(([axis, v]) => valueLabel(axis, v)).join(', ') || 'as configured';

const isDiverged = (run) => Boolean(run.diverged) || run.status === 'diverged';

/** The run's final loss: its last epoch's, else its last minibatch's (null if none yet). */
export function finalLoss(run) {
  const h = run.history || {};
  const last = (h.loss || []).slice(-1)[0] ?? (h.batch_loss || []).slice(-1)[0];
  return Number.isFinite(last) ? last : null;
}

/** Runs grouped by their settings without the seed: [{label, runs}] in the sweep's order. */
export function groupBySeed(runs) {
  const groups = new Map();
  runs.forEach((run, index) => {
    const label = settingsLabel(run.settings || {}, ['seed']);
    if (!groups.has(label)) groups.set(label, { label, runs: [] });
    groups.get(label).runs.push({ ...run, index });
  });
  return [...groups.values()];
}

/** Mean and standard deviation over runs, step by step, of the runs that reached each point. */
export function meanSpread(curves) {
  const n = Math.max(0, ...curves.map((c) => c.length));
  const mean = [];
  const std = [];
  for (let k = 0; k < n; k += 1) {
    const xs = curves.map((c) => c[k]).filter(Number.isFinite);
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    mean.push(m);
    std.push(Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length));
  }
  return { mean, std };
}

function drawThumb(canvas, curve, range, diverged) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.fillRect(0, 0, w, h);
  if (curve.filter((v) => Number.isFinite(v) && v > 0).length < 2) return;
  const [lo, hi] = range.map(Math.log10);
  const y = (v) => h - 3 - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(hi - lo, 1e-9)) * (h - 6);
  const line = (values, color, width) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    values.forEach((v, k) => {
      if (!Number.isFinite(v)) return;
      const px = 2 + (k / Math.max(range.n - 1, 1)) * (w - 4);
      if (k === 0) ctx.moveTo(px, y(v)); else ctx.lineTo(px, Math.max(0, y(v)));
    });
    ctx.stroke();
  };
  line(curve, diverged ? '#e8a09a' : '#9ca3af', 1);            // every minibatch's loss
  line(smooth(curve), diverged ? '#c0392b' : '#111827', 1.6);   // its moving average
}

function rgbOf(css) {
  if (css.startsWith('#')) return [1, 3, 5].map((i) => parseInt(css.slice(i, i + 2), 16));
  return css.match(/\d+/g).slice(0, 3).map(Number);
}

/** The trained network's decision over the plane (engine/sweep.py decision_map: each cell 10·class +
 *  confidence in tenths), as the Playground draws it: the class's colour, paler where it is unsure;
 *  row 0 is the lowest x2, so it is drawn at the bottom. */
function drawMap(canvas, boundary) {
  canvas.hidden = !boundary;
  if (!boundary) return;
  const n = boundary.resolution;
  if (canvas.width !== n) { canvas.width = n; canvas.height = n; }
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(n, n);
  boundary.cells.forEach((cell, i) => {
    const rgb = rgbOf(CLASS_COLORS[Math.floor(cell / 10) % CLASS_COLORS.length]);
    const t = 0.15 + 0.75 * ((cell % 10) / 9);
    const row = n - 1 - Math.floor(i / n);
    const at = 4 * (row * n + (i % n));
    rgb.forEach((v, m) => { image.data[at + m] = Math.round(255 + (v - 255) * t); });
    image.data[at + 3] = 255;
  });
  ctx.putImageData(image, 0, 0);
}

/** The small multiples in ``root``: one cell per run (``columns`` per row), all thumbnails on one
 *  log scale; a cell's background is its final loss on viridis (finite runs only). Returns the
 *  colour scale's [lowest, highest] final loss (null before any run has one). */
export function drawCells(root, runs, { columns, onOpen }) {
  const finals = runs.map((r) => (isDiverged(r) ? null : finalLoss(r)));
  const logs = finals.filter((v) => v > 0).map(Math.log10);
  const [fmin, fmax] = logs.length ? [Math.min(...logs), Math.max(...logs)] : [0, 1];
  // one log scale for every thumbnail, set by the runs that did not diverge (a diverged one leaves the top)
  const scaled = runs.some((r) => !isDiverged(r)) ? runs.filter((r) => !isDiverged(r)) : runs;
  const all = scaled.flatMap((r) => (r.history?.batch_loss || []).filter((v) => Number.isFinite(v) && v > 0));
  const range = all.length ? [Math.min(...all), Math.max(...all)] : [1e-3, 1];
  range.n = Math.max(2, ...runs.map((r) => (r.history?.batch_loss || []).length));
  if (root.childElementCount !== runs.length) {
    root.replaceChildren(...runs.map((_, i) => {
      const cell = document.createElement('button');
      cell.className = 'sweep-cell';
      cell.dataset.index = String(i);
      cell.innerHTML = '<span class="sweep-thumbs"><canvas class="sweep-map" width="24" height="24" hidden></canvas>'
        + '<canvas class="sweep-curve" width="132" height="64"></canvas></span><span class="sweep-label"></span><span class="sweep-final"></span>';
      cell.addEventListener('click', () => onOpen(i));
      return cell;
    }));
  }
  // two axes: one row per value of the first (when the row fits); else as many cells as fit a row
  root.style.gridTemplateColumns = columns > 1 && columns <= 3 ? `repeat(${columns}, minmax(150px, 1fr))`
    : 'repeat(auto-fill, minmax(150px, 1fr))';
  runs.forEach((run, i) => {
    const cell = root.children[i];
    const diverged = isDiverged(run);
    const f = finals[i];
    const [r, g, b] = f > 0 ? viridis((Math.log10(f) - fmin) / Math.max(fmax - fmin, 1e-9)) : [200, 200, 200];
    cell.style.background = `rgb(${r},${g},${b})`;
    cell.style.color = (r * 0.3 + g * 0.59 + b * 0.11) > 140 ? '#111' : '#fff';
    cell.classList.toggle('diverged', diverged);
    cell.dataset.status = run.status;
    cell.dataset.final = f == null ? '' : String(f);
    cell.querySelector('.sweep-label').textContent = settingsLabel(run.settings || {});
    const at = run.diverged?.step != null ? ` at step ${run.diverged.step}` : '';
    cell.querySelector('.sweep-final').textContent = diverged ? `✕ diverged${at}`
      : run.status === 'error' ? '✕ error' : f == null ? run.status : `loss ${fmt(f, 3)}${run.status === 'done' ? '' : ' …'}`;
    cell.title = `${settingsLabel(run.settings || {})} · ${run.status}${run.worker ? ` on ${run.worker}` : ''}`
      + (diverged && run.diverged?.reason ? `\n${run.diverged.reason}${at}` : '')
      + (run.error ? `\n${run.error}` : '') + '\nClick: open this run step by step (same config and seed, so the same initial weights)';
    drawThumb(cell.querySelector('.sweep-curve'), run.history?.batch_loss || [], range, diverged);
    drawMap(cell.querySelector('.sweep-map'), run.boundary);
  });
  return logs.length ? [10 ** fmin, 10 ** fmax] : null;
}

/** A curve smoothed as the range test smooths it: s_k = β·s_(k−1) + (1 − β)·x_k, divided by
 *  1 − β^(k+1) (bias-corrected moving average), so one noisy minibatch does not hide the trend. */
export function smooth(curve, beta = 0.9) {
  let s = 0;
  return curve.map((x, k) => { s = beta * s + (1 - beta) * x; return s / (1 - beta ** (k + 1)); });
}

/** The overlay: each setting's mean smoothed minibatch loss over its seeds, and a band of ± one
 *  standard deviation when it has several. */
export function drawOverlay(el, runs, plotted) {
  const groups = groupBySeed(runs);
  const traces = [];
  groups.forEach((group, i) => {
    const color = rateColor(i, groups.length);
    const curves = group.runs.map((r) => smooth(r.history?.batch_loss || []));
    const stride = group.runs[0].batch_loss_stride || 1;
    const { mean, std } = meanSpread(curves);
    const x = mean.map((_, k) => k * stride + 1);
    const diverged = group.runs.filter(isDiverged).length;
    const name = `${group.label}${group.runs.length > 1 ? ` (${group.runs.length} seeds)` : ''}${diverged ? ` ✕ ${diverged} diverged` : ''}`;
    if (group.runs.length > 1) {
      const upper = mean.map((m, k) => m + std[k]);
      const lower = mean.map((m, k) => Math.max(m - std[k], m * 0.05));
      traces.push({ x: [...x, ...x.slice().reverse()], y: [...upper, ...lower.reverse()], fill: 'toself', mode: 'lines',
        line: { width: 0 }, fillcolor: color.replace('rgb', 'rgba').replace(')', ',0.18)'), hoverinfo: 'skip',
        showlegend: false, meta: { band: true } });
    }
    traces.push({ x, y: mean, name, mode: 'lines', line: { color, width: 2, dash: diverged ? 'dot' : 'solid' },
      hovertemplate: `${name}<br>step %{x}: mean loss %{y:.4g}<extra></extra>`, meta: { group: group.label } });
  });
  const layout = baseLayout({
    xaxis: { title: { text: 'step' } },
    yaxis: { title: { text: 'loss, smoothed (mean ± sd)' }, type: 'log', exponentformat: 'power' },
    hovermode: 'closest', legend: { orientation: 'h', x: 0, y: -0.3 }, margin: { l: 55, r: 10, t: 10, b: 40 },
  });
  if (!plotted) Plotly.newPlot(el, traces, layout, PLOT_CONFIG); else Plotly.react(el, traces, layout, PLOT_CONFIG);
  el.dataset.groups = String(groups.length);
}
