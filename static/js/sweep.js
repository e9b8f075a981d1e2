// The sweep panel: compare any setting, not only the learning rate. Pick one or two axes and their
// values (and how many seeds); every combination trains from the same initial weights per seed
// (POST /api/compare with a "grid"). Results: small multiples, one thumbnail per run coloured by its
// final loss, and an overlay of each setting's mean ± sd over the seeds. A click on a cell opens that
// exact run as a stepping session in a new tab (its configuration and seed: the same initial weights).

import * as api from './api.js';
import { configToQuery } from './state.js';
import { drawCells, drawOverlay, settingsLabel } from './sweepview.js';
import { fmt } from './tensor.js';

const DONE = new Set(['done', 'cancelled', 'error']);
/** Points per curve asked of the server (?points): 200 for a few runs, fewer for many (≈ 20 000 in all). */
const pointsFor = (runs) => Math.max(50, Math.min(200, Math.floor(20000 / Math.max(runs, 1))));

/** The axes and the values the form starts with for each. */
export const AXES = {
  optimizer: { label: 'optimizer', values: 'sgd, adam, rmsprop' },
  learning_rate: { label: 'learning rate η', values: '0.01, 0.1, 1' },
  batch_size: { label: 'batch size', values: '4, 16, 64' },
  kernel_initializer: { label: 'initializer', values: 'glorot_uniform, he_normal, random_normal' },
  activation: { label: 'hidden activation', values: 'tanh, relu, sigmoid' },
  layers: { label: 'hidden layers', values: '4; 8-8; 16-16-16' },
};

/** The lecture's seven optimizers at their defaults (the engine's registry names and options). */
export const SEVEN_OPTIMIZERS = [
  { name: 'sgd' }, { name: 'sgd', momentum: 0.9 }, { name: 'sgd', momentum: 0.9, nesterov: true },
  { name: 'adam' }, { name: 'adagrad' }, { name: 'rmsprop' }, { name: 'adadelta' },
];

/** The values typed for ``axis``: numbers for η and the batch size, "8-8; 16" for layers, names else. */
export function parseValues(axis, text) {
  if (axis === 'layers') {
    return text.split(';').map((s) => s.split(/[-x,\s]+/).filter(Boolean).map(Number))
      .filter((units) => units.length && units.every((u) => Number.isInteger(u) && u > 0));
  }
  const items = text.split(/[,;\s]+/).filter(Boolean);
  if (axis === 'learning_rate') return items.map(Number).filter((x) => x > 0);
  if (axis === 'batch_size') return items.map(Number).filter((x) => Number.isInteger(x) && x > 0);
  return items;
}

const MARKUP = `
  <h3>Sweep: compare any setting</h3>
  <p class="help">Pick one or two settings and their values: every combination trains from the same initial
    weights and sees the same batches (per seed), only the chosen settings differ. Several seeds give a band
    (mean ± sd) instead of one noisy curve. Each cell is one run, coloured by its final loss (dark: low);
    ✕ marks a diverged run. Click a cell to step through that exact run from its start in a new tab.</p>
  <div class="compare-form">
    <label>compare <select data-role="axis1"></select></label>
    <input data-role="values1" size="26" aria-label="values of the first setting">
    <label>by <select data-role="axis2"><option value="">(nothing)</option></select></label>
    <input data-role="values2" size="20" aria-label="values of the second setting" disabled>
    <label>seeds <input data-role="seeds" type="number" min="1" max="10" value="1"></label>
    <label>epochs <input data-role="sweep-epochs" type="number" min="1" max="50" value="3"></label>
    <button data-action="sweep" class="primary">Run sweep</button>
    <button data-action="seven" title="SGD, SGD + momentum, SGD + Nesterov, Adam, Adagrad, RMSprop, Adadelta at their defaults">All seven optimizers</button>
    <button data-action="cancel-sweep">Cancel</button>
    <span data-role="sweep-status" class="muted"></span>
  </div>
  <div class="sweep-results">
    <div><div data-role="sweep-scale" class="help"></div><div data-role="sweep-cells" class="sweep-cells"></div></div>
    <div data-role="sweep-overlay" class="chart"></div>
  </div>`;

/** Diverged runs in a line: per setting (its seeds together) how many and at which steps, the
 *  first six settings (each cell's tooltip has its reason). */
export function divergedSummary(runs) {
  const groups = new Map();
  for (const run of runs) {
    const label = settingsLabel(run.settings || {}, ['seed']);
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(run.diverged?.step);
  }
  const parts = [...groups].map(([label, steps]) => {
    const known = steps.filter(Number.isFinite);
    const lo = Math.min(...known);
    const hi = Math.max(...known);
    const at = !known.length ? '' : lo === hi ? ` at step ${lo}` : ` at steps ${lo}–${hi}`;
    return `${label}${steps.length > 1 ? ` (${steps.length} seeds)` : ''}${at}`;
  });
  return parts.slice(0, 6).join('; ') + (parts.length > 6 ? `; and ${parts.length - 6} more settings` : '');
}

export class Sweep {
  constructor(root, { getConfig, onError }) {
    this.root = root;
    this.getConfig = getConfig;
    this.onError = onError;
    this.jobId = null;
    this.result = null;
    this.plotted = false;
    root.classList.add('sweep');
    root.innerHTML = MARKUP;
    const $ = (sel) => root.querySelector(sel);
    Object.assign(this, { axis1: $('[data-role="axis1"]'), axis2: $('[data-role="axis2"]'), values1: $('[data-role="values1"]'),
      values2: $('[data-role="values2"]'), seeds: $('[data-role="seeds"]'), epochs: $('[data-role="sweep-epochs"]'),
      status: $('[data-role="sweep-status"]'), cells: $('[data-role="sweep-cells"]'), overlay: $('[data-role="sweep-overlay"]') });
    for (const [axis, { label }] of Object.entries(AXES)) {
      this.axis1.add(new Option(label, axis));
      this.axis2.add(new Option(label, axis));
    }
    this.values1.value = AXES.optimizer.values;
    this.axis1.addEventListener('change', () => { this.values1.value = AXES[this.axis1.value].values; });
    this.axis2.addEventListener('change', () => {
      this.values2.disabled = !this.axis2.value;
      this.values2.value = this.axis2.value ? AXES[this.axis2.value].values : '';
    });
    $('[data-action="sweep"]').addEventListener('click', () => this.startForm());
    $('[data-action="seven"]').addEventListener('click', () => this.start({ optimizer: SEVEN_OPTIMIZERS }));
    $('[data-action="cancel-sweep"]').addEventListener('click', () => this.cancel());
  }

  /** The grid the form describes: axis 1, axis 2 (if any), then the seeds. */
  formGrid() {
    const grid = {};
    const a1 = this.axis1.value;
    grid[a1] = parseValues(a1, this.values1.value);
    const a2 = this.axis2.value;
    if (a2 && a2 !== a1) grid[a2] = parseValues(a2, this.values2.value);
    const bad = Object.entries(grid).find(([, values]) => !values.length);
    if (bad) throw new Error(`Enter at least one value of ${AXES[bad[0]].label}.`);
    return grid;
  }

  startForm() {
    try { this.start(this.formGrid()); } catch (err) { this.status.textContent = err.message; }
  }

  async start(axes) {
    await this.cancel();
    const base = this.getConfig();
    const seeds = Math.max(1, Math.min(10, Math.round(Number(this.seeds.value) || 1)));
    const grid = { ...axes, ...(seeds > 1 ? { seed: Array.from({ length: seeds }, (_, i) => base.seed + i) } : {}) };
    const epochs = Math.max(1, Math.round(Number(this.epochs.value) || 3));
    this.columns = Object.values(grid).slice(1).reduce((n, v) => n * v.length, 1);
    if (this.columns === 1) this.columns = Math.min(8, Object.values(grid)[0].length);
    this.base = base;
    this.status.textContent = 'starting…';
    try {
      const res = await api.startCompare({ ...base, grid, epochs });
      this.jobId = res.id;
      this.show(res);
      this.poll(res.id);
    } catch (err) {
      this.status.textContent = err.message;
      this.onError(err);
    }
  }

  async poll(id) {
    while (this.jobId === id) {
      await new Promise((r) => setTimeout(r, 500));
      if (this.jobId !== id) return;
      try {
        const res = await api.getJSON(`/api/compare/${id}?points=${pointsFor(this.result?.runs?.length || 1)}`);
        this.show(res);
        if (DONE.has(res.status)) { this.jobId = null; return; }
      } catch (err) {
        this.status.textContent = err.message;
        this.jobId = null;
        return;
      }
    }
  }

  async cancel() {
    const id = this.jobId;
    this.jobId = null;
    if (id) {
      try { this.show(await api.cancelCompare(id)); } catch { /* already finished */ }
    }
  }

  show(res) {
    this.result = res;
    const runs = res.runs || [];
    const scale = drawCells(this.cells, runs, { columns: this.columns || 4, onOpen: (i) => this.open(i) });
    this.root.querySelector('[data-role="sweep-scale"]').textContent = scale
      ? `cell colour: final loss, from ${fmt(scale[0], 3)} (dark purple) to ${fmt(scale[1], 3)} (yellow)` : '';
    drawOverlay(this.overlay, runs, this.plotted);
    this.plotted = true;
    const finished = runs.filter((r) => DONE.has(r.status) || r.status === 'diverged').length;
    const diverged = runs.filter((r) => r.diverged || r.status === 'diverged');
    const workers = new Set(runs.map((r) => r.worker).filter(Boolean));
    this.status.textContent = `${res.status} · ${finished} of ${runs.length} runs finished`
      + (workers.size ? ` on ${workers.size} worker${workers.size > 1 ? 's' : ''}` : '')
      + (diverged.length ? ` · ✕ ${diverged.length} diverged: ${divergedSummary(diverged)}` : '');
    this.root.dataset.status = res.status;
    this.root.dataset.job = res.id;
  }

  /** The page's URL for run ``i``: its config (the server's), in the page's query form. */
  runURL(i) {
    const run = this.result.runs[i];
    const c = run.config;
    const cfg = { ...c, loss: c.loss ?? this.base.loss, layers: c.layers.map((l) => ({ units: l.units, activation: l.activation, ...(l.dropout ? { dropout: l.dropout } : {}) })) };
    return `${location.pathname}?${configToQuery(cfg)}`;
  }

  open(i) {
    if (!this.result?.runs?.[i]?.config) return;
    window.open(this.runURL(i), '_blank', 'noopener');     // its own tab: a new session at step 0
  }
}
