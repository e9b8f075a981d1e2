// Gradient health: per layer, ‖∂cost/∂W(l)‖ and the update ratio ‖ΔW(l)‖/‖W(l)‖ over the steps,
// so vanishing (tiny, shrinking toward the input) and exploding gradients can be seen.
// Both panels are log axes: a value of 0 (a saturated tanh's gradient, an update below float32's
// resolution) or ∞/NaN has no place on them, so it is left out and the note under the chart says
// how often; a value between two left-out ones gets a marker (a line needs two points).

import { PLOT_CONFIG, baseLayout, layerColor } from './colors.js';
import { norm } from './tensor.js';

const Plotly = window.Plotly;
const MAX_POINTS = 2000;
const TICKS = 4;             // at most this many labels per panel (≈ 100 px high), over any range

/** Can v be drawn on a log axis? */
const drawable = (v) => Number.isFinite(v) && v > 0;

/** y for Plotly (null where v cannot be drawn) and a marker size per point: only lone points. */
function plotted(values) {
  const y = values.map((v) => (drawable(v) ? v : null));
  const size = y.map((v, i) => (v !== null && y[i - 1] == null && y[i + 1] == null ? 5 : 0));
  return { y, size };
}

/** How many recorded values are 0 and how many are ∞ or NaN (null = not measured at that step). */
function leftOut(values) {
  let zero = 0;
  let bad = 0;
  values.forEach((v) => { if (v === 0) zero += 1; else if (v !== null && !drawable(v)) bad += 1; });
  return { zero, bad, n: values.filter((v) => v !== null).length };
}

export class Health {
  constructor(el) {
    this.el = el;
    this.series = {};
    this.plotted = false;
    this.until = Infinity;       // the step shown (after going back in time, the later ones are hidden)
    this.note = document.createElement('p');
    this.note.className = 'help health-note';
    this.note.dataset.role = 'health-left-out';
    el.after(this.note);
  }

  clear() { this.series = {}; this.draw(); }

  /** Forget the steps after ``step`` (they were another branch's). */
  cut(step) {
    Object.values(this.series).forEach((s) => {
      const n = s.step.filter((k) => k <= step).length;
      ['step', 'grad', 'ratio'].forEach((k) => { s[k].length = n; });
    });
  }

  /** Record the norms of a view that holds gradients (after Backward / Update / Step). */
  record(view) {
    if (!view.layers.some((e) => e.dW)) return;
    view.layers.forEach((e) => {
      const s = this.series[e.index] || (this.series[e.index] = { step: [], grad: [], ratio: [] });
      // After Backward the gradients are those of the next update (step + 1), as Step would record them.
      const step = view.step + (view.phase === 'backward' ? 1 : 0);
      let i = s.step.length - 1;         // steps in order, also when the page goes back in time
      while (i >= 0 && s.step[i] > step) i -= 1;
      const gradNorm = e.dW ? norm(e.dW) : null;
      // A big layer while playing has no ΔW in the frame, only ‖ΔW‖ and ‖W‖ (e.updateNorms)
      const u = e.updateNorms;
      const [dNorm, wNorm] = e.dW_applied && e.W ? [norm(e.dW_applied), norm(e.W_fwd || e.W)]
        : (u && Number.isFinite(u.dW_applied) && Number.isFinite(u.W) ? [u.dW_applied, u.W] : [null, null]);
      // ‖W‖ = 0: no ratio (it is not ‖ΔW‖); kept as NaN so the note counts it
      const ratio = wNorm === null ? null : (wNorm > 0 ? dNorm / wNorm : NaN);
      if (i >= 0 && s.step[i] === step) {
        if (gradNorm !== null) s.grad[i] = gradNorm;
        if (ratio !== null) s.ratio[i] = ratio;
        return;
      }
      s.step.splice(i + 1, 0, step);
      s.grad.splice(i + 1, 0, gradNorm);
      s.ratio.splice(i + 1, 0, ratio);
      if (s.step.length > MAX_POINTS) ['step', 'grad', 'ratio'].forEach((k) => s[k].splice(0, s[k].length - MAX_POINTS));
    });
  }

  draw() {
    const traces = [];
    const notes = [];
    Object.entries(this.series).forEach(([index, all], i) => {
      const color = layerColor(i);
      const upTo = all.step.filter((k) => k <= this.until).length;
      const s = { step: all.step.slice(0, upTo), grad: all.grad.slice(0, upTo), ratio: all.ratio.slice(0, upTo) };
      const parts = [];
      let n = 0;
      const quantities = [
        { key: 'grad', name: `‖∂cost/∂W(${index})‖`, yaxis: 'y', line: { color, width: 2 } },
        { key: 'ratio', name: `‖ΔW(${index})‖/‖W(${index})‖`, yaxis: 'y2', xaxis: 'x2', line: { color, width: 1.5, dash: 'dot' } },
      ];
      quantities.forEach((q) => {
        // Copies: Plotly.react only redraws arrays it has not seen (same reference = unchanged).
        const { y, size } = plotted(s[q.key]);
        // markers only for isolated points (the rest are size 0): Plotly styled each of 12,000
        // invisible markers, 1.1 s of a Pause after a long play
        traces.push({ x: s.step, y, name: q.name, mode: size.some((z) => z > 0) ? 'lines+markers' : 'lines',
          yaxis: q.yaxis, xaxis: q.xaxis,
          line: q.line, marker: { color, size }, hovertemplate: `${q.name} = %{y:.3e}<extra></extra>` });
        const out = leftOut(s[q.key]);
        const what = q.key === 'grad' ? '‖∂cost/∂W‖' : '‖ΔW‖/‖W‖';
        if (out.zero) parts.push(`${what} = 0 at ${out.zero}`);
        if (out.bad) parts.push(`${what} = ∞ or NaN at ${out.bad}`);
        n = Math.max(n, out.n);
      });
      if (parts.length) notes.push(`W(${index}): ${parts.join(', ')} of ${n} steps`);
    });
    const axis = (title, extra = {}) => ({ title: { text: title }, type: 'log', exponentformat: 'power', nticks: TICKS,
      showexponent: 'all', ...extra });
    const layout = baseLayout({
      grid: { rows: 2, columns: 1, pattern: 'independent', roworder: 'top to bottom' },
      xaxis: { showticklabels: false },
      xaxis2: { title: { text: 'step' } },
      yaxis: axis('gradient norm'),
      yaxis2: axis('update ratio', { anchor: 'x2' }),
      legend: { orientation: 'v', x: 1.02, y: 1, font: { size: 11 } },
      margin: { l: 60, r: 10, t: 10, b: 40 },
      hovermode: 'closest',
    });
    this.note.textContent = notes.length ? `Left out, as 0 and ∞ have no place on a log axis: ${notes.join('; ')}. `
      + '(0: nothing flowed back to W, e.g. saturated units, or an update too small to change W in float32.)' : '';
    this.note.hidden = !notes.length;
    this.el.dataset.leftOut = String(notes.length);
    // The same points as drawn last time (e.g. one phase back and on): no Plotly redraw (~100 ms).
    const key = JSON.stringify(traces.map((t) => [t.x.length, t.x[t.x.length - 1], t.y[t.y.length - 1]]));
    if (this.plotted && key === this.drawnKey) return;
    this.drawnKey = key;
    if (!this.plotted) { Plotly.newPlot(this.el, traces, layout, PLOT_CONFIG); this.plotted = true; } else Plotly.react(this.el, traces, layout, PLOT_CONFIG);
  }
}
