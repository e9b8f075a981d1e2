// Gradient health: per layer, ‖∂cost/∂W(l)‖ and the update ratio ‖ΔW(l)‖/‖W(l)‖ over the steps,
// so vanishing (tiny, shrinking toward the input) and exploding gradients can be seen.

import { PLOT_CONFIG, baseLayout, layerColor } from './colors.js';
import { norm } from './tensor.js';

const Plotly = window.Plotly;
const MAX_POINTS = 2000;

export class Health {
  constructor(el) {
    this.el = el;
    this.series = {};
    this.plotted = false;
  }

  clear() { this.series = {}; this.draw(); }

  /** Record the norms of a view that holds gradients (after Backward / Update / Step). */
  record(view) {
    if (!view.layers.some((e) => e.dW)) return;
    view.layers.forEach((e) => {
      const s = this.series[e.index] || (this.series[e.index] = { step: [], grad: [], ratio: [] });
      const step = view.step;
      const last = s.step.length - 1;
      const gradNorm = e.dW ? norm(e.dW) : null;
      const ratio = e.dW_applied && e.W ? norm(e.dW_applied) / (norm(e.W_fwd || e.W) || 1) : null;
      if (last >= 0 && s.step[last] === step) {
        if (gradNorm !== null) s.grad[last] = gradNorm;
        if (ratio !== null) s.ratio[last] = ratio;
        return;
      }
      s.step.push(step);
      s.grad.push(gradNorm);
      s.ratio.push(ratio);
      if (s.step.length > MAX_POINTS) ['step', 'grad', 'ratio'].forEach((k) => s[k].splice(0, s[k].length - MAX_POINTS));
    });
  }

  draw() {
    const traces = [];
    Object.entries(this.series).forEach(([index, s], i) => {
      const color = layerColor(i);
      // Copies: Plotly.react only redraws arrays it has not seen (same reference = unchanged).
      traces.push({ x: s.step.slice(), y: s.grad.slice(), name: `‖∂cost/∂W(${index})‖`, mode: 'lines', line: { color, width: 2 },
        hovertemplate: `‖∂cost/∂W(${index})‖ = %{y:.3e}<extra></extra>` });
      traces.push({ x: s.step.slice(), y: s.ratio.slice(), name: `‖ΔW(${index})‖/‖W(${index})‖`, mode: 'lines', yaxis: 'y2',
        line: { color, width: 1.5, dash: 'dot' }, hovertemplate: `‖ΔW(${index})‖/‖W(${index})‖ = %{y:.3e}<extra></extra>` });
    });
    const layout = baseLayout({
      grid: { rows: 2, columns: 1, pattern: 'independent', roworder: 'top to bottom' },
      xaxis: { showticklabels: false },
      xaxis2: { title: { text: 'step' } },
      yaxis: { title: { text: 'gradient norm' }, type: 'log', exponentformat: 'power', dtick: 1 },
      yaxis2: { title: { text: 'update ratio' }, type: 'log', exponentformat: 'power', dtick: 1, anchor: 'x2' },
      legend: { orientation: 'v', x: 1.02, y: 1, font: { size: 11 } },
      margin: { l: 60, r: 10, t: 10, b: 40 },
      hovermode: 'closest',
    });
    traces.filter((t) => t.yaxis === 'y2').forEach((t) => { t.xaxis = 'x2'; });
    if (!this.plotted) { Plotly.newPlot(this.el, traces, layout, PLOT_CONFIG); this.plotted = true; } else Plotly.react(this.el, traces, layout, PLOT_CONFIG);
  }
}
