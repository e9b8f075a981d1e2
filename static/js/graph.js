// One neuron's scalar computation graph (micrograd-style), from the step's tensors the page holds:
// unit j of layer l, sample s. Nodes: a(l−1)_k and w_jk, each product w·a, the sum Σ, + b → z(l)_j,
// f → a(l)_j, then the units of layer l+1 it feeds (or, at the output, the cost). Each node has its
// forward value and its adjoint ∂cost/∂node for this sample (cost = loss of sample s: the batch's
// ∂cost/∂W is the mean of these over the batch); each edge its local derivative. δ(l)_j is the sum over
// the paths to layer l+1 of the products of their local derivatives: (W(l)ᵀ·δ(l+1))_j ⊙ f′(z(l)_j).

import { at, fmt, activationDerivative } from './tensor.js';
import { activationsOf } from './stepview.js';

const MAX_IN = 5;       // the largest |w·a| terms drawn; the others are summed in one node
const MAX_OUT = 5;      // the largest |W·δ| paths drawn
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

function largest(items, key, count) {
  if (items.length <= count + 1) return { shown: items, rest: [] };
  const shown = [...items].sort((x, y) => Math.abs(key(y)) - Math.abs(key(x))).slice(0, count).sort((x, y) => x.k - y.k);
  return { shown, rest: items.filter((t) => !shown.includes(t)) };
}

/** The graph of unit j (from 0) of lecture layer l (≥ 2) for sample s, or null when the step has not
 *  computed z for it yet. δ and the adjoints are null before the backward pass. */
export function neuronGraph(view, l, j, s) {
  const e = view.layers.find((x) => x.index === l - 1);
  const aPrev = activationsOf(view, l - 1);
  if (!e || !e.z || !aPrev) return null;
  const W = e.W_fwd || e.W;
  const b = e.b_fwd || e.b;
  const z = at(e.z, s, j);
  const a = at(e.a, s, j);
  const delta = e.delta ? at(e.delta, s, j) : null;
  const f = e.activation;
  const fprime = f === 'softmax' ? null : activationDerivative(f, z, a);
  const terms = Array.from({ length: W.cols }, (_, k) => ({ k, w: at(W, j, k), a: at(aPrev, s, k) }));
  terms.forEach((t) => { t.p = t.w * t.a; });
  const { shown, rest } = largest(terms, (t) => t.p, MAX_IN);
  const sum = terms.reduce((acc, t) => acc + t.p, 0);
  const bias = b ? at(b, j, 0) : 0;
  const g = { l, j, s, f, z, a, delta, fprime, sum, bias, inputs: shown, rest, restSum: rest.reduce((acc, t) => acc + t.p, 0),
    wLabel: `W(${l - 1})`, out: null, paths: [] };
  const next = view.layers.find((x) => x.index === l);
  if (next) {                        // hidden unit: the paths through z(l+1)_m
    const Wn = next.W_fwd || next.W;
    const items = Array.from({ length: Wn.rows }, (_, m) => ({ k: m, w: at(Wn, m, j), z: at(next.z, s, m),
      d: next.delta ? at(next.delta, s, m) : null }));
    items.forEach((t) => { t.path = t.d === null || fprime === null ? null : fprime * t.w * t.d; });
    const picked = largest(items, (t) => (t.d === null ? t.w : t.w * t.d), MAX_OUT);
    g.out = { kind: 'hidden', label: `W(${l})`, shown: picked.shown, rest: picked.rest };
    g.paths = items;
    g.dA = next.delta ? items.reduce((acc, t) => acc + t.w * t.d, 0) : null;   // ∂cost/∂a(l)_j = Σ_m W_mj δ_m
  } else {                           // output unit: the loss
    const y = view.batch && view.batch.y ? at(view.batch.y, s, j) : null;
    // softmax + cross-entropy: δ(L) = ŷ − y (fused); softmax with another loss goes through its Jacobian
    const fused = f === 'softmax' && y !== null && delta !== null && Math.abs(delta - (a - y)) <= 1e-5 * (1 + Math.abs(delta));
    g.out = { kind: 'output', y, loss: view.loss, fused };
    g.dA = delta !== null && fprime ? delta / fprime : null;
  }
  return g;
}

// panel: where the layer panels show the same number, "section:key:row:col" (section -1: the input)
const node = (x, y, id, title, value, grad, entry = '', panel = '') =>
  `<g class="gnode" data-id="${id}" data-value="${value}" data-grad="${grad ?? ''}" ${entry ? `data-entry="${esc(entry)}"` : ''}
    ${panel ? `data-panel="${panel}"` : ''} transform="translate(${x},${y})">
    <title>${esc(title)}${entry ? ` — the same number as ${entry} in the layer panels` : ''}</title>
    <rect x="-54" y="-21" width="108" height="42" rx="6" fill="#f4f6fb" stroke="#7a86a8"></rect>
    <text y="-9" class="gl" text-anchor="middle" font-size="10" fill="#223">${title}</text>
    <text y="7" class="gv" text-anchor="middle" font-size="11" font-weight="bold" fill="#111">${fmt(value, 4)}</text>
    <text y="17" class="gg" text-anchor="middle" font-size="9" fill="#b0441b">${grad === null || grad === undefined ? '' : `∂ ${fmt(grad, 3)}`}</text></g>`;
const edge = (x1, y1, x2, y2, local) => {
  const mx = (x1 + x2) / 2;
  const my = (y1 + y2) / 2;
  return `<g class="gedge"><line x1="${x1 + 54}" y1="${y1}" x2="${x2 - 54}" y2="${y2}" stroke="#9aa3bb"></line>
    <text x="${mx}" y="${my - 3}" class="ge" text-anchor="middle" font-size="8.5" fill="#2a6a3a">${esc(local)}</text></g>`;
};

/** SVG of the graph (columns: inputs, weights, products, Σ, z, a, what a feeds). */
export function graphSVG(g) {
  const ins = g.inputs.length + (g.rest.length ? 1 : 0);
  const outs = g.out.shown ? g.out.shown.length + (g.out.rest.length ? 1 : 0) : 1;
  const H = Math.max(ins * 92, outs * 50, 180) + 30;      // each input: a(l−1)_k above, w_jk below
  const X = [60, 200, 400, 550, 700, 880, 1080];
  const yOf = (i, n) => 30 + (i + 0.5) * ((H - 40) / Math.max(n, 1));
  const mid = H / 2;
  const d = g.delta;
  const n = g.inputs.length + (g.rest.length ? 1 : 0);
  const L = g.l;
  let parts = '';
  g.inputs.forEach((t, i) => {
    const y = yOf(i, n);
    const input = L === 2 ? `-1:x:${g.s}:${t.k}` : `${L - 2}:a:${g.s}:${t.k}`;
    parts += node(X[0], y - 22, `a${t.k}`, `a(${L - 1})<tspan font-size="7.5" baseline-shift="sub">${t.k + 1}</tspan>`, t.a, d === null ? null : d * t.w, `a(${L - 1})[${g.s + 1}, ${t.k + 1}]`, input);
    parts += node(X[1], y + 22, `w${t.k}`, `w<tspan font-size="7.5" baseline-shift="sub">${g.j + 1},${t.k + 1}</tspan>`, t.w, d === null ? null : d * t.a, `${g.wLabel}[${g.j + 1}, ${t.k + 1}]`, `${L - 1}:W:${g.j}:${t.k}`);
    parts += node(X[2], y, `p${t.k}`, 'w·a', t.p, d);
    parts += edge(X[0], y - 22, X[2], y, `∂/∂a = w = ${fmt(t.w, 3)}`) + edge(X[1], y + 22, X[2], y, `∂/∂w = a = ${fmt(t.a, 3)}`);
    parts += edge(X[2], y, X[3], mid, '1');
  });
  if (g.rest.length) {
    const y = yOf(n - 1, n);
    parts += node(X[2], y, 'rest', `${g.rest.length} more w·a`, g.restSum, d) + edge(X[2], y, X[3], mid, '1');
  }
  parts += node(X[3], mid, 'sum', 'Σ w·a', g.sum, d);
  parts += node(X[3], mid + 70, 'b', `b(${L - 1})<tspan font-size="7.5" baseline-shift="sub">${g.j + 1}</tspan>`, g.bias, d, `b(${L - 1})[${g.j + 1}]`, `${L - 1}:b:${g.j}:0`);
  parts += node(X[4], mid, 'z', `z(${L})<tspan font-size="7.5" baseline-shift="sub">${g.j + 1}</tspan> = Σ + b`, g.z, d, `z(${L})[${g.s + 1}, ${g.j + 1}] (its ∂: δ(${L}) there)`, `${L - 1}:z:${g.s}:${g.j}`);
  parts += edge(X[3], mid, X[4], mid, '1') + edge(X[3], mid + 70, X[4], mid, '1');
  parts += node(X[5], mid, 'a', `a(${L})<tspan font-size="7.5" baseline-shift="sub">${g.j + 1}</tspan> = ${g.f}(z)`, g.a, g.dA, `a(${L})[${g.s + 1}, ${g.j + 1}]`, `${L - 1}:a:${g.s}:${g.j}`);
  parts += edge(X[4], mid, X[5], mid, g.fprime === null ? 'softmax (Jacobian)' : `f′(z) = ${fmt(g.fprime, 3)}`);
  if (g.out.kind === 'hidden') {
    const m = g.out.shown.length + (g.out.rest.length ? 1 : 0);
    g.out.shown.forEach((t, i) => {
      const y = yOf(i, m);
      parts += node(X[6], y, `zn${t.k}`, `z(${L + 1})<tspan font-size="7.5" baseline-shift="sub">${t.k + 1}</tspan>`, t.z, t.d, `z(${L + 1})[${g.s + 1}, ${t.k + 1}] (its ∂: δ(${L + 1}) there)`, `${L}:z:${g.s}:${t.k}`);
      parts += edge(X[5], mid, X[6], y, `w = ${fmt(t.w, 3)}`);
    });
    if (g.out.rest.length) parts += node(X[6], yOf(m - 1, m), 'znrest', `${g.out.rest.length} more units`, NaN, null);
  } else {
    parts += node(X[6], mid, 'loss', 'cost', g.out.loss, 1);
    const local = g.out.fused ? 'fused: δ = ŷ − y' : g.fprime === null ? 'via softmax\'s Jacobian' : d === null ? '∂loss/∂ŷ' : `∂loss/∂ŷ = ${fmt(g.dA, 3)}`;
    parts += edge(X[5], mid, X[6], mid, local);
  }
  return `<svg class="graph" viewBox="0 0 1140 ${H + 10}" width="100%" role="img" aria-label="computation graph">${parts}</svg>`;
}

/** δ(l)_j as the chain rule over paths, with the numbers (HTML). */
export function deltaText(g) {
  const L = g.l;
  if (g.delta === null) return '<p class="muted">Press Backward (or Step) to see the adjoints ∂ and δ.</p>';
  if (g.out.kind === 'output') {
    const how = g.out.fused ? `ŷ − y = ${fmt(g.a, 4)} − ${fmt(g.out.y, 4)} <span class="muted">(softmax + cross-entropy: the chain rule through the softmax's Jacobian collapses to this)</span>`
      : g.fprime === null ? `Σ<sub>k</sub> ∂loss/∂ŷ<sub>k</sub> · ∂ŷ<sub>k</sub>/∂z<sub>${g.j + 1}</sub> <span class="muted">(softmax: every output depends on every z(${L}))</span>`
        : `∂loss/∂ŷ · f′(z) = ${fmt(g.dA, 4)} · ${fmt(g.fprime, 4)}`;
    return `<p>Output unit: δ(${L})<sub>${g.j + 1}</sub> = ${how} = <b>${fmt(g.delta, 4)}</b></p>`;
  }
  const paths = g.paths.map((t) => `f′·w<sub>${t.k + 1},${g.j + 1}</sub>·δ<sub>${t.k + 1}</sub> = ${fmt(g.fprime, 3)}·${fmt(t.w, 3)}·${fmt(t.d, 3)} = ${fmt(t.path, 4)}`);
  const shown = paths.length > 8 ? [...paths.slice(0, 8), `… ${paths.length - 8} more paths`] : paths;
  const total = g.paths.reduce((acc, t) => acc + t.path, 0);
  return `<p>δ(${L})<sub>${g.j + 1}</sub> = (W(${L})ᵀ·δ(${L + 1}))<sub>${g.j + 1}</sub> ⊙ f′(z(${L})<sub>${g.j + 1}</sub>)
    = Σ over the ${g.paths.length} paths a(${L})<sub>${g.j + 1}</sub> → z(${L + 1})<sub>m</sub> of the product of their local derivatives:</p>
    <ul class="paths">${shown.map((p) => `<li>${p}</li>`).join('')}</ul>
    <p>Σ = <b data-role="path-sum">${fmt(total, 4)}</b>; the backward pass's δ(${L})<sub>${g.j + 1}</sub> = <b data-role="delta">${fmt(g.delta, 4)}</b></p>`;
}
