// Backprop Lab's page: wires the builder, the controls and every view to one training session
// on the server (HTTP for single steps, the WebSocket while playing).

import * as api from './api.js';
import { configFromURL, writeURL, needsReset, trainingPatch, clone } from './state.js';
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
import { Sources, importButton } from './sources.js';
import { watchProgress } from './progress.js';
import { $, app, ui, hooks, handleError } from './page.js';
import { renderAll, apply, loadPoints, loadWeights, refreshHistory, refreshGrid, watchViews } from './refresh.js';
import { startTravel } from './travelpage.js';
import { UnitMaps } from './unitmaps.js';
import { presetButtons } from './playground.js';
import { TrainingHealthBanner } from './trainhealth.js';
import { startAutodiff } from './autodiff.js';

async function act(name) {
  if (name === 'play') return play();
  if (name === 'pause') return pause();
  if (name === 'speed') { const s = ui.controls.speed(); app.socket.send(s ? { command: 'play', speed: s } : { command: 'play' }); return; }
  if (name === 'reset') return reset();
  if (!app.id) return;
  ui.controls.setBusy(true);
  const watch = watchProgress(app.id, name, (text) => ui.notify.say(text, 1500));
  try {
    apply(await api[name](app.id), name);
  } catch (err) { handleError(err); } finally { watch.stop(); ui.controls.setBusy(false); }
}

function play() {
  if (!app.socket || app.view.phase === 'diverged') return;
  const s = ui.controls.speed();
  app.playing = true;
  ui.controls.setPlaying(true);
  app.fps.reset();
  // Big layers (MNIST): while playing the server leaves out W before the update and ΔW (W_updated
  // is enough); the frame after Pause is whole. The threshold is the server's own setting.
  // Frames paced by drawing: the next one is built when this one is drawn (at most 60 a second).
  app.socket.paced(true);
  app.socket.send({ command: 'options', fields: null, big: app.options.limits.play_lean_weights, ack: true, max_fps: PLAY_FPS });
  app.socket.send(s ? { command: 'play', speed: s } : { command: 'play' });
}

// After Pause the server sends one last frame (the current step) and then "paused": until then the
// page still takes frames (app.stopping), so it never stays on an older step than the counter.
function pause() {
  if (app.socket) { app.socket.send({ command: 'pause' }); app.stopping = true; }
  stopped();
}

function stopped() {
  app.playing = false;
  ui.controls.setPlaying(false);
  ui.controls.showFps(null);
  renderAll();
  refreshHistory();
  refreshGrid(true);
  ui.trainhealth.check(app.view, { force: true });
}

function onFrame(data) {
  if (!app.playing) {
    if (app.stopping) apply(data, 'frame');
    return;
  }
  const rate = app.fps.tick(data.step);
  ui.controls.showFps(rate);
  document.body.dataset.fps = rate.fps.toFixed(1);
  document.body.dataset.stepsPerSecond = rate.stepsPerSecond.toFixed(1);
  const started = performance.now();
  apply(data, 'frame');
  app.fps.worked(performance.now() - started);      // benchmarks/page_fps.py reads data-frame-ms
  document.body.dataset.frameMs = app.fps.workMs().toFixed(1);
}

function onMessage(msg) {
  if (msg.type === 'playing') { app.playing = true; ui.controls.setPlaying(true); }
  if (msg.type === 'paused') {
    if (app.socket) app.socket.flush();   // the last frame, if it has not been drawn yet
    app.stopping = false;
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
  if (status === 'lost') { app.stopping = false; ui.notify.showError('Lost the connection to the server — reconnecting…', 'lost'); if (app.playing) stopped(); }
  if (status === 'dead') ui.notify.showError('The connection to the server is lost. Start `backprop-lab serve` again and reload the page.', 'lost');
}

function closeSession() {
  if (app.playing) pause();
  if (app.socket) app.socket.close();
  app.socket = null;
  app.view = emptyView();
  app.sample = 0;
  app.gridData = null;
  ui.notify.clearDiverged();
  delete document.body.dataset.diverged;
  ui.charts.clear();
  ui.health.clear();
  ui.travel.clear();
  ui.trainhealth.clear();
}

/** Show a session the server answered (new, or imported under the same id). */
function startSession(res) {
  app.id = res.id;
  sessionStorage.setItem(TAB_KEY, res.id);
  app.info = res.dataset || app.options.datasets.find((d) => d.name === app.config.dataset.name) || {};
  const inputs = (app.info.input_shape || [2])[0];
  ui.diagram.build([inputs, ...app.config.layers.map((l) => l.units)]);
  ui.layers.build(app.config, inputs);
  ui.dataview.build(app.info);
  ui.unitmaps.clear();
  ui.unitmaps.setAvailable(ui.dataview.kind === 'plane');
  app.view = merge(emptyView(), res);
  app.socket = new api.SessionSocket(app.id, { onFrame, onMessage, onStatus: onSocketStatus });
  app.socket.send({ command: 'options', encoding: 'b64' });
  ui.notify.clearError();
  renderAll();
  loadPoints();
  loadWeights();
  refreshGrid(true);
}

async function newSession() {
  const old = app.id;
  closeSession();
  app.id = null;
  if (old) api.deleteSession(old).catch(() => {});
  try {
    startSession(await api.createSession(app.config));
  } catch (err) {
    handleError(err);
    renderAll();
  }
}

/** The page's config from a session's (the server's) config. */
function pageConfig(config) {
  const { dataset, layers, loss, optimizer, kernel_initializer, bias_initializer, batch_size, seed, regularization } = config;
  const reg = regularization && (regularization.l1 > 0 || regularization.l2 > 0) ? regularization : null;
  return { dataset, layers: layers.map((l) => ({ units: l.units, activation: l.activation, ...(l.dropout ? { dropout: l.dropout } : {}) })), loss,
    optimizer, kernel_initializer, bias_initializer, batch_size, seed, ...(reg ? { regularization: reg } : {}) };
}

/** Show a session that already exists (imported, or this tab's after a reload): its config,
 *  weights, counters and curves. */
function adopt(res) {
  closeSession();
  app.config = pageConfig(res.config);
  ui.builder.set(app.config);
  writeURL(app.config);
  startSession(res);
  refreshHistory();
}

/** An imported export replaced the session (same id): adopt its config, weights and counters. */
function imported(res, name) {
  adopt(res);
  ui.notify.say(`Imported ${name}: its configuration, weights, optimizer state and curves (step ${res.state.step}, epoch ${res.state.epoch}).`);
}

const PLAY_FPS = 60;      // frames a second while playing, at most (paced by drawing: see play())
const TAB_KEY = 'backprop-lab-session';     // sessionStorage: this tab's session survives a reload

/** After a reload: this tab's session again, if the server still has it and the URL asks for the
 *  same network. Answers whether it did. */
async function resume() {
  const id = sessionStorage.getItem(TAB_KEY);
  if (!id) return false;
  try {
    const res = await api.getSession(id);
    const wanted = app.config;
    if (needsReset(pageConfig(res.config), wanted)) return false;
    adopt(res);
    const patch = trainingPatch(app.config, wanted);     // the URL's optimizer or batch size, kept weights
    if (patch) {
      await onConfigChange({ ...app.config, optimizer: wanted.optimizer, batch_size: wanted.batch_size });
      ui.builder.set(app.config);
    }
    ui.notify.say(`Back to your session at step ${res.state.step}.`);
    return true;
  } catch (err) {
    if (err.status !== 404) handleError(err);
    sessionStorage.removeItem(TAB_KEY);
    return false;
  }
}

/** A new tab: say when this browser has other sessions, and offer to open the newest one here. */
async function offerOthers() {
  try {
    const others = (await api.listSessions()).filter((s) => s.id !== app.id);
    if (!others.length) return;
    const s = others[others.length - 1];
    ui.notify.offer(`You have ${others.length} other session${others.length > 1 ? 's' : ''} open (the newest: ${s.config.dataset.name}, step ${s.state.step}).`,
      'Open it here', async () => {
        const old = app.id;
        try {
          adopt(await api.getSession(s.id));
          if (old && old !== s.id) api.deleteSession(old).catch(() => {});
        } catch (err) { handleError(err); }
      });
  } catch (err) { /* the list is a convenience: never an error banner */ }
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
    loadWeights();
    refreshGrid(true);
    ui.notify.say('Reset: the same initial weights as before, step 0.');
  } catch (err) { handleError(err); }
}

async function setLearningRate(lr) {
  app.config.optimizer.learning_rate = lr;
  ui.builder.setLearningRate(lr);
  writeURL(app.config);
  if (app.id) ui.travel.patched(await api.setOptimizer(app.id, { learning_rate: lr }));   // maybe a new branch
}

hooks.fixDivergence = fixDivergence;
async function fixDivergence(lr) {
  try { await setLearningRate(lr); await reset(); } catch (err) { handleError(err); }
}

async function onConfigChange(cfg) {
  const old = app.config;
  app.config = clone(cfg);
  writeURL(app.config);
  if (!needsReset(old, cfg)) {        // optimizer or batch size: the server changes them in place
    const body = trainingPatch(old, cfg);
    if (!body || !app.id) return;
    try {
      const res = await api.patchSession(app.id, body);
      app.config.optimizer = { ...app.config.optimizer, ...res.config.optimizer };
      writeURL(app.config);
      ui.notify.say(res.changes.message + ui.travel.patched(res), 7000);   // at an earlier step: a new branch
    } catch (err) {
      handleError(err);                // refused (e.g. a value out of range): back to what the server has
      app.config = old;
      ui.builder.set(old);
      ui.builder.markRefused(body, err);   // the refused fields stay marked, with the server's reason
      writeURL(old);
    }
    return;
  }
  await newSession();
  if (app.id) ui.notify.say('The network changed, so it starts again from new initial weights (reset to step 0).', 6000);
}

/** A lecture preset (/api/options "presets"): its session, built as a new network. */
async function usePreset(session, title) {
  const ds = app.options.datasets.find((d) => d.name === session.dataset.name);
  if (!ds || !ds.available) { ui.notify.say(`${title} needs ${session.dataset.name}, which is not available here${ds ? `: ${ds.reason}` : ''}.`, 8000); return; }
  const cfg = pageConfig({ ...clone(app.options.defaults), ...session });
  ui.builder.set(cfg);
  await onConfigChange(cfg);
  if (app.id) ui.notify.say(`${title}: a new network (${[(app.info.input_shape || ['?'])[0], ...cfg.layers.map((l) => l.units)].join('-')}), step 0.`, 7000);
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
  app.config = configFromURL(app.options.defaults);
  const ds = app.options.datasets.find((d) => d.name === app.config.dataset.name);
  if (!ds || !ds.available) {
    ui.notify.say(ds ? `${ds.name} is not available here: ${ds.reason}` : `Unknown data set ${app.config.dataset.name}`, 8000);
    app.config = clone(app.options.defaults);
  }
  writeURL(app.config);
  ui.builder = new Builder($('#builder'), { options: app.options, onChange: onConfigChange });
  ui.builder.set(app.config);
  presetButtons($('#presets'), app.options.presets, usePreset);
  ui.trainhealth = new TrainingHealthBanner($('#health-banner'), { getId: () => app.id,
    onUseRate: async (lr) => {
      try { await setLearningRate(lr); ui.trainhealth.hide(); ui.notify.say(`Training goes on with η = ${lr} (weights kept).`); } catch (err) { handleError(err); }
    } });
  ui.controls = new Controls($('#controls'), { onAction: act });
  ui.travel = startTravel({ act, pause });
  ui.equations = new Equations($('#equations'));
  ui.autodiff = startAutodiff($('#autodiff'), { getId: () => app.id, getSelection: () => ui.equations.sel,
    getSample: () => ui.equations.sample, isPlaying: () => app.playing, onError: handleError });
  ui.diagram = new Diagram($('#diagram'), { onSelect: (sel) => { ui.equations.select(sel); renderAll(); } });
  ui.unitmaps = new UnitMaps(ui.diagram, { legend: $('#unit-legend'), zoom: $('#unit-zoom'), toggle: $('#unit-all'),
    getId: () => app.id, onError: handleError });
  $('#unit-zoom [data-role="zoom-close"]').addEventListener('click', () => { $('#unit-zoom').hidden = true; ui.unitmaps.picked = null; });
  ui.layers = new LayerPanels($('#layers'), { onPickSample: setSample });
  ui.charts = new Charts($('#chart-epoch'), $('#chart-step'), $('#log-y'));
  ui.health = new Health($('#chart-health'));
  ui.dataview = new DataView($('#dataview'));
  watchViews();
  ui.sources = new Sources($('#sources'), { getOptions: () => app.options, onError: handleError,
    onOptions: (o) => { app.options = o; ui.builder.setOptions(o); ui.notify.say('MNIST is downloaded: pick it as the data set.'); },
    onDataset: (spec, info) => ui.builder.useDataset(spec, info) });
  importButton($('#import'), { getId: () => app.id, onImported: imported, onError: handleError });
  ui.compare = new Compare($('#compare'), { getConfig: () => clone(app.config), onError: handleError,
    onUseRate: async (lr) => {
      if (app.view.phase === 'diverged') { await fixDivergence(lr); return; }     // NaN weights: reset too
      try { await setLearningRate(lr); ui.notify.say(`Training goes on with η = ${lr} (weights kept).`); } catch (err) { handleError(err); }
    } });
  ui.compare.drawEmpty();
  $('#scale-mode').addEventListener('change', (ev) => ui.layers.setMode(ev.target.value));
  $('#export').addEventListener('click', exportSession);
  $('#copy-link').addEventListener('click', () => navigator.clipboard?.writeText(location.href).then(() => ui.notify.say('Link copied: it reproduces this setup.')).catch(() => ui.notify.say(location.href)));
  $('#sample-prev').addEventListener('click', () => setSample(app.sample - 1));
  $('#sample-next').addEventListener('click', () => setSample(app.sample + 1));
  if (!(await resume())) {
    await newSession();
    offerOthers();
  }
}

init();
