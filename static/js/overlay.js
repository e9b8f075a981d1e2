// Every branch's minibatch loss on one chart (GET .../timeline?curves=true): one colour per branch,
// named by what changed, the line the page follows drawn bold. A branch's curve starts at the point
// it left its parent, so each one visibly grows out of the run it came from.

import { PLOT_CONFIG, baseLayout } from './colors.js';
import { branchColor, branchName, lossAt, pathTo } from './lines.js';

const Plotly = window.Plotly;
const MAX_POINTS = 3000;           // per branch: longer curves are thinned (every k-th step)

/** x and y of branch b's curve: the loss where it left its parent, then its own steps. */
function curve(tl, b) {
  const c = tl.curves && tl.curves[String(b.id)];
  if (!c) return { x: [], y: [] };
  const x = [];
  const y = [];
  if (b.parent !== null && b.start > 0) {
    x.push(b.start);
    y.push(lossAt(tl, b.parent, b.start));
  }
  const every = Math.max(1, Math.ceil(c.batch_loss.length / MAX_POINTS));   // (the server thins too)
  c.batch_loss.forEach((v, i) => {
    if (i % every && i !== c.batch_loss.length - 1) return;
    x.push(c.steps ? c.steps[i] : c.steps_from + i);
    y.push(Number.isFinite(v) ? v : null);
  });
  return { x, y };
}

export class BranchOverlay {
  constructor(el) {
    this.el = el;
    this.plotted = false;
  }

  show(tl, line) {
    const onPath = new Set(pathTo(tl, line).map((b) => b.id));
    const traces = [];
    let lo = Infinity;
    let hi = 0;
    tl.branches.forEach((b) => {
      const { x, y } = curve(tl, b);
      y.forEach((v) => { if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
      const current = b.id === line;
      const name = `#${b.id} ${branchName(b)}${current ? ' (yours)' : ''}`;
      traces.push({ x, y, name, mode: 'lines', meta: { branch: b.id },
        line: { color: branchColor(b.id), width: current ? 2.6 : (onPath.has(b.id) ? 1.8 : 1.2) },
        opacity: onPath.has(b.id) ? 1 : 0.6,
        hovertemplate: `#${b.id} step %{x}: %{y:.4g}<extra></extra>` });
      if (b.diverged && x.length) {
        traces.push({ x: [x[x.length - 1]], y: [y.filter((v) => v !== null).pop() ?? null], mode: 'markers', showlegend: false,
          marker: { symbol: 'x', size: 10, color: branchColor(b.id) }, meta: { branch: b.id, marker: true },
          hovertemplate: `#${b.id} diverged at step ${b.diverged.step}<extra></extra>` });
      }
    });
    const log = hi / lo > 1e3;          // a diverging branch: only a log axis shows the others too
    const layout = baseLayout({
      xaxis: { title: { text: 'step' }, rangemode: 'tozero' },
      yaxis: { title: { text: `minibatch loss${log ? ' (log)' : ''}` }, type: log ? 'log' : 'linear',
        exponentformat: 'power' },                // not from 0: the branches' differences show
      legend: { orientation: 'h', x: 0, y: -0.25, yanchor: 'top', font: { size: 11 } },
      margin: { l: 56, r: 10, t: 10, b: 70 },
      hovermode: 'closest',
      annotations: traces.some((t) => t.x.length) ? [] : [{ text: 'step, then change η at an earlier step to compare branches',
        showarrow: false, xref: 'paper', yref: 'paper', x: 0.5, y: 0.5, font: { color: '#888' } }],
    });
    if (!this.plotted) { Plotly.newPlot(this.el, traces, layout, PLOT_CONFIG); this.plotted = true; } else Plotly.react(this.el, traces, layout, PLOT_CONFIG);
    this.el.dataset.curves = String(traces.filter((t) => !t.meta.marker && t.x.length).length);
  }
}
