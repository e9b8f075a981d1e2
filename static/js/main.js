// Backprop Lab's page: wires the builder, the controls and every view to one training session
// on the server (HTTP for single steps, the WebSocket while playing).

import * as api from './api.js';
import { configFromURL, writeURL, needsReset, clone, DEFAULT_CONFIG } from './state.js';
import { emptyView, merge } from './stepview.js';
import { Builder } from './builder.js';
import { Controls } from './controls.js';
import { Diagram } from './diagram.js';
import { LayerPanels } from './layers.js';
import { Equations } from './equations.js';
import { Charts } from './charts.js';
import { Health } from './health.js';
import { Compare } from './compare.js';
import { DataView } from './dataview.js';
import { Notify } from './notify.js';

const $ = (sel) => document.querySelector(sel);
const app = { options: null, config: null, id: null, info: null, view: emptyView(), socket: null,
  playing: false, sample: 0, grid: { busy: false, last: 0 }, chartsAt: 0, frames: [], points: null };
let ui = {};
const PLAY_FIELDS = ['z', 'a', 'delta', 'dW', 'db', 'W_updated', 'b_updated', 'x', 'y', 'loss'];

// Plotly charts are the slow part of a frame: while playing, redraw at most one of them per
// animation frame, each no more often than `every` ms (when stopped, all of them at once).
const lazy = {
  step: { every: 300, draw: () => ui.charts.drawStep() },
  epoch: { every: 1000, draw: () => ui.charts.drawEpoch() },
  health: { every: 1000, draw: () => ui.health.draw() },
  grid: { every: 600, draw: () => ui.dataview.showGrid(app.gridData) },
};
Object.values(lazy).forEach((c) => { c.last = 0; c.dirty = false; });

function drawLazy() {
  const now = performance.now();
  const due = Object.values(lazy).filter((c) => c.dirty && (!app.playing || now - c.last >= c.every));
  const todo = app.playing ? due.sort((a, b) => a.last - b.last).slice(0, 1) : due;
  todo.forEach((c) => { c.dirty = false; c.last = now; c.draw(); });
}

function renderAll() {
  const v = app.view;
  ui.controls.show(v, { noSession: !app.id });
  ui.diagram.render(v);
  ui.layers.render(v);
  ui.equations.render(v, app.config);
  ui.dataview.showView(v);
  ['step', 'health'].forEach((k) => { lazy[k].dirty = true; });
  drawLazy();
  const n = v.batch && v.batch.x ? v.batch.x.rows : 0;
  $('#sample-label').textContent = n ? `sample ${app.sample + 1} of ${n} (training row ${v.batch.indices[app.sample] ?? '?'})` : 'no batch yet';
  Object.assign(document.body.dataset, { step: v.step, epoch: v.epoch, phase: v.phase, session: app.id || '' });
  if (v.phase === 'diverged') {
    ui.notify.diverged(v.diverged, app.config.optimizer.learning_rate, fixDivergence);
    document.body.dataset.diverged = 'true';
  }
}

/** Merge one answer (HTTP or a WebSocket frame) into the view and redraw. */
function apply(res, kind) {
  const before = app.view;
  app.view = merge(app.view, res);
  const v = app.view;
  if (v.batch && app.sample >= v.batch.x.rows) app.sample = 0;
  if (['step', 'frame', 'forward'].includes(kind)) {
    const loss = Number.isFinite(res.loss) ? res.loss : res.state?.batch_loss;
    if (kind !== 'forward') ui.charts.addStep(v.step, loss);
  }
  if (kind === 'update') ui.charts.addStep(v.step, res.state?.batch_loss ?? v.loss);
  collectPoints(v);
  ui.health.record(v);
  renderAll();
  if (v.epoch !== before.epoch || kind === 'epoch') refreshHistory();
  refreshGrid();
}

/** 2-D sets: the training points seen in the batches so far (the server sends no point list). */
function collectPoints(v) {
  if (!app.points || !v.batch || !v.batch.x || v.batch.x.cols !== 2) return;
  const { x, y, indices } = { ...v.batch };
  indices.forEach((row, i) => {
    if (app.points.seen.has(row)) return;
    app.points.seen.add(row);
    app.points.x.push([x.data[2 * i], x.data[2 * i + 1]]);
    app.points.labels.push(y ? (y.cols === 1 ? y.data[i] : (y.data[i * y.cols + 1] > y.data[i * y.cols] ? 1 : 0)) : 0);
  });
  ui.dataview.points = { train: { x: { shape: [app.points.x.length, 2], values: app.points.x }, labels: app.points.labels } };
}

async function refreshHistory() {
  if (!app.id) return;
  try {
    const h = await api.history(app.id);
    ui.charts.setHistory(h.history || h);
    lazy.epoch.dirty = true;
    lazy.step.dirty = true;
    drawLazy();
  } catch (err) { handleError(err); }
}

async function refreshGrid(force = false) {
  const g = app.grid;
  const now = performance.now();
  if (!app.id || ui.dataview.kind !== 'plane' || g.busy || app.view.phase === 'diverged') return;
  if (!force && app.playing && now - g.last < 600) return;
  g.busy = true;
  g.last = now;
  try {
    app.gridData = await api.predictGrid(app.id, 40);
    lazy.grid.dirty = true;
    drawLazy();
  } catch (err) { if (err.status !== 409) handleError(err); } finally { g.busy = false; }
}

function handleError(err) {
  if (err.status === 0) ui.notify.showError(err.message, 'lost');
  else ui.notify.showError(err.message);
}

async function act(name) {
  if (name === 'play') return play();
  if (name === 'pause') return pause();
  if (name === 'speed') { const s = ui.controls.speed(); app.socket.send(s ? { command: 'play', speed: s } : { command: 'play' }); return; }
  if (name === 'reset') return reset();
  if (!app.id) return;
  ui.controls.setBusy(true);
  try {
    apply(await api[name](app.id), name);
  } catch (err) { handleError(err); } finally { ui.controls.setBusy(false); }
}

function play() {
  if (!app.socket || app.view.phase === 'diverged') return;
  const s = ui.controls.speed();
  app.playing = true;
  ui.controls.setPlaying(true);
  app.frames = [];
  // Big layers (MNIST): while playing, skip W before the update and ΔW (W_updated is enough).
  const sizes = [(app.info.input_shape || [2])[0], ...app.config.layers.map((l) => l.units)];
  const big = sizes.slice(1).some((n, i) => n * sizes[i] > 20000);
  app.socket.send({ command: 'options', fields: big ? PLAY_FIELDS : null });
  app.socket.send(s ? { command: 'play', speed: s } : { command: 'play' });
}

function pause() {
  if (app.socket) app.socket.send({ command: 'pause' });
  stopped();
}

function stopped() {
  app.playing = false;
  ui.controls.setPlaying(false);
  ui.controls.showFps(null);
  renderAll();
  refreshHistory();
  refreshGrid(true);
}

function onFrame(data) {
  if (!app.playing) return;
  const now = performance.now();
  app.frames.push(now);
  while (app.frames.length && now - app.frames[0] > 2000) app.frames.shift();
  const fps = app.frames.length > 1 ? ((app.frames.length - 1) * 1000) / (now - app.frames[0]) : 0;
  ui.controls.showFps(fps);
  document.body.dataset.fps = fps.toFixed(1);
  apply(data, 'frame');
}

function onMessage(msg) {
  if (msg.type === 'playing') { app.playing = true; ui.controls.setPlaying(true); }
  if (msg.type === 'paused') {
    if (msg.state) app.view = merge(app.view, { state: msg.state });
    stopped();
  }
  if (msg.type === 'error') {
    ui.notify.showError(`${msg.command || 'server'}: ${typeof msg.detail === 'string' ? msg.detail : JSON.stringify(msg.detail)}`);
    if (msg.command === 'play') stopped();
  }
}

function onSocketStatus(status) {
  if (status === 'open') ui.notify.clearError('lost');
  if (status === 'lost') { ui.notify.showError('Lost the connection to the server — reconnecting…', 'lost'); if (app.playing) stopped(); }
  if (status === 'dead') ui.notify.showError('The connection to the server is lost. Start `backprop-lab serve` again and reload the page.', 'lost');
}

async function newSession() {
  if (app.playing) pause();
  if (app.socket) app.socket.close();
  const old = app.id;
  app.id = null;
  app.socket = null;
  if (old) api.deleteSession(old).catch(() => {});
  app.view = emptyView();
  app.sample = 0;
  ui.notify.clearDiverged();
  delete document.body.dataset.diverged;
  ui.charts.clear();
  ui.health.clear();
  try {
    const res = await api.createSession(app.config);
    app.id = res.id;
    app.info = res.dataset || app.options.datasets.find((d) => d.name === app.config.dataset.name) || {};
    const inputs = (app.info.input_shape || [2])[0];
    ui.diagram.build([inputs, ...app.config.layers.map((l) => l.units)]);
    ui.layers.build(app.config, inputs);
    ui.dataview.build(app.info);
    const features = app.config.dataset.features;
    app.points = inputs === 2 && (!features || features.join() === 'x1,x2') ? { seen: new Set(), x: [], labels: [] } : null;
    ui.dataview.points = null;
    app.view = merge(emptyView(), res);
    app.socket = new api.SessionSocket(app.id, { onFrame, onMessage, onStatus: onSocketStatus });
    app.socket.send({ command: 'options', encoding: 'b64' });
    ui.notify.clearError();
    renderAll();
    refreshGrid(true);
  } catch (err) {
    handleError(err);
    renderAll();
  }
}

async function reset() {
  if (!app.id) return newSession();
  if (app.playing) pause();
  try {
    const res = await api.reset(app.id, 'initial');
    app.view = merge(emptyView(), res);
    ui.notify.clearDiverged();
    delete document.body.dataset.diverged;
    ui.charts.clear();
    ui.health.clear();
    renderAll();
    refreshGrid(true);
    ui.notify.say('Reset: the same initial weights as before, step 0.');
  } catch (err) { handleError(err); }
}

async function setLearningRate(lr) {
  app.config.optimizer.learning_rate = lr;
  ui.builder.setLearningRate(lr);
  writeURL(app.config);
  if (app.id) await api.setOptimizer(app.id, { learning_rate: lr });
}

async function fixDivergence(lr) {
  try { await setLearningRate(lr); await reset(); } catch (err) { handleError(err); }
}

async function onConfigChange(cfg) {
  const old = app.config;
  app.config = clone(cfg);
  writeURL(app.config);
  if (!needsReset(old, cfg)) {
    if (old.optimizer.learning_rate !== cfg.optimizer.learning_rate && app.id) {
      try {
        await api.setOptimizer(app.id, { learning_rate: cfg.optimizer.learning_rate });
        ui.notify.say(`Learning rate η = ${cfg.optimizer.learning_rate}: the weights were kept, training goes on from step ${app.view.step}.`);
      } catch (err) { handleError(err); }
    }
    return;
  }
  await newSession();
  if (app.id) ui.notify.say('The network changed, so it starts again from new initial weights (reset to step 0).', 6000);
}

async function exportSession() {
  if (!app.id) return;
  try {
    const data = await api.exportSession(app.id);
    const blob = new Blob([JSON.stringify(data, null, 1)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `backprop-lab-step${app.view.step}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  } catch (err) { handleError(err); }
}

function setSample(i) {
  const n = app.view.batch && app.view.batch.x ? app.view.batch.x.rows : 1;
  app.sample = ((i % n) + n) % n;
  ui.diagram.setSample(app.sample);
  ui.equations.setSample(app.sample);
  renderAll();
}

async function init() {
  ui.notify = new Notify({ banner: $('#diverged-banner'), error: $('#error-banner'), notice: $('#notice') });
  api.onRequest(({ ok, status }) => { if (ok) ui.notify.clearError('lost'); else if (status === 0) ui.notify.showError('The server cannot be reached. Is `backprop-lab serve` still running?', 'lost'); });
  try {
    app.options = await api.options();
  } catch (err) {
    ui.notify.showError(`Cannot load the options from the server: ${err.message}. Retrying…`, 'lost');
    setTimeout(init, 3000);
    return;
  }
  app.config = configFromURL();
  const ds = app.options.datasets.find((d) => d.name === app.config.dataset.name);
  if (!ds || !ds.available) {
    ui.notify.say(ds ? `${ds.name} is not available here: ${ds.reason}` : `Unknown data set ${app.config.dataset.name}`, 8000);
    app.config = clone(DEFAULT_CONFIG);
  }
  writeURL(app.config);
  ui.builder = new Builder($('#builder'), { options: app.options, onChange: onConfigChange });
  ui.builder.set(app.config);
  ui.controls = new Controls($('#controls'), { onAction: act });
  ui.equations = new Equations($('#equations'));
  ui.diagram = new Diagram($('#diagram'), { onSelect: (sel) => { ui.equations.select(sel); renderAll(); } });
  ui.layers = new LayerPanels($('#layers'), { onPickSample: setSample });
  ui.charts = new Charts($('#chart-epoch'), $('#chart-step'), $('#log-y'));
  ui.health = new Health($('#chart-health'));
  ui.dataview = new DataView($('#dataview'));
  ui.compare = new Compare($('#compare'), { getConfig: () => clone(app.config), onError: handleError,
    onUseRate: async (lr) => { try { await setLearningRate(lr); ui.notify.say(`Training goes on with η = ${lr} (weights kept).`); } catch (err) { handleError(err); } } });
  ui.compare.drawEmpty();
  $('#scale-mode').addEventListener('change', (ev) => ui.layers.setMode(ev.target.value));
  $('#export').addEventListener('click', exportSession);
  $('#copy-link').addEventListener('click', () => navigator.clipboard?.writeText(location.href).then(() => ui.notify.say('Link copied: it reproduces this setup.')).catch(() => ui.notify.say(location.href)));
  $('#sample-prev').addEventListener('click', () => setSample(app.sample - 1));
  $('#sample-next').addEventListener('click', () => setSample(app.sample + 1));
  await newSession();
}

init();
