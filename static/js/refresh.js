// Redrawing the page from the session: every view after each answer or frame (canvas views every
// frame, Plotly charts through the Lazy budget), and the data fetched alongside (history, decision
// boundary grid, data points, confusion matrix).

import * as api from './api.js';
import { merge } from './stepview.js';
import { maxAbs } from './tensor.js';
import { Lazy } from './schedule.js';
import { $, app, ui, hooks, handleError } from './page.js';

export const lazy = new Lazy({
  epoch: { every: 1000, draw: () => ui.charts.drawEpoch() },
  health: { every: 1000, draw: () => ui.health.draw() },
  grid: { every: 800, draw: () => ui.dataview.showGrid(app.gridData) },
});
export const drawLazy = () => lazy.draw(app.playing || app.scrubbing);   // scrubbing: static/js/travel.js

export function renderAll() {
  const v = app.view;
  ui.controls.show(v, { noSession: !app.id });
  ui.diagram.render(v);
  if (v.phase !== 'diverged') ui.unitmaps.refresh(`${v.branch ?? ''}:${v.step}`, { playing: app.playing || app.scrubbing });
  ui.layers.render(v);
  ui.equations.render(v, app.config);
  ui.dataview.showView(v);
  ui.charts.drawStep();               // a canvas: every frame
  ui.health.until = v.step + (v.phase === 'backward' ? 1 : 0);   // back in time: not the later steps
  lazy.mark('health');
  drawLazy();
  const n = v.batch && v.batch.x ? v.batch.x.rows : 0;
  $('#sample-label').textContent = n ? `sample ${app.sample + 1} of ${n} (training row ${v.batch.indices[app.sample] ?? '?'})` : 'no batch yet';
  Object.assign(document.body.dataset, { step: v.step, epoch: v.epoch, phase: v.phase, session: app.id || '' });
  if (v.phase === 'diverged') {
    ui.notify.diverged(v.diverged, app.config.optimizer.learning_rate, hooks.fixDivergence);
    document.body.dataset.diverged = 'true';
  } else {
    const boom = exploding(v);
    ui.notify.exploding(boom, app.config.optimizer.learning_rate, hooks.fixDivergence);
    if (boom) document.body.dataset.exploding = 'true'; else delete document.body.dataset.exploding;
  }
  ui.trainhealth.check(v, { playing: app.playing });
  hooks.afterRender(v);
}

/** The first layer whose weights have grown far beyond any initializer's scale (finite, so the
 *  server has not called it a divergence), or null. */
const EXPLODED = 1e4;
function exploding(v) {
  for (const e of v.layers) {
    const m = maxAbs(e.W);
    if (m > EXPLODED) return { index: e.index, max: m, step: v.step };
  }
  return null;
}

/** Merge one answer (HTTP or a WebSocket frame) into the view and redraw. */
export function apply(res, kind) {
  const before = app.view;
  app.view = merge(app.view, res);
  const v = app.view;
  if (v.batch && v.batch.x && app.sample >= v.batch.x.rows) app.sample = 0;
  if (['step', 'frame', 'forward'].includes(kind)) {
    const loss = Number.isFinite(res.loss) ? res.loss : res.state?.batch_loss;
    if (kind !== 'forward') ui.charts.addStep(v.step, loss);
  }
  if (kind === 'update') ui.charts.addStep(v.step, res.state?.batch_loss ?? v.loss);
  ui.health.record(v);
  if (res.omitted) {
    const what = res.omitted.slice(0, 4).map((o) => `${o.label} (${o.shape.join('×')})`).join(', ');
    ui.notify.say(`Too large to send in one answer, so shown as not computed: ${what}${res.omitted.length > 4 ? ', …' : ''}. A smaller batch or network shows everything.`, 8000);
  }
  renderAll();
  if (v.epoch !== before.epoch || kind === 'epoch') refreshHistory();
  refreshGrid();
}

/** 2-D sets: every train and test point (GET /data), drawn under the decision boundary. */
export async function loadPoints() {
  if (ui.dataview.kind !== 'plane') return;
  try {
    ui.dataview.points = await api.datasetPoints(app.id);
    lazy.mark('grid');
    drawLazy();
  } catch (err) { if (err.status !== 409) handleError(err); }
}

/** Classification: the test set's confusion matrix, after each epoch. */
export async function refreshConfusion() {
  if (!app.id || app.info.kind !== 'classification' || app.view.epoch < 1 || app.view.phase === 'diverged') return;
  try { ui.dataview.showConfusion(await api.confusion(app.id)); } catch (err) { if (err.status !== 409) handleError(err); }
}

export async function refreshHistory() {
  if (!app.id) return;
  try {
    const h = await api.history(app.id);
    if (ui.charts.setHistory(h.history || h)) lazy.mark('epoch');
    ui.charts.drawStep();
    drawLazy();
    refreshConfusion();
  } catch (err) { handleError(err); }
}

export async function refreshGrid(force = false) {
  const g = app.grid;
  const now = performance.now();
  if (!app.id || ui.dataview.kind !== 'plane' || g.busy || app.view.phase === 'diverged') return;
  if (!force && app.playing && now - g.last < 600) return;
  g.busy = true;
  g.last = now;
  try {
    app.gridData = await api.predictGrid(app.id, 40);
    lazy.mark('grid');
    drawLazy();
  } catch (err) { if (err.status !== 409) handleError(err); } finally { g.busy = false; }
}


/** Before the first forward pass the weights already exist: fetch them (the export, whose kernels
 *  are in Keras' (inputs, units) layout) so W(l) and b(l) and the diagram's links show at step 0. */
export async function loadWeights() {
  const id = app.id;
  if (!id) return;
  try {
    const ex = await api.exportSession(id);
    if (app.id !== id || app.view.layers.some((e) => e.W)) return;     // a newer answer got here first
    const dense = ((ex.model && ex.model.layers) || []).filter((l) => l.class_name === 'Dense');
    const weights = ex.weights || [];
    const layers = [];
    let k = 0;
    dense.forEach((l, i) => {
      const kernel = weights[k]; k += 1;
      const bias = l.config.use_bias === false ? null : weights[k];
      if (bias) k += 1;
      if (!kernel || kernel.shape.length !== 2) return;
      const [nIn, nOut] = kernel.shape;
      const values = Array.from({ length: nOut }, (_, j) => Array.from({ length: nIn }, (__, m) => kernel.values[m][j]));
      layers.push({ index: i + 1, W: { shape: [nOut, nIn], values }, b: bias ? { shape: bias.shape, values: bias.values } : null });
    });
    if (!layers.length) return;
    app.view = merge(app.view, { layers });
    renderAll();
  } catch (err) { if (err.status !== 404) handleError(err); }
}
