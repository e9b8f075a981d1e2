// Playing: Play and Pause over the session's WebSocket, and drawing the frames it streams (paced:
// the page reports each frame drawn and the server sends the next then, at most PLAY_FPS a second).

import { merge } from './stepview.js';
import { app, ui } from './page.js';
import { renderAll, apply, refreshHistory, refreshGrid } from './refresh.js';
import { MAX_UNITS } from './dataview.js';

// Frames a second while playing, at most (paced by drawing: see play()). On a 2-core machine the
// browser's drawing takes CPU from the training, frame by frame (benchmarks/page_fps.py --quick,
// 2026-12-02, the player in the loop's thread: at most 40 → xor drew 34-37 frames/s at 0.82-0.87 of
// the steps/s with no page, MNIST 31-33 at 0.77-0.80). For the 2-D sets, full runs of page_fps on
// 2026-12-03: 34 → 29.6-29.9 frames/s at 0.91-0.92; 35 → 32.9 at 0.91; 37 → 33.1 at 0.88. A network
// with big layers (MNIST: 450 KB frames, lean) gets 24: 21.5-21.7 frames/s, above its 20.
const PLAY_FPS = 35;
const PLAY_FPS_BIG = 24;

/** Whether a layer of the network drawn has more weights than the server's lean threshold. */
function bigLayers(sizes, threshold) {
  return Boolean(sizes && threshold) && sizes.slice(1).some((n, i) => n * sizes[i] > threshold);
}

/** Of a layer with more weights than `lean`, the rows of W(l) and ∂cost/∂W(l) the frames carry
 *  while playing (the server's "rows", app/frames.py cut_rows): the units the page draws (the
 *  diagram's first units, where a selected unit is too; MNIST's images of W(1)); null (all) while
 *  the panel of such a layer is on screen, or every unit is shown. MNIST 784-128-64-10: frames of
 *  300 KB instead of 450. */
function wantedRows(lean) {
  const sizes = ui.diagram.sizes;
  if (!sizes || !lean) return null;
  if (ui.layers.visibleLayers().some((l) => sizes[l - 1] * sizes[l] > lean)) return null;
  const rows = Math.max(MAX_UNITS, ui.diagram.maxShown);
  return rows >= Math.max(...sizes) ? null : rows;
}

let asked = null;    // the "rows" last sent while playing

function askRows(lean) {
  const rows = wantedRows(lean);
  if (rows !== asked && app.socket) app.socket.send({ command: 'options', rows });
  setAsked(rows);
}

/** The rows asked for, also as data-play-rows (benchmarks/page_fps.py asks its bare client for the same). */
function setAsked(rows) {
  if (rows === asked && document.body.dataset.playRows !== undefined) return;
  asked = rows;
  document.body.dataset.playRows = rows === null ? '' : String(rows);
}

export function play() {
  if (!app.socket || app.view.phase === 'diverged') return;
  const s = ui.controls.speed();
  app.playing = true;
  ui.controls.setPlaying(true);
  app.fps.reset();
  // Big layers (MNIST): while playing the server leaves out W before the update and ΔW (W_updated
  // is enough); the frame after Pause is whole. The threshold is the server's own setting.
  // Frames paced by drawing: the next one is built when this one is drawn (at most PLAY_FPS a second).
  app.socket.paced(true);
  const lean = app.options.limits.play_lean_weights;
  const fps = bigLayers(ui.diagram.sizes, lean) ? PLAY_FPS_BIG : PLAY_FPS;
  setAsked(wantedRows(lean));
  app.socket.send({ command: 'options', fields: null, big: lean, rows: asked, ack: true, max_fps: fps });
  app.socket.send(s ? { command: 'play', speed: s } : { command: 'play' });
}

// After Pause the server sends one last frame (the current step) and then "paused": until then the
// page still takes frames (app.stopping), so it never stays on an older step than the counter.
export function pause() {
  if (app.socket) { app.socket.send({ command: 'pause' }); app.stopping = true; }
  stopped();
}

/** Resolves once the play has stopped: after Pause, when the player's last frame and "paused" are
 *  in (at most `ms`). An action that answers a new state (Step, Reset, …) waits for it first: the
 *  last frame of the play arriving after a Reset's answer put the old, exploded weights back on
 *  the page (a flaky browser test, test_page_review). */
export async function settled(ms = 5000) {
  const t0 = performance.now();
  while (app.stopping && performance.now() - t0 < ms) await new Promise((ok) => { setTimeout(ok, 20); });
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

export function onFrame(data) {
  if (!app.playing) {
    if (app.stopping) apply(data, 'frame');
    return;
  }
  const rate = app.fps.tick(data.step);
  ui.controls.showFps(rate);
  document.body.dataset.fps = rate.fps.toFixed(1);
  document.body.dataset.stepsPerSecond = rate.stepsPerSecond.toFixed(1);
  const started = performance.now();
  askRows(app.options.limits.play_lean_weights);     // a big layer's panel scrolled into view: all rows
  apply(data, 'frame');
  app.fps.worked(performance.now() - started);      // benchmarks/page_fps.py reads data-frame-ms
  document.body.dataset.frameMs = app.fps.workMs().toFixed(1);
}

export function onMessage(msg) {
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

export function onSocketStatus(status) {
  if (status === 'open') ui.notify.clearError('lost');
  if (status === 'lost') { app.stopping = false; ui.notify.showError('Lost the connection to the server — reconnecting…', 'lost'); if (app.playing) stopped(); }
  if (status === 'dead') ui.notify.showError('The connection to the server is lost. Start `backprop-lab serve` again and reload the page.', 'lost');
}
