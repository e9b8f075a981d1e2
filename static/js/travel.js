// Going back in time (issue 14): the page follows one line of the session's timeline, seeks to any
// step of it (one request in flight, the newest wish wins), steps phase by phase with ← and →,
// and keeps the strip, the branch list, the overlay and the post-mortem in step with the server.
// A seek's answer is drawn as any step answer is (renderAll), so every panel shows that step as it
// was; the curves come back cut at that step (GET /history after the seek).
// Making and deleting branches: static/js/branching.js.

import * as api from './api.js';
import { emptyView, merge } from './stepview.js';
import { clone, writeURL } from './state.js';
import { app, ui, hooks, handleError } from './page.js';
import { settled } from './playing.js';
import { renderAll, refreshHistory, loadWeights, lazy, drawLazy, onScreen } from './refresh.js';
import { branchName, branchPoints, entry, epochTicks, pathTo, segments, sharedStep, withNewTicks } from './lines.js';

const REFRESH_MS = 700;            // the timeline with its curves: at most this often when stopped,
const REFRESH_PLAYING_MS = 3000;   // and this often while playing
const LINE_PLAYING_MS = 250;       // the timeline's line while playing: at most this often
const NEXT = { ready: 'forward', forward: 'backward', backward: 'update' };
const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/** Does a key press in this element belong to the element (typing, a select, the speed slider)? */
function ownsArrows(el) {
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select' || el.isContentEditable) return true;
  return tag === 'input' && !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(el.type);
}

export class Travel {
  constructor({ strip, branches, overlay, postmortem }) {
    Object.assign(this, { strip, branches, overlay, postmortem });
    this.clear();
    this.latency = [];             // ms from the input to its step's panels on screen (the newest 200)
    document.addEventListener('keydown', (ev) => this.key(ev));
    onScreen.watch(overlay.el, () => { if (this.overlayStale && this.tl) { this.overlayStale = false; this.overlay.show(this.tl, this.line); } });
  }

  clear() {
    Object.assign(this, { tl: null, line: null, followed: null, seen: null, epochAt: null, sessionId: app.id,
      want: null, aim: null, busy: false });
    this.postmortem.clear();
  }

  // ----- seeking ----------------------------------------------------------------------------
  /** Stand at ``step`` (phase ready / forward / backward) of the line (or ``branch``). */
  go(step, phase = 'ready', branch = this.line) {
    if (!app.id) return;
    if (ui.controls.busy) { ui.notify.say('Wait for this action (an Epoch?) to end, then go back in time.', 2500); return; }
    if (app.playing) hooks.pause();
    this.want = { step, phase, branch, id: app.id, t0: performance.now() };
    this.aim = this.want;
    if (!this.busy) this.pump();
  }

  /** One seek at a time; while seeking the Plotly charts keep to the playing budget (refresh.js). */
  async pump() {
    this.busy = true;
    app.scrubbing = true;
    this.strip.root.dataset.busy = '1';
    while (this.want) {
      if (app.stopping) await settled();                   // after Pause: the player's last frame first
      const w = this.want;
      this.want = null;
      if (w.id !== app.id) continue;
      try {
        const res = await api.seek(w.id, w.step, w.branch, w.phase);
        if (w.id !== app.id) continue;
        this.show(res);
        this.measure(w.t0, 'seekMs');
        if (this.strip.dragging) await sleep(150);          // still dragging: the next position first
        if (!this.want) { await this.after(res); this.measure(w.t0, 'seekFullMs'); }
      } catch (err) {
        handleError(err);
        this.refresh();
      }
    }
    this.busy = false;
    app.scrubbing = false;
    drawLazy();                                             // every chart the budget left for later
    this.aim = null;
    this.strip.root.dataset.busy = '0';
    document.body.dataset.seeks = String(Number(document.body.dataset.seeks || 0) + 1);
  }

  /** How long from the input (drag, key) to the next frame on screen (benchmarks/page_seek.py). */
  measure(t0, key) {
    requestAnimationFrame(() => {
      const ms = performance.now() - t0;
      document.body.dataset[key] = ms.toFixed(1);
      if (key === 'seekMs') this.latency = [...this.latency.slice(-199), ms];
      document.body.dataset.seekLog = this.latency.map((v) => v.toFixed(1)).join(' ');
    });
  }

  /** A seek's answer: the step's frame as Step (or Forward, Backward) answered it. */
  show(res) {
    app.view = merge(emptyView(), res);
    const v = app.view;
    if (v.batch && v.batch.x && app.sample >= v.batch.x.rows) app.sample = 0;
    ui.health.record(v);
    if (v.phase !== 'diverged') { ui.notify.clearDiverged(); delete document.body.dataset.diverged; }
    renderAll();
  }

  /** What the page fetches beside a step: the curves (cut there), the decision boundary, W at step 0. */
  async after(res) {
    const jobs = [refreshHistory()];
    if (app.view.epoch < 1) ui.dataview.clearConfusion();
    if (ui.dataview.kind === 'plane' && res.phase !== 'diverged') {
      jobs.push(api.predictGrid(app.id, 40).then((g) => { app.gridData = g; lazy.mark('grid'); drawLazy(); })
        .catch((err) => { if (err.status !== 409) handleError(err); }));
    }
    if (!app.view.layers.length) jobs.push(loadWeights());
    await Promise.all(jobs);
  }

  /** The last step of the line. */
  toEnd() { this.go(this.bounds(app.view).head, 'ready'); }

  /** ← / →: one phase back or on (ready → forward → backward → the next step's update). */
  key(ev) {
    if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey || ownsArrows(ev.target)) return;
    ev.preventDefault();
    if (!app.id || app.playing || ui.controls.busy) return;
    this.phaseStep(ev.key === 'ArrowRight' ? 1 : -1);
  }

  phaseStep(dir) {
    const v = app.view;
    const at = this.aim || { step: v.step, phase: v.phase };
    const { from, head } = this.bounds(v);
    if (at.phase === 'diverged') { if (dir < 0) this.go(at.step, 'ready'); return; }
    if (dir > 0 && at.step >= head) {            // the end of the line: the buttons' own actions
      if (!this.busy) hooks.act(NEXT[at.phase]);
      return;
    }
    const to = dir > 0
      ? { ready: [at.step, 'forward'], forward: [at.step, 'backward'], backward: [at.step + 1, 'ready'] }[at.phase]
      : { ready: at.step > from ? [at.step - 1, 'backward'] : null, forward: [at.step, 'ready'], backward: [at.step, 'forward'] }[at.phase];
    if (to) this.go(to[0], to[1]);
  }

  // ----- the line and the timeline ------------------------------------------------------------
  /** The first and last step of the line the page follows. */
  bounds(v) {
    const segs = this.segs(v);
    return { from: segs[0].from, head: segs[segs.length - 1].to };
  }

  segs(v) {
    const segs = this.tl && entry(this.tl, this.line) ? segments(this.tl, this.line) : [];
    if (!segs.length) return [{ id: this.line ?? 0, from: 0, to: Math.max(v.branchHead ?? 0, v.step), batchSize: 0 }];
    const last = segs[segs.length - 1];
    if (v.branch === this.line && Number.isInteger(v.branchHead)) last.to = v.branchHead;   // fresher while stepping
    last.to = Math.max(last.to, v.branch === this.line ? v.step : 0);
    return segs;
  }

  /** Is the session (branch, step) still on the line the page follows? */
  keepsLine(v) {
    if (v.branch === this.line) return true;
    const path = pathTo(this.tl, this.line);
    const i = path.findIndex((b) => b.id === v.branch);
    return i >= 0 && i < path.length - 1 && v.step <= path[i + 1].start;
  }

  setLine(id) {
    if (id === this.line) return;
    const old = this.line;
    this.line = id;
    this.epochAt = null;
    if (old !== null) ui.health.cut(entry(this.tl, old) && entry(this.tl, id) ? sharedStep(this.tl, old, id) : app.view.step);
    if (this.tl && entry(this.tl, id)) { this.branches.show(this.tl, id); this.overlay.show(this.tl, id); }
  }

  /** After every drawing of the page (renderAll): the strip, and the timeline when it changed. */
  sync(v) {
    if (app.id !== this.sessionId) this.clear();
    if (!app.id || !Number.isInteger(v.branch)) return;
    if (this.line === null || !this.keepsLine(v)) this.setLine(v.branch);
    this.follow();
    // While playing the line (its head, epoch ticks, segments: all rebuilt when the head moves, which
    // is every frame) at most every LINE_PLAYING_MS; the thumb and the step every frame.
    const now = performance.now();
    if (!app.playing || !(now - this.lineAt < LINE_PLAYING_MS)) { this.lineAt = now; this.drawLine(v); }
    this.strip.setPosition(v.step, v.phase);
    const seen = `${v.branch}:${v.branchHead}:${v.phase === 'diverged'}`;
    if (seen !== this.seen) { this.seen = seen; this.scheduleRefresh(); }
    this.branches.setPosition(v, app.config);
    this.postmortem.sync(v, this.tl);
  }

  drawLine(v) {
    const segs = this.segs(v);
    if (v.phase === 'ready' && Number.isInteger(v.epochBatch) && v.perEpoch > 0) {
      this.epochAt = { step: v.step, epochStart: v.step - v.epochBatch, epochs: v.epoch, perEpoch: v.perEpoch };
    }
    const here = this.tl ? entry(this.tl, this.line ?? v.branch) : null;   // the server's epoch ends
    const onHead = (this.line ?? v.branch) === v.branch;      // the frames' epochs are this line's
    const head = segs[segs.length - 1].to;
    // While playing the timeline's answer can be newer than the frame drawn (the server trains on
    // meanwhile): its epoch ends past the head are not this strip's yet.
    const ticks = (here && Array.isArray(here.epoch_steps)
      ? withNewTicks(here.epoch_steps.map((step, i) => ({ step, epoch: i + 1 })).filter((t) => t.step >= segs[0].from),
        segs, onHead ? this.epochAt : null)
      : (this.epochAt ? epochTicks(segs, this.epochAt) : [])).filter((t) => t.step <= head);
    const marks = this.tl ? branchPoints(this.tl, this.line).map((m) => {
      const b = entry(this.tl, m.id);
      return { ...m, title: m.kind === 'joins' ? `from step ${m.step} this line is #${m.id}: ${branchName(b)}`
        : `#${m.id} leaves this line at step ${m.step}: ${branchName(b)} (click it in Branches to go there)` };
    }) : [];
    this.strip.setLine({ from: segs[0].from, head, ticks, marks,
      segments: segs.map(({ id, from, to }) => ({ id, from, to })) });
  }

  /** The builder shows the settings of the branch the session stands on (the server's config does). */
  follow() {
    const b = entry(this.tl, app.view.branch);
    if (!b || this.followed === b.id) return;
    const first = this.followed === null;
    this.followed = b.id;
    // The session's first timeline: the page's config is already the session's, and an answer
    // fetched before a PATCH (the batch size changed at once) must not undo that change.
    if (first) return;
    const c = app.config;
    if (JSON.stringify(c.optimizer) === JSON.stringify(b.optimizer) && c.batch_size === b.batch_size) return;
    app.config = { ...c, optimizer: clone(b.optimizer), batch_size: b.batch_size };
    ui.builder.set(app.config);
    writeURL(app.config);
  }

  /** A timeline refresh soon: at most every REFRESH_MS (REFRESH_PLAYING_MS while playing). */
  scheduleRefresh(now = false) {
    const gap = app.playing ? REFRESH_PLAYING_MS : REFRESH_MS;
    const due = performance.now() + (now ? 0 : Math.max(0, (this.last || 0) + gap - performance.now()));
    if (this.timer && this.due <= due) return;
    clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => { this.timer = null; this.refresh(); }, due - performance.now());
  }

  /** GET the timeline with every branch's curve (one request at a time). */
  async refresh() {
    const id = app.id;
    if (!id) return;
    if (this.refreshing) { this.again = true; return; }
    this.refreshing = true;
    this.last = performance.now();
    try {
      const tl = await api.timeline(id, true);
      if (id === app.id) this.setTimeline(tl);
    } catch (err) { if (err.status !== 404) handleError(err); } finally {
      this.refreshing = false;
      if (this.again) { this.again = false; this.scheduleRefresh(); }
    }
  }

  setTimeline(tl) {
    const next = !tl.curves && this.tl ? { ...tl, curves: this.tl.curves } : tl;
    this.tl = next;
    if (this.line === null || !entry(next, this.line)) this.setLine(next.position.branch);
    this.follow();
    this.branches.show(next, this.line);
    // the branches' curves (a Plotly chart): while playing only on screen; drawn when it scrolls in
    this.overlayStale = app.playing && !onScreen.visible(this.overlay.el);
    if (!this.overlayStale) this.overlay.show(next, this.line);
    this.drawLine(app.view);
    this.postmortem.sync(app.view, next);
    document.body.dataset.branches = String(next.branches.length);
  }

  // ----- branches -----------------------------------------------------------------------------
  /** Go to a branch's last step; its line becomes the page's. */
  switchTo(id) {
    const b = entry(this.tl, id);
    if (!b) return;
    this.setLine(id);
    this.go(b.head, 'ready', id);
  }

  /** A PATCH of the optimizer or batch size answered (it may have started a branch: then says so). */
  patched(res) {
    const before = app.view.branch;
    if (res && res.state) app.view = merge(app.view, { state: res.state });
    this.followed = app.view.branch;
    this.sync(app.view);
    this.scheduleRefresh(true);
    return app.view.branch !== before && Number.isInteger(before)
      ? ` A new branch, #${app.view.branch}, starts here; the old future stays on #${before} (see Branches).` : '';
  }
}
