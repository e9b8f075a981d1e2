// Redrawing the page from the session: every view after each answer or frame (canvas views every
// frame, Plotly charts through the Lazy budget), and the data fetched alongside (history, decision
// boundary grid, data points, confusion matrix).

import * as api from './api.js';
import { merge } from './stepview.js';
import { maxAbs } from './tensor.js';
import { Lazy } from './schedule.js';
import { OnScreen } from './onscreen.js';
import { $, app, ui, hooks, handleError } from './page.js';

/** While playing, views off screen are not redrawn each frame (measured on MNIST, headless
 *  Chromium: the layer panels, digits and charts below the fold took most of a frame's script time). */
export const onScreen = new OnScreen();
const shown = (sel) => () => onScreen.visible($(sel));
const live = (sel) => !app.playing || onScreen.visible($(sel));

export const lazy = new Lazy({
  epoch: { every: 1500, draw: () => ui.charts.drawEpoch(), shown: shown('#chart-epoch') },
  health: { every: 1500, draw: () => ui.health.draw(), shown: shown('#chart-health') },
  grid: { every: 800, draw: () => ui.dataview.showGrid(app.gridData, { playing: app.playing }), shown: shown('#dataview') },
}, { gap: 450 });

/** Watch the views that wait while off screen: each is drawn as it scrolls back into view. */
export function watchViews() {
  ['#diagram', '#equations', '#dataview', '#chart-step', '#chart-epoch', '#chart-health']
    .forEach((sel) => onScreen.watch($(sel), () => { if (app.playing) { renderAll(); drawLazy(); } }));
}
export const drawLazy = () => lazy.draw(app.playing || app.scrubbing);   // scrubbing: static/js/travel.js

export function renderAll() {
  const v = app.view;
  ui.controls.show(v, { noSession: !app.id });
  if (live('#diagram')) {
    ui.diagram.render(v);
    if (v.phase !== 'diverged') ui.unitmaps.refresh(`${v.branch ?? ''}:${v.step}`, { playing: app.playing || app.scrubbing });
  }
  ui.layers.render(v, { playing: app.playing });
  if (live('#equations')) ui.equations.render(v, app.config);
  if (live('#dataview')) ui.dataview.showView(v);
  if (live('#chart-step')) ui.charts.drawStep();               // a canvas: every frame
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

const CONFUSION_PLAYING_MS = 3000;
let confusionAt = 0;
/** Classification: the test set's confusion matrix, after each epoch. */
export async function refreshConfusion() {
  if (!app.id || app.info.kind !== 'classification' || app.view.epoch < 1 || app.view.phase === 'diverged') return;
  // while playing: on screen, after another epoch (it is the test set's after each epoch), at most
  // every CONFUSION_PLAYING_MS (an epoch of xor is 16 steps); after Pause, the step's
  if (app.playing && (!live('#dataview') || performance.now() - confusionAt < CONFUSION_PLAYING_MS
      || $('#dataview [data-role="confusion"]')?.dataset.epoch === String(app.view.epoch))) return;
  confusionAt = performance.now();
  const lag = app.playing ? ` (while playing, counted again at most every ${CONFUSION_PLAYING_MS / 1000} s)` : '';
  try { ui.dataview.showConfusion(await api.confusion(app.id), lag); } catch (err) { if (err.status !== 409) handleError(err); }
}

const HISTORY_PLAYING_MS = 1500;    // while playing, the history (it grows) at most this often

export async function refreshHistory() {
  const h0 = app.historyFetch;
  if (!app.id) return;
  // While playing: one in flight, at most every HISTORY_PLAYING_MS (a later epoch, or Pause, fetches it)
  if (app.playing && (h0.busy || performance.now() - h0.last < HISTORY_PLAYING_MS)) return;
  h0.busy = true;
  h0.last = performance.now();
  try {
    const h = await api.history(app.id);
    if (ui.charts.setHistory(h.history || h)) lazy.mark('epoch');
    if (live('#chart-step')) ui.charts.drawStep();
    drawLazy();
    refreshConfusion();
  } catch (err) { handleError(err); } finally { h0.busy = false; }
}

/** The decision boundary's grid (GET /predict-grid): while playing at most every 600 ms and drawn
 *  at once as an image if on screen (cheap: dataview.js, surface.js); when stopped, through the
 *  Lazy budget. Forced (Pause) while a fetch is in flight: fetched again after it (the step moved). */
export async function refreshGrid(force = false) {
  const g = app.grid;
  const now = performance.now();
  if (!app.id || ui.dataview.kind !== 'plane' || app.view.phase === 'diverged') return;
  if (g.busy) { if (force) g.again = true; return; }
  if (!force && app.playing && now - g.last < 600) return;
  g.busy = true;
  g.last = now;
  try {
    app.gridData = await api.predictGrid(app.id, 40);
    if (app.playing && live('#dataview')) ui.dataview.showGrid(app.gridData, { playing: true });
    else { lazy.mark('grid'); drawLazy(); }
  } catch (err) { if (err.status !== 409) handleError(err); } finally { g.busy = false; }
  if (g.again) { g.again = false; refreshGrid(true); }
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
