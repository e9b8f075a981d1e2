// The page's session: making one (from the builder's config), showing one that exists (imported,
// or this tab's after a reload), closing it, and a config change (a PATCH that keeps the weights,
// or a new network).

import * as api from './api.js';
import { writeURL, needsReset, trainingPatch, clone } from './state.js';
import { emptyView, merge } from './stepview.js';
import { app, ui, handleError } from './page.js';
import { renderAll, loadPoints, loadWeights, refreshHistory, refreshGrid } from './refresh.js';
import { pause, onFrame, onMessage, onSocketStatus } from './playing.js';

const TAB_KEY = 'backprop-lab-session';     // sessionStorage: this tab's session survives a reload
// The WebSocket's encoding: binary frames (raw float32, read in place: static/js/wire.js); ?wire=b64
// or ?wire=json (read once, at load) for comparing, as benchmarks/page_fps.py does.
const WIRE = ['json', 'b64', 'bin'].find((w) => w === new URLSearchParams(location.search).get('wire')) || 'bin';

export function closeSession() {
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
  app.socket.send({ command: 'options', encoding: WIRE });
  ui.notify.clearError();
  renderAll();
  loadPoints();
  loadWeights();
  refreshGrid(true);
}

export async function newSession() {
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
export function pageConfig(config) {
  const { dataset, layers, loss, optimizer, kernel_initializer, bias_initializer, batch_size, seed, regularization } = config;
  const reg = regularization && (regularization.l1 > 0 || regularization.l2 > 0) ? regularization : null;
  return { dataset, layers: layers.map((l) => ({ units: l.units, activation: l.activation, ...(l.dropout ? { dropout: l.dropout } : {}) })), loss,
    optimizer, kernel_initializer, bias_initializer, batch_size, seed, ...(reg ? { regularization: reg } : {}) };
}

/** Show a session that already exists (imported, or this tab's after a reload): its config,
 *  weights, counters and curves. */
export function adopt(res) {
  closeSession();
  app.config = pageConfig(res.config);
  ui.builder.set(app.config);
  writeURL(app.config);
  startSession(res);
  refreshHistory();
}

/** An imported export replaced the session (same id): adopt its config, weights and counters. */
export function imported(res, name) {
  adopt(res);
  ui.notify.say(`Imported ${name}: its configuration, weights, optimizer state and curves (step ${res.state.step}, epoch ${res.state.epoch}).`);
}


/** After a reload: this tab's session again, if the server still has it and the URL asks for the
 *  same network. Answers whether it did. */
export async function resume() {
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
export async function offerOthers() {
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

export async function onConfigChange(cfg) {
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
