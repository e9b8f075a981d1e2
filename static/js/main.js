// Backprop Lab's page: wires the builder, the controls and every view to one training session
// on the server (HTTP for single steps, the WebSocket while playing).

import * as api from './api.js';
import { configFromURL, writeURL, clone } from './state.js';
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
import { renderAll, apply, loadWeights, refreshGrid, watchViews } from './refresh.js';
import { play, pause, settled } from './playing.js';
import { newSession, pageConfig, imported, resume, offerOthers, onConfigChange } from './session.js';
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
  await settled();                              // just paused: the play's last frame first
  const watch = watchProgress(app.id, name, (text) => ui.notify.say(text, 1500));
  try {
    apply(await api[name](app.id), name);
  } catch (err) { handleError(err); } finally { watch.stop(); ui.controls.setBusy(false); }
}

async function reset() {
  if (!app.id) return newSession();
  if (app.playing) pause();
  await settled();
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
    help: $('#maps-help'), getId: () => app.id, onError: handleError });
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
