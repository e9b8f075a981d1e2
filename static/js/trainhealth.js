// "Too large a learning rate" taught (issue 15): GET /training-health every EVERY steps (and after
// each epoch, and when training stops), throttled to one request in flight; its warnings (loss
// rising or oscillating, saturated or dead units) are shown in a banner with their messages and a
// "Use η = suggested" button (PATCH: the weights stay).

import { getJSON } from './api.js';
import { fmt } from './tensor.js';

const EVERY = 50;
// ms between two requests while playing: on MNIST the oscillation's overshoot test (16 steps on a
// copy, the cost on 512 rows after each) takes 45-55 ms of a CPU the browser and the player share;
// every 1.5 s that was 3.4 % of the server's samples while the page played (py-spy, 2026-12-03)
const MIN_GAP = 3000;
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const KIND = { rising: 'loss rising', oscillating: 'loss oscillating', saturated: 'saturated units', dead: 'dead units' };

export class TrainingHealthBanner {
  constructor(root, { getId, onUseRate }) {
    Object.assign(this, { root, getId, onUseRate });
    this.busy = false;
    this.lastStep = 0;
    this.lastEpoch = 0;
    this.lastTime = 0;
    this.dismissed = null;      // the warnings' kinds the user closed (until they change)
    root.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      if (!b) return;
      if (b.dataset.action === 'use-suggested') this.onUseRate(Number(b.dataset.rate));
      if (b.dataset.action === 'dismiss-health') { this.dismissed = root.dataset.kinds; this.hide(); }
    });
  }

  clear() { this.lastStep = 0; this.lastEpoch = 0; this.dismissed = null; this.hide(); }

  hide() { this.root.hidden = true; this.root.innerHTML = ''; delete this.root.dataset.kinds; }

  /** After each render: ask again when EVERY steps or an epoch went by (force: now). */
  check(view, { playing = false, force = false } = {}) {
    const id = this.getId();
    if (!id || this.busy || view.phase === 'diverged') return;
    const far = Math.abs(view.step - this.lastStep) >= EVERY || view.epoch !== this.lastEpoch;
    if (!force && !far) return;
    if (!force && playing && performance.now() - this.lastTime < MIN_GAP) return;
    if (view.step < 10) return;                       // too few steps to say anything
    this.fetch(id, view, playing && !force);
  }

  async fetch(id, view, playing = false) {
    this.busy = true;
    this.lastStep = view.step;
    this.lastEpoch = view.epoch;
    this.lastTime = performance.now();
    try {
      const h = await getJSON(`/api/sessions/${id}/training-health`);
      if (id === this.getId()) this.show(h, playing);
    } catch (err) {
      /* advice only: never an error banner (409 before enough steps, 404 after a new session) */
    } finally { this.busy = false; }
  }

  /** `playing`: the banner says it is looked at again only every MIN_GAP ms (the counter runs ahead). */
  show(h, playing = false) {
    const warnings = h.warnings || [];
    const kinds = warnings.map((w) => w.kind).sort().join(',');
    if (!warnings.length || kinds === this.dismissed) { this.hide(); return; }
    const lr = h.suggested_learning_rate;
    const offer = Number.isFinite(lr) && lr > 0 && lr !== h.learning_rate
      ? `<button data-action="use-suggested" data-rate="${lr}" class="primary" title="keeps the weights: training goes on with the smaller η">Use η = ${fmt(lr, 3)}</button>` : '';
    this.root.dataset.kinds = kinds;
    this.root.innerHTML = `<span><b>Training health at step ${h.step}</b> (η = ${fmt(h.learning_rate, 3)}${h.loss && h.loss.window ? `, over the last ${h.loss.window} steps` : ''})${playing ? `<span class="muted" data-role="lag"> — while playing, checked again every ${MIN_GAP / 1000} s</span>` : ''}:
      <ul>${warnings.map((w) => `<li data-kind="${esc(w.kind)}"><b>${esc(KIND[w.kind] || w.kind)}</b>: ${esc(w.message)}</li>`).join('')}</ul></span>
      ${offer}<button data-action="dismiss-health" class="small" aria-label="dismiss">×</button>`;
    this.root.hidden = false;
  }
}
