// Learning-rate comparison: the same network, the same initial weights and batch order, one
// run per rate, their loss curves side by side (diverged runs marked), and the LR range test
// (loss against a growing rate, on a log axis) with its suggested rate.

import * as api from './api.js';
import { PLOT_CONFIG, baseLayout, rateColor } from './colors.js';
import { fmt } from './tensor.js';
import { Sweep } from './sweep.js';
import { meanSpread } from './sweepview.js';

const Plotly = window.Plotly;
const DONE = new Set(['done', 'finished', 'complete', 'completed', 'cancelled', 'canceled', 'failed', 'error']);

export const DEFAULT_RATES = [0.001, 0.01, 0.1, 1, 10];

/** Range tests over several seeds: each seed's smoothed loss (thin), their mean and a band of ± one
 *  standard deviation, over the rates every seed reached. */
function seedBand(runs) {
  const curves = runs.map((r) => r.history?.smoothed_loss || []).filter((c) => c.length);
  const n = Math.min(...curves.map((c) => c.length));
  if (!curves.length || !Number.isFinite(n) || n < 1) return [];
  const lrs = runs.find((r) => (r.history?.smoothed_loss || []).length)?.history.learning_rate.slice(0, n) || [];
  const { mean, std } = meanSpread(curves.map((c) => c.slice(0, n)));
  const upper = mean.map((m, k) => m + std[k]);
  const lower = mean.map((m, k) => m - std[k]);
  return [
    ...runs.map((r, i) => ({ x: r.history?.learning_rate || [], y: r.history?.smoothed_loss || [], mode: 'lines',
      name: `seed ${r.settings?.seed ?? i}`, line: { color: 'rgba(192,57,43,0.35)', width: 1 }, showlegend: false,
      hovertemplate: `seed ${r.settings?.seed ?? i}: η = %{x:.3g}, smoothed loss %{y:.4g}<extra></extra>` })),
    { x: [...lrs, ...lrs.slice().reverse()], y: [...upper, ...lower.reverse()], fill: 'toself', mode: 'lines',
      line: { width: 0 }, fillcolor: 'rgba(192,57,43,0.18)', hoverinfo: 'skip', showlegend: false, meta: { band: true } },
    { x: lrs, y: mean, mode: 'lines', name: 'mean', line: { color: '#c0392b', width: 2.5 },
      hovertemplate: 'η = %{x:.3g}: mean smoothed loss %{y:.4g}<extra></extra>', meta: { mean: true } },
  ];
}

export class Compare {
  constructor(root, { getConfig, onUseRate, onError }) {
    this.root = root;
    this.getConfig = getConfig;
    this.onUseRate = onUseRate;
    this.onError = onError;
    this.runId = null;
    this.result = null;
    this.range = null;
    this.plotted = { cmp: false, range: false };
    this.chart = root.querySelector('[data-role="compare-chart"]');
    this.rangeChart = root.querySelector('[data-role="range-chart"]');
    this.status = root.querySelector('[data-role="compare-status"]');
    this.ratesInput = root.querySelector('[data-role="rates"]');
    this.epochsInput = root.querySelector('[data-role="compare-epochs"]');
    this.useSelect = root.querySelector('[data-role="use-rate"]');
    this.rangeSeeds = root.querySelector('[data-role="range-seeds"]');
    this.ratesInput.value = DEFAULT_RATES.join(', ');
    root.querySelector('[data-action="compare"]').addEventListener('click', () => this.start('compare'));
    root.querySelector('[data-action="range-test"]').addEventListener('click', () => this.start('range_test'));
    root.querySelector('[data-action="cancel-compare"]').addEventListener('click', () => this.cancel());
    root.querySelector('[data-action="use-rate"]').addEventListener('click', () => {
      const lr = Number(this.useSelect.value);
      if (lr > 0) this.onUseRate(lr);
    });
    const box = document.createElement('div');      // the sweep panel: any setting, not only η
    box.id = 'sweep';
    root.append(box);
    this.sweep = new Sweep(box, { getConfig, onError });
  }

  rates() {
    return this.ratesInput.value.split(/[,\s;]+/).map(Number).filter((x) => x > 0 && x <= 100);
  }

  async start(mode) {
    await this.cancel();
    this.suggested = null;
    const body = { ...this.getConfig(), mode };
    const seeds = Math.max(1, Math.min(10, Math.round(Number(this.rangeSeeds?.value) || 1)));
    if (mode === 'range_test' && seeds > 1) body.seeds = Array.from({ length: seeds }, (_, i) => body.seed + i);
    if (mode === 'compare') {
      body.learning_rates = this.rates();
      body.epochs = Math.max(1, Math.round(Number(this.epochsInput.value) || 3));
      if (!body.learning_rates.length) { this.status.textContent = 'Enter at least one learning rate.'; return; }
    }
    this.status.textContent = mode === 'compare' ? 'training one copy per rate…' : 'running the range test…';
    try {
      const res = await api.startCompare(body);
      this.runId = res.id;
      this.mode = mode;
      this.show(res);
      this.poll();
    } catch (err) {
      this.status.textContent = err.message;
      this.mode = mode;
      this.finished({ status: 'failed', error: err.message });
      this.onError(err);
    }
  }

  /** Hook: a "compare-done" event on the root when a run ends, with {mode, status, suggested, error}
   *  (suggested: the range test's rate, as offered in the "use rate" list). */
  finished(detail) {
    const suggested = this.mode === 'range_test' ? this.suggested : undefined;
    this.root.dispatchEvent(new CustomEvent('compare-done', { detail: { mode: this.mode, suggested, ...detail } }));
  }

  async poll() {
    const id = this.runId;
    while (id && this.runId === id) {
      await new Promise((r) => setTimeout(r, 400));
      if (this.runId !== id) return;
      try {
        const res = await api.getCompare(id);
        this.show(res);
        if (DONE.has(res.status)) { this.runId = null; this.finished({ status: res.status }); return; }
      } catch (err) {
        this.status.textContent = err.message;
        this.runId = null;
        this.finished({ status: 'failed', error: err.message });
        return;
      }
    }
  }

  async cancel() {
    const id = this.runId;
    this.runId = null;
    if (id) { try { await api.cancelCompare(id); } catch { /* already finished */ } }
  }

  show(res) {
    if (this.mode === 'range_test' || res.mode === 'range_test') this.showRange(res);
    else this.showCompare(res);
  }

  showCompare(res) {
    this.result = res;
    const runs = res.runs || [];
    const traces = [];
    runs.forEach((run, i) => {
      const h = run.history || {};
      const y = h.batch_loss || [];
      const color = rateColor(i, runs.length);
      const diverged = run.diverged || run.status === 'diverged';
      const name = `η = ${fmt(run.learning_rate, 3)}${diverged ? ' ✕ diverged' : ''}`;
      traces.push({ x: y.map((_, k) => k + 1), y, name, mode: 'lines', line: { color, width: 2, dash: diverged ? 'dot' : 'solid' },
        hovertemplate: `${name}<br>step %{x}: loss %{y:.4g}<extra></extra>`, meta: { rate: run.learning_rate } });
      if (diverged && y.length) {
        const why = run.diverged && run.diverged.reason;
        const at = run.diverged && run.diverged.step != null ? ` at step ${run.diverged.step}` : '';
        traces.push({ x: [y.length], y: [y[y.length - 1]], mode: 'markers+text', showlegend: false,
          marker: { symbol: 'x', size: 12, color }, text: ['diverged'], textposition: 'top center',
          hovertext: [`${name}${at}${why ? `: ${why}` : ''}`], hoverinfo: 'text', meta: { marker: true } });
      }
    });
    const layout = baseLayout({
      xaxis: { title: { text: 'step' } },
      yaxis: { title: { text: 'minibatch loss' }, type: 'log', dtick: 1, exponentformat: 'power' },
      hovermode: 'closest',
      legend: { orientation: 'v', x: 1.01, y: 1 },
      margin: { l: 55, r: 10, t: 10, b: 40 },
    });
    this.react('cmp', this.chart, traces, layout);
    this.chart.dataset.runs = String(runs.length);
    const done = runs.filter((r) => (r.history?.batch_loss || []).length).length;
    const reasons = runs.filter((r) => r.diverged && r.diverged.reason)
      .map((r) => `η = ${fmt(r.learning_rate, 3)} diverged at step ${r.diverged.step}: ${r.diverged.reason}`);
    this.status.textContent = `${res.status || ''} · ${runs.length} rates · ${done} with curves`
      + (runs.some((r) => r.diverged || r.status === 'diverged') ? ' · ✕ = diverged' : '')
      + (reasons.length ? ` (${reasons.join('; ')})` : '');
    const finite = runs.filter((r) => !(r.diverged || r.status === 'diverged'));
    const best = finite.reduce((b, r) => {
      const l = r.history?.loss?.slice(-1)[0] ?? r.history?.batch_loss?.slice(-1)[0];
      return Number.isFinite(l) && (!b || l < b.l) ? { r, l } : b;
    }, null);
    this.setChoices(runs.map((r) => r.learning_rate), best ? best.r.learning_rate : null);
  }

  showRange(res) {
    this.range = res;
    const r = res.range_test || res.result || res;
    const run = (res.runs && res.runs[0]) || {};
    const lrs = r.learning_rates || r.lrs || run.learning_rates || run.history?.learning_rate || [];
    const losses = r.losses || r.loss || run.losses || run.history?.batch_loss || run.history?.loss || [];
    const raw = r.suggested_learning_rate ?? r.suggested_lr ?? res.suggested_learning_rate ?? run.suggested_learning_rate;
    const suggested = Number.isFinite(raw) ? Number(raw.toPrecision(2)) : raw;   // 0.109 → 0.11: a rate to type
    this.suggested = Number.isFinite(suggested) ? suggested : null;
    const seeded = (res.runs || []).length > 1;
    const traces = seeded ? seedBand(res.runs) : [{ x: lrs, y: losses, mode: 'lines', name: 'loss', line: { color: '#c0392b', width: 2 },
      hovertemplate: 'η = %{x:.3g}: loss %{y:.4g}<extra></extra>' }];
    const shapes = [];
    const annotations = [];
    if (Number.isFinite(suggested)) {
      shapes.push({ type: 'line', x0: suggested, x1: suggested, yref: 'paper', y0: 0, y1: 1, line: { color: '#27864a', dash: 'dash' } });
      annotations.push({ x: Math.log10(suggested), yref: 'paper', y: 1, text: `suggested η = ${fmt(suggested, 3)}`,
        showarrow: false, yanchor: 'bottom', font: { color: '#27864a' } });
    }
    const layout = baseLayout({
      xaxis: { title: { text: 'learning rate η (log)' }, type: 'log', exponentformat: 'power' },
      yaxis: { title: { text: 'loss' } },
      shapes, annotations, showlegend: false, hovermode: 'closest',
      margin: { l: 55, r: 10, t: 22, b: 40 },
    });
    this.react('range', this.rangeChart, traces, layout);
    this.status.textContent = `range test ${res.status || ''}${seeded ? ` over ${res.runs.length} seeds` : ''}`
      + (Number.isFinite(suggested) ? ` · suggested rate ${fmt(suggested, 3)}` : '')
      + (res.rule && res.status === 'done' ? ` — rule: ${res.rule}` : '');
    if (Number.isFinite(suggested)) this.setChoices([suggested, ...this.rates()], suggested);
  }

  setChoices(rates, preferred) {
    const uniq = [...new Set(rates.filter((x) => x > 0))];
    this.useSelect.innerHTML = uniq.map((x) => `<option value="${x}" ${x === preferred ? 'selected' : ''}>${fmt(x, 3)}${x === preferred ? ' (best)' : ''}</option>`).join('');
  }

  react(key, el, traces, layout) {
    if (!this.plotted[key]) { Plotly.newPlot(el, traces, layout, PLOT_CONFIG); this.plotted[key] = true; } else Plotly.react(el, traces, layout, PLOT_CONFIG);
  }

  drawEmpty() {
    const note = (text) => baseLayout({ annotations: [{ text, showarrow: false, xref: 'paper', yref: 'paper', x: 0.5, y: 0.5, font: { color: '#888' } }],
      xaxis: { visible: false }, yaxis: { visible: false } });
    this.react('cmp', this.chart, [], note('press Compare to train one copy per rate'));
    this.react('range', this.rangeChart, [], note('press LR range test'));
  }
}
