// After a divergence: why (POST /api/sessions/{id}/post-mortem): the last step whose weights are
// all finite, each layer's ‖∂cost/∂W‖ and ‖ΔW‖/‖W‖ over the steps before it with the first layer
// that went out of line marked, and a rate (a range test from there) to branch with.

import * as api from './api.js';
import { PLOT_CONFIG, baseLayout, layerColor } from './colors.js';
import { entry } from './lines.js';
import { fmt } from './tensor.js';
import { app, handleError } from './page.js';

const Plotly = window.Plotly;
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const logable = (v) => (Number.isFinite(v) && v > 0 ? v : null);

export class PostMortem {
  constructor(root, { onGo, onBranch }) {
    this.root = root;
    this.onGo = onGo;
    this.onBranch = onBranch;
    this.plotted = false;
    root.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-act]');
      if (!btn || btn.disabled) return;
      const d = this.data;
      if (btn.dataset.act === 'why') this.fetch(this.key);
      if (!d) return;
      if (btn.dataset.act === 'go') this.onGo(d.last_finite_step, d.branch);
      if (btn.dataset.act === 'branch') this.onBranch(Number(btn.dataset.rate), { step: d.branch_from, branch: d.branch });
    });
    this.clear();
  }

  clear() {
    this.data = null;
    this.key = null;
    this.root.hidden = true;
    delete this.root.dataset.state;
  }

  /** Shown while the branch the session stands on has diverged; fetched once per divergence. */
  sync(view, tl) {
    const b = entry(tl, view.branch);
    const where = view.phase === 'diverged' ? (view.diverged || {}) : b && b.diverged;
    if (!where) { if (!this.root.hidden) this.root.hidden = true; return; }   // set each frame: only if it changes
    const key = `${app.id}:${view.branch}:${where.step}`;
    this.root.hidden = false;
    if (this.key === key) return;
    this.key = key;
    this.data = null;
    this.where = where;
    if (view.phase === 'diverged') this.fetch(key);
    else this.render();
  }

  async fetch(key) {
    this.root.dataset.state = 'working';
    this.render();
    try {
      const res = await api.postMortem(app.id);
      if (this.key === key) { this.data = res; this.root.dataset.state = 'done'; }
    } catch (err) {
      if (this.key !== key) return;
      if (err.status === 404 || err.status === 405) {      // a server without it: back one step
        const step = Math.max(0, (this.where.step ?? 1) - 1);
        this.data = { last_finite_step: step, branch_from: step, branch: null, suggested_learning_rate: null, layers: [] };
        this.root.dataset.state = 'done';
      } else { handleError(err); this.root.dataset.state = 'failed'; }
    }
    if (this.key === key) this.render();
  }

  render() {
    const d = this.data;
    const w = this.where || {};
    const what = `${w.quantity ? `${esc(w.quantity)} became infinite or NaN` : 'a value became infinite or NaN'}${w.layer !== null && w.layer !== undefined ? ` in layer ${w.layer}` : ''}`;
    let body;
    if (!d) {
      body = this.root.dataset.state === 'working'
        ? '<p class="muted">Working it out: replaying the steps before it, and a learning-rate range test from the last finite one…</p>'
        : '<button data-act="why">Show why it diverged</button>';
    } else {
      const lr = d.learning_rate ?? app.config.optimizer.learning_rate;
      const rate = Number((d.suggested_learning_rate ?? lr / 10).toPrecision(2));     // a rate people can read
      const g = d.first_out_of_line;
      const last = d.last_finite_step === w.step
        ? `The weights after step ${d.last_finite_step} are still all finite: the next step blew up.`
        : `The last step whose weights are all finite is <b>step ${d.last_finite_step}</b>.`;
      const first = !d.layers.length ? '' : (g
        ? `The gradient of <b>W(${g.layer})</b> went out of line first, at step ${g.step}: ‖∂cost/∂W(${g.layer})‖ = ${fmt(g.grad_norm, 3)}, more than 10 × its usual ${fmt(g.median, 3)} (the red ring).`
        : 'No layer\'s gradient grew out of line first: every update was simply too large.');
      const from = d.branch_from === d.last_finite_step ? ''
        : ` From step ${d.last_finite_step} every rate of the test blew up, so it starts at step ${d.branch_from}${g && d.branch_from === g.step - 1 ? ', just before W(' + g.layer + ') went out of line' : ''}.`;
      const suggest = d.suggested_learning_rate
        ? `A learning-rate range test suggests η = ${fmt(rate, 3)} (it was ${fmt(lr, 3)}).${from}`
        : `No range test result: η = ${fmt(rate, 3)}, a tenth, is only a guess.`;
      body = `<p>${last} ${first} ${suggest}</p>
        <div class="pm-actions">
          <button data-act="go" data-role="pm-go">Go to the last finite step (${d.last_finite_step})</button>
          <button data-act="branch" class="primary" data-role="pm-branch" data-rate="${rate}">Branch from step ${d.branch_from} with η = ${fmt(rate, 3)}</button>
        </div>`;
    }
    this.root.innerHTML = `<h2>Why it diverged</h2>
      <p class="pm-summary">The network diverged at step ${w.step ?? '?'}: ${what}.</p>${body}
      ${d && d.layers.length ? `<div class="chart tall" data-role="pm-chart"></div>
      <p class="help">Per layer over the steps before it: the gradient's size ‖∂cost/∂W(l)‖ (top) and the update ratio
        ‖ΔW(l)‖/‖W(l)‖ (bottom; about 10⁻³ is healthy). The dashed line is the last finite step. Gaps: ∞ or NaN.</p>` : ''}`;
    this.plotted = false;
    if (d && d.layers.length) this.draw(d);
  }

  draw(d) {
    const el = this.root.querySelector('[data-role="pm-chart"]');
    const traces = [];
    d.layers.forEach((l, i) => {
      const color = layerColor(i);
      traces.push({ x: d.steps, y: l.grad_norm.map(logable), name: `‖∂cost/∂W(${l.index})‖`, mode: 'lines+markers',
        line: { color, width: 2 }, marker: { size: 3 }, hovertemplate: `step %{x}: ‖∂cost/∂W(${l.index})‖ = %{y:.3e}<extra></extra>` });
      traces.push({ x: d.steps, y: l.update_ratio.map(logable), name: `‖ΔW(${l.index})‖/‖W(${l.index})‖`, mode: 'lines',
        yaxis: 'y2', line: { color, width: 1.5, dash: 'dot' }, hovertemplate: `step %{x}: ratio %{y:.3e}<extra></extra>` });
    });
    const g = d.first_out_of_line;
    if (g && logable(g.grad_norm)) {
      traces.push({ x: [g.step], y: [g.grad_norm], mode: 'markers', name: `W(${g.layer}) out of line`, meta: { marker: true },
        marker: { size: 13, color: 'rgba(0,0,0,0)', line: { color: '#b91c1c', width: 2.5 } },
        hovertemplate: `W(${g.layer}) out of line at step ${g.step}<extra></extra>` });
    }
    const axis = (title, extra = {}) => ({ title: { text: title }, type: 'log', exponentformat: 'power', nticks: 4, ...extra });
    const layout = baseLayout({
      grid: { rows: 2, columns: 1, pattern: 'coupled', roworder: 'top to bottom' },     // one step axis
      xaxis: { title: { text: 'step' }, dtick: d.steps.length <= 20 ? 1 : undefined },
      yaxis: axis('gradient norm'), yaxis2: axis('update ratio'),
      shapes: [{ type: 'line', xref: 'x', yref: 'paper', x0: d.last_finite_step, x1: d.last_finite_step, y0: 0, y1: 1,
        line: { color: '#6b7280', width: 1, dash: 'dash' } }],
      legend: { orientation: 'v', x: 1.02, y: 1, font: { size: 11 } },
      margin: { l: 60, r: 10, t: 10, b: 40 }, hovermode: 'closest',
    });
    Plotly.newPlot(el, traces, layout, PLOT_CONFIG);
    el.dataset.layers = String(d.layers.length);
    if (g) el.dataset.outOfLine = `${g.layer}:${g.step}`;
  }
}
