// The live gradient check (POST .../gradient-check) as heatmaps: per layer, ∂cost/∂W(l) at the checked
// entries beside their relative error |analytic − numeric| / max(|analytic| + |numeric|, 1e-4) on a log
// scale; and the find-the-bug controls (POST .../bug, .../bug/guess, .../bug/give-up, DELETE .../bug).

import { getJSON, postJSON, del } from './api.js';
import { fmt } from './tensor.js';
import { PLOTLY_DIVERGING } from './colors.js';

const Plotly = window.Plotly;
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const PLOT = { displayModeBar: false, responsive: true, staticPlot: false };

const SPARSE = 400;     // past this many entries, a sample is drawn as its own small grid, not dots in W's

/** The checked entries of one part (W or b) as a (rows × cols) grid with null where not checked; a
 *  sample of a big W as a ⌈√n⌉-wide grid of the entries checked, each with its [i, j] in ``text``. */
export function grid(part, field) {
  if (part.checked < part.total && part.total > SPARSE) return sampleGrid(part, field);
  const [rows, cols] = part.shape.length === 1 ? [part.shape[0], 1] : part.shape;
  const out = Array.from({ length: rows }, () => new Array(cols).fill(null));
  part.indices.forEach((ij, n) => {
    out[ij[0]][ij.length > 1 ? ij[1] : 0] = value(part, field, n);
  });
  return out;
}

function value(part, field, n) {
  const v = part[field][n];
  return field === 'relative_error' && v !== null ? Math.log10(Math.max(v, 1e-16)) : v;
}

function sampleGrid(part, field) {
  const width = Math.ceil(Math.sqrt(part.checked));
  const z = [];
  const text = [];
  part.indices.forEach((ij, n) => {
    const r = Math.floor(n / width);
    if (!z[r]) { z[r] = []; text[r] = []; }
    z[r].push(value(part, field, n));
    text[r].push(`${part.label}[${ij[0] + 1}, ${(ij[1] ?? 0) + 1}]`);
  });
  z.text = text;
  return z;
}

function heat(el, z, { title, log }) {
  const sample = Boolean(z.text);      // a sample of a big W: its entries in a grid of their own
  const trace = { z, ...(sample ? { text: z.text } : { x: z[0].map((_, c) => c + 1), y: z.map((_, r) => r + 1) }),
    type: 'heatmap', hoverongaps: false,
    colorscale: log ? 'YlOrRd' : PLOTLY_DIVERGING, reversescale: log,     // error: pale small, dark red large
    zmin: log ? -12 : undefined, zmax: log ? 0 : undefined, zmid: log ? undefined : 0,
    colorbar: { thickness: 8, len: 0.9, tickfont: { size: 9 }, ...(log ? { tickvals: [-12, -9, -6, -3, 0], ticktext: ['1e-12', '1e-9', '1e-6', '1e-3', '1'] } : {}) },
    hovertemplate: `${sample ? '%{text}' : 'unit %{y} ← %{x}'}: ${log ? 'log10 error %{z:.1f}' : '%{z:.3g}'}<extra></extra>` };
  const layout = { title: { text: title, font: { size: 11 } }, margin: { l: 40, r: 8, t: 24, b: 34 }, height: 190,
    yaxis: { autorange: 'reversed', tickfont: { size: 9 }, title: { text: sample ? '' : 'unit of l+1', font: { size: 9 } },
      showticklabels: !sample, ...(z.length <= 12 ? { dtick: 1 } : {}) },
    xaxis: { tickfont: { size: 9 }, title: { text: sample ? 'the checked entries (hover: which)' : 'unit of l', font: { size: 9 } },
      showticklabels: !sample, ...(z[0].length <= 12 ? { dtick: 1 } : {}) },
    uirevision: 'gradcheck' };
  Plotly.react(el, [trace], layout, PLOT);
}

export class GradientCheck {
  constructor(root, { getId, onError, onPlanted }) {
    Object.assign(this, { root, getId, onError, onPlanted });
    root.innerHTML = `<div class="section-head"><h3>Gradient check</h3>
        <label>h <input type="number" data-role="h" value="0.00001" step="any" min="1e-8" max="0.01"></label>
        <label>weights per layer <input type="number" data-role="max" value="64" min="1" max="512"></label>
        <button data-action="check" class="primary">Check the gradients</button></div>
      <p class="help" data-role="note">Recomputes ∂cost/∂W(l) and ∂cost/∂b(l) of the current batch by central finite
        differences, (cost(w + h) − cost(w − h)) / 2h, in float64, and compares them with the backward pass's.</p>
      <div data-role="result"></div>
      <div class="bug-game" data-role="bug"><h3>Find the bug</h3>
        <p class="help">Plant one of five mistakes in this session's backward pass (which one stays hidden), train, run the
          gradient check, and name it.</p>
        <button data-action="plant">Plant a random bug</button>
        <select data-role="guess"></select> <button data-action="guess">Guess</button>
        <button data-action="give-up">Give up</button> <button data-action="remove">Remove the bug</button>
        <p data-role="bug-status" class="muted">No bug planted.</p>
        <details class="teacher" data-role="teacher"><summary>For a teacher: plant a chosen bug</summary>
          <select data-role="plant-bug"></select>
          <label>in layer <input type="number" data-role="plant-layer" min="1" max="64" placeholder="any"
            title="the l whose ∂cost/∂W(l) goes wrong first (empty: one the bug fits, chosen at random)"></label>
          <button data-action="plant-chosen">Plant it (hidden)</button>
          <span class="muted">then close this and hand the page over: the status says only that a bug is planted.</span>
        </details></div>`;
    root.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      if (b) this.action(b.dataset.action);
    });
  }

  async action(name) {
    const id = this.getId();
    if (!id) return;
    const base = `/api/sessions/${id}`;
    try {
      if (name === 'check') return this.show(await postJSON(`${base}/gradient-check`, this.body()));
      if (name === 'plant') { this.showBug(await postJSON(`${base}/bug`, {})); this.onPlanted?.(); return; }
      if (name === 'plant-chosen') {
        this.showBug(await postJSON(`${base}/bug`, this.chosen()));
        this.root.querySelector('[data-role="teacher"]').open = false;   // the choice out of sight
        this.onPlanted?.();
        return;
      }
      if (name === 'guess') return this.showBug(await postJSON(`${base}/bug/guess`, { bug: this.root.querySelector('[data-role="guess"]').value }));
      if (name === 'give-up') return this.showBug(await postJSON(`${base}/bug/give-up`));
      if (name === 'remove') return this.showBug(await del(`${base}/bug`));
    } catch (err) { this.onError(err); }
  }

  /** The teacher's choice: {bug, layer?} (an empty layer: the server picks one the bug fits). */
  chosen() {
    const layer = this.root.querySelector('[data-role="plant-layer"]').value;
    return { bug: this.root.querySelector('[data-role="plant-bug"]').value, ...(layer ? { layer: Math.round(Number(layer)) } : {}) };
  }

  body() {
    const h = Number(this.root.querySelector('[data-role="h"]').value);
    const max = Number(this.root.querySelector('[data-role="max"]').value);
    return { h, max_weights: Math.round(max) };
  }

  /** A new session: forget the last check, read the bug state. */
  async reset() {
    this.root.querySelector('[data-role="result"]').innerHTML = '';
    const id = this.getId();
    if (id) try { this.showBug(await getJSON(`/api/sessions/${id}/bug`)); } catch (err) { /* advice only */ }
  }

  show(r) {
    const out = this.root.querySelector('[data-role="result"]');
    const worst = r.max_relative_error;
    const judged = r.kinks ? r.smooth_max_relative_error : worst;     // off the ReLU kinks
    const verdict = judged === null ? 'not finite' : judged < 1e-6 ? 'the backward pass is right' : judged < 1e-2 ? 'suspicious' : 'WRONG somewhere';
    const kinks = r.kinks ? `, at a ReLU kink; off the kinks <b>${fmt(r.smooth_max_relative_error, 2)}</b>` : '';
    const why = r.kinks ? ` <span data-role="kinks">${r.kinks} checked weight${r.kinks > 1 ? 's' : ''} move${r.kinks > 1 ? '' : 's'} a ReLU's z
      across 0 within ±h: f has a corner there, so the difference quotient is no derivative. A smaller h avoids most kinks.</span>` : '';
    out.innerHTML = `<p data-role="summary"><b>Step ${r.step}, ${r.batch.size} samples (${r.batch.which} batch), h = ${r.h}, ${r.dtype}:</b>
      largest relative error <b data-role="worst">${fmt(worst, 2)}</b>${kinks} — ${verdict}.${why}
      <span class="muted">${esc(r.note)}.${r.sampled ? ' Big layers: a seeded sample of their weights (drawn as a grid of their own), not all of them.' : ''} ${fmt(r.seconds * 1000, 3)} ms.</span></p>
      ${r.layers.map((e) => `<div class="gc-layer" data-layer="${e.index}"><p>W(${e.index}): ${e.W.checked} of ${e.W.total} checked,
        max error <b data-role="layer-error">${fmt(e.W.max_relative_error, 2)}</b>${e.b ? `; b(${e.index}): ${fmt(e.b.max_relative_error, 2)}` : ''}</p>
        <div class="gc-plots"><div data-plot="dW"></div><div data-plot="err"></div></div></div>`).join('')}`;
    r.layers.forEach((e) => {
      const el = out.querySelector(`.gc-layer[data-layer="${e.index}"]`);
      Object.assign(el.querySelector('.gc-plots').style, { display: 'grid', gridTemplateColumns: '1fr 1fr', gap: '8px' });
      heat(el.querySelector('[data-plot="dW"]'), grid(e.W, 'analytic'), { title: `∂cost/∂W(${e.index}) (backward pass)` });
      heat(el.querySelector('[data-plot="err"]'), grid(e.W, 'relative_error'), { title: `relative error, W(${e.index})`, log: true });
    });
    this.root.dataset.worst = String(worst);
  }

  showBug(s) {
    ['guess', 'plant-bug'].forEach((role) => {
      const sel = this.root.querySelector(`[data-role="${role}"]`);
      if (sel.options.length !== s.bugs.length) sel.innerHTML = s.bugs.map((b) => `<option value="${b.name}">${esc(b.title)}</option>`).join('');
    });
    const status = this.root.querySelector('[data-role="bug-status"]');
    this.root.dataset.planted = String(s.planted);
    status.classList.toggle('muted', !s.planted);          // a planted bug's status is what to read
    if (!s.planted) status.textContent = 'No bug planted: this session trains correctly.';
    else if (s.revealed) {
      const r = s.revealed;
      status.innerHTML = `${s.right === true ? '<b>Right!</b> ' : ''}The bug: <b data-role="revealed">${esc(r.title)}</b> in layer ${r.layer}.
        Should be <code>${esc(r.right)}</code>, was <code>${esc(r.planted)}</code>.`;
    } else {
      status.innerHTML = `A bug is planted (hidden). ${s.right === false ? `<b>Not ${esc(s.guesses.at(-1))}.</b> ` : ''}Guesses so far: ${s.guesses.length}.
        Train a few steps and run the gradient check: which layer does it point at?`;
    }
  }
}
