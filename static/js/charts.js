// Live loss curves: loss and accuracy per epoch (training solid, validation dashed) and the
// loss of every minibatch step (on a canvas: cheap every frame). Plotly.newPlot once, then react.

import { CURVE, PLOT_CONFIG, baseLayout } from './colors.js';
import { StepChart } from './stepchart.js';

const Plotly = window.Plotly;
const MAX_STEP_POINTS = 4000;
const MAX_EPOCH_POINTS = 500;     // per curve drawn in the per-epoch chart
const MARKERS_UP_TO = 60;         // epochs: beyond, the curves are lines only

/** Indices 0, k, 2k, … and the last, at most about `most` of them, or null when all n fit. */
export function thinned(n, most) {
  if (n <= most) return null;
  const k = Math.ceil(n / most);
  const out = [];
  for (let i = 0; i < n; i += k) out.push(i);
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

export class Charts {
  constructor(epochEl, stepEl, logToggle) {
    this.epochEl = epochEl;
    this.stepEl = stepEl;
    this.stepChart = new StepChart(stepEl);
    this.logY = false;
    this.history = {};
    this.steps = [];
    this.losses = [];
    this.plotted = false;
    logToggle.addEventListener('change', () => { this.logY = logToggle.checked; this.draw(); });
  }

  clear() {
    this.epochKey = null;
    this.history = {};
    this.steps = [];
    this.losses = [];
    this.draw();
  }

  /** Replace everything with the server's history (Keras' History.history plus batch_loss); answers
   *  whether the per-epoch curves changed (going back within an epoch leaves them as they are). */
  setHistory(h) {
    const epochs = JSON.stringify(Object.entries(h || {}).filter(([k]) => !['batch_loss', 'batch_step', 'steps', 'epoch_number'].includes(k)));
    const changed = epochs !== this.epochKey || !this.plotted;
    this.epochKey = epochs;
    this.history = h || {};
    const bl = (h && h.batch_loss) || [];
    const given = h && (h.batch_step || h.steps);
    this.steps = bl.map((_, i) => (given ? given[i] : i + 1));
    this.losses = bl.slice();
    return changed;
  }

  /** Append the loss of one step (from a live frame); steps never go backwards. */
  addStep(step, loss) {
    if (!Number.isFinite(step) || !Number.isFinite(loss)) return;
    const last = this.steps[this.steps.length - 1];
    if (last !== undefined && step <= last) return;
    this.steps.push(step);
    this.losses.push(loss);
    if (this.steps.length > MAX_STEP_POINTS) {
      this.steps = this.steps.filter((_, i) => i % 2 === 0);
      this.losses = this.losses.filter((_, i) => i % 2 === 0);
    }
  }

  draw() { this.drawEpoch(); this.drawStep(); }

  drawEpoch() {
    const h = this.history;
    const epochs = h.epoch_number || (h.loss || []).map((_, i) => i + 1);   // thinned by the server: its epochs
    // Many epochs (xor: hundreds a minute): lines only, at most MAX_EPOCH_POINTS of them (every k-th
    // and the last) — markers on each of thousands of points made one redraw take ~300 ms.
    const keep = thinned(epochs.length, MAX_EPOCH_POINTS);
    const pick = (arr) => (keep ? keep.map((i) => arr[i]) : arr);
    const line = (key, name, color, dash, yaxis = 'y') => ({
      x: pick(epochs), y: pick(h[key] || []), name, mode: epochs.length > MARKERS_UP_TO ? 'lines' : 'lines+markers', yaxis,
      line: { color, dash, width: 2 }, marker: { size: 5 },
      hovertemplate: `${name}: %{y:.4f}<extra></extra>`,
    });
    const traces = [line('loss', 'train loss', CURVE.loss, 'solid')];
    if (h.val_loss) traces.push(line('val_loss', 'validation loss', CURVE.loss, 'dash'));
    const accKey = h.acc ? 'acc' : (h.accuracy ? 'accuracy' : null);
    if (accKey) traces.push(line(accKey, 'train accuracy', CURVE.acc, 'solid', 'y2'));
    if (h[`val_${accKey}`]) traces.push(line(`val_${accKey}`, 'validation accuracy', CURVE.acc, 'dash', 'y2'));
    const ytype = this.logY ? 'log' : 'linear';
    const epochLayout = baseLayout({
      title: { text: 'per epoch', font: { size: 13 }, x: 0.02 },
      // A few epochs: a tick at each (listed, never dtick 1: after a Reset at epoch 10,000 the axis
      // kept its range for a moment and dtick 1 made Plotly lay out 10,000 labels, 41 s frozen).
      xaxis: { title: { text: 'epoch' }, rangemode: 'tozero',
        ...(epochs.length && epochs.length < 12 ? { tickmode: 'array', tickvals: epochs.slice() } : { tickmode: 'auto' }) },
      yaxis: { title: { text: 'loss' }, type: ytype, color: CURVE.loss, zeroline: false, rangemode: 'tozero' },
      // Accuracy in % with its own round ticks (not synced to the loss axis' grid).
      yaxis2: { title: { text: 'accuracy' }, overlaying: 'y', side: 'right', range: [0, 1.02], color: CURVE.acc,
        showgrid: false, tickmode: 'array', tickvals: [0, 0.25, 0.5, 0.75, 1], tickformat: '.0%', zeroline: false },
      // under the plot and its epoch title, off the curves (one entry a row: the plot is narrow)
      legend: { orientation: 'h', x: 0, xref: 'container', y: 0, yref: 'container', yanchor: 'bottom', font: { size: 11 } },
      margin: { l: 52, r: 50, t: 28, b: 122 },
      annotations: epochs.length ? [] : [{ text: 'run an Epoch (or Play) to see these curves', showarrow: false,
        xref: 'paper', yref: 'paper', x: 0.5, y: 0.5, font: { color: '#888' } }],
    });
    if (!this.plotted) Plotly.newPlot(this.epochEl, traces, epochLayout, PLOT_CONFIG);
    else Plotly.react(this.epochEl, traces, epochLayout, PLOT_CONFIG);
    this.epochEl.dataset.points = String(epochs.length ? epochs[epochs.length - 1] : 0);   // epochs shown up to
    this.plotted = true;
  }

  drawStep() {
    this.stepChart.logY = this.logY;
    this.stepChart.draw(this.steps, this.losses);
  }
}
