// Each optimizer's update rule for one weight, as engine/optimizers/*.py compute it (Keras 3's
// rules), with this step's numbers in: g = ∂cost/∂w, η_t, the hyperparameters and the slots the
// server sent (their values after this update; the ones before it follow from the rule itself).

import { fmt } from './tensor.js';

const minus = (s) => s.replace(/-/g, '−');
/** A number as the equations show it (4 significant digits; exponent form when tiny or huge). */
export const num = (v) => `<span class="num">${fmt(v, 4)}</span>`;
/** A change (Δw): always in scientific notation, 4 significant digits, so a tiny one shows. */
export const sci = (v) => `<span class="num">${!Number.isFinite(v) ? fmt(v) : (v === 0 ? '0' : minus(v.toExponential(3)))}</span>`;
/** v with d significant digits (exponent form when tiny or huge, else trailing zeros dropped). */
export function prec(v, d) {
  if (!Number.isFinite(v)) return `<span class="num">${fmt(v)}</span>`;
  const a = Math.abs(v);
  const text = a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(d - 1) : String(Number(v.toPrecision(d)));
  return `<span class="num">${minus(text)}</span>`;
}
const paren = (html, v) => (v < 0 ? `(${html})` : html);
const n = (v) => paren(num(v), v);
const line = (html, q, value) => `<p class="eq-rule" data-q="${q}" data-value="${value}">${html}</p>`;

/** Significant digits that show the change from `before` to `after` (a step of size |d|): 4 at
 *  least, 3 beyond the digit where they first differ, at most 9 (all a float32 has). */
export function digitsFor(before, after, d) {
  const size = Math.max(Math.abs(before), Math.abs(after));
  if (!(Math.abs(d) > 0) || !(size > 0)) return 4;
  return Math.min(9, Math.max(4, Math.ceil(Math.log10(size / Math.abs(d))) + 3));
}

/** The hyperparameters in effect: the config's, else /api/options' defaults for that optimizer. */
export function hyperparameters(config, options) {
  const o = config.optimizer || {};
  const spec = ((options && options.optimizers) || []).find((x) => x.name === o.name);
  const defaults = Object.fromEntries(Object.entries((spec && spec.hyperparameters) || {}).map(([k, h]) => [k, h.default]));
  return { ...defaults, ...o };
}

/** Adam's t for this update: the step count if the engine's ΔW of this layer agrees with it, else
 *  the t that does (the optimizer was switched during training), else null. */
function adamT(h, eta, step, slots, W, dW) {
  const alphaOf = (t) => (eta * Math.sqrt(1 - h.beta_2 ** t)) / (1 - h.beta_1 ** t);
  const m = slots.m.data;
  const v = (slots.v_hat || slots.v).data;
  let best = -1;
  for (let i = 0; i < m.length; i += 1) {
    const r = Math.abs(dW.data[i]) / (Math.abs(W.data[i]) + 1e-30);
    if (m[i] !== 0 && dW.data[i] !== 0 && (best < 0 || r > Math.abs(dW.data[best]) / (Math.abs(W.data[best]) + 1e-30))) best = i;
  }
  if (best < 0) return step;
  const alpha = (-dW.data[best] * (Math.sqrt(v[best]) + h.epsilon)) / m[best];
  const fits = (t) => Math.abs(alphaOf(t) / alpha - 1) < 2e-3;
  if (fits(step)) return step;
  for (let t = 1; t <= Math.min(step, 100000); t += 1) if (fits(t)) return t;
  return null;
}

/** The rule's lines for weight (j, k) of a layer entry: [{html}], and the rule's own Δw. */
export function updateRule({ entry, j, k, view, config, options, wName }) {
  const h = hyperparameters(config, options);
  const name = h.name || 'sgd';
  const at = (m) => m.data[j * m.cols + k];
  const g = at(entry.dW);
  const slot = (key) => (entry.slots && entry.slots[key] ? at(entry.slots[key]) : null);
  const eta = Number.isFinite(view.learningRate) ? view.learningRate : (h.decay ? NaN : h.learning_rate);
  const lines = [];
  const etaName = h.decay ? 'η<sub>t</sub>' : 'η';
  lines.push(line(`g = ∂cost/∂${wName} = ${num(g)}, ${etaName} = ${num(eta)}`
    + (h.decay ? ` <span class="muted">(η/(1 + decay·iterations), Keras 2 decay ${num(h.decay)})</span>` : ''), 'g', g));
  const e = etaName;
  let dw = NaN;
  if (name === 'sgd') {
    const mu = h.momentum || 0;
    if (!mu) {
      dw = -eta * g;
      lines.push(line(`Δw = −${e}·g = −${num(eta)}·${n(g)} = ${sci(dw)}`, 'dw', dw));
    } else {
      const m = slot('momentum');
      const m0 = m === null ? NaN : (m + eta * g) / mu;
      lines.push(line(`m ← μ·m − ${e}·g = ${num(mu)}·${n(m0)} − ${num(eta)}·${n(g)} = ${num(m)}`, 'm', m));
      dw = h.nesterov ? mu * m - eta * g : m;
      lines.push(h.nesterov ? line(`Δw = μ·m − ${e}·g = ${num(mu)}·${n(m)} − ${num(eta)}·${n(g)} = ${sci(dw)} <span class="muted">(Nesterov)</span>`, 'dw', dw)
        : line(`Δw = m = ${sci(dw)}`, 'dw', dw));
    }
  } else if (name === 'adam') {
    const m = slot('m');
    const v = slot('v');
    const vh = h.amsgrad ? slot('v_hat') : null;
    const t = entry.slots && entry.slots.m && entry.slots.v ? adamT(h, eta, view.step, entry.slots, entry.W_fwd, entry.dW_applied) : view.step;
    const alpha = t ? (eta * Math.sqrt(1 - h.beta_2 ** t)) / (1 - h.beta_1 ** t) : (-at(entry.dW_applied) * (Math.sqrt(vh ?? v) + h.epsilon)) / m;
    lines.push(line(t ? `t = ${t} <span class="muted">(this Adam's updates so far)</span>: α = ${e}·√(1 − β₂<sup>t</sup>)/(1 − β₁<sup>t</sup>) = ${num(eta)}·√(1 − ${num(h.beta_2)}<sup>${t}</sup>)/(1 − ${num(h.beta_1)}<sup>${t}</sup>) = ${num(alpha)}`
      : `α = ${e}·√(1 − β₂<sup>t</sup>)/(1 − β₁<sup>t</sup>) = ${num(alpha)} <span class="muted">(t: this Adam's update count; from the engine's ΔW)</span>`, 'alpha', alpha));
    const m0 = (m - (1 - h.beta_1) * g) / h.beta_1;
    const v0 = (v - (1 - h.beta_2) * g * g) / h.beta_2;
    lines.push(line(`m ← m + (g − m)(1 − β₁) = ${n(m0)} + (${num(g)} − ${n(m0)})·${num(1 - h.beta_1)} = ${num(m)}`, 'm', m),
      line(`v ← v + (g² − v)(1 − β₂) = ${n(v0)} + (${n(g)}² − ${n(v0)})·${num(1 - h.beta_2)} = ${num(v)}`, 'v', v));
    const vUse = h.amsgrad ? vh : v;
    if (h.amsgrad) lines.push(line(`AMSGrad: v̂ ← max(v̂, v) = ${num(vh)}, used for v below`, 'v_hat', vh));
    dw = (-alpha * m) / (Math.sqrt(vUse) + h.epsilon);
    lines.push(line(`Δw = −α·m/(√${h.amsgrad ? 'v̂' : 'v'} + ε) = −${num(alpha)}·${n(m)}/(√(${num(vUse)}) + ${num(h.epsilon)}) = ${sci(dw)}`, 'dw', dw));
  } else if (name === 'rmsprop') {
    const rho = h.rho;
    const v = slot('velocity');
    const v0 = (v - (1 - rho) * g * g) / rho;
    lines.push(line(`v ← ρ·v + (1 − ρ)·g² = ${num(rho)}·${n(v0)} + ${num(1 - rho)}·${n(g)}² = ${num(v)}`, 'v', v));
    let D = v + h.epsilon;
    if (h.centered) {
      const ga = slot('average_gradient');
      const ga0 = (ga - (1 - rho) * g) / rho;
      D = v - ga * ga + h.epsilon;
      lines.push(line(`centered: ḡ ← ρ·ḡ + (1 − ρ)·g = ${num(rho)}·${n(ga0)} + ${num(1 - rho)}·${n(g)} = ${num(ga)}; D = v − ḡ² + ε = ${num(v)} − ${n(ga)}² + ${num(h.epsilon)} = ${num(D)}`, 'g_avg', ga));
    } else lines.push(line(`D = v + ε = ${num(v)} + ${num(h.epsilon)} = ${num(D)}`, 'D', D));
    const step = (eta * g) / Math.sqrt(D);
    lines.push(line(`Δ = ${e}·g/√D = ${num(eta)}·${n(g)}/√(${num(D)}) = ${sci(step)}`, 'delta', step));
    if (h.momentum) {
      const m = slot('momentum');
      const m0 = (m - step) / h.momentum;
      lines.push(line(`m ← μ·m + Δ = ${num(h.momentum)}·${n(m0)} + ${paren(sci(step), step)} = ${num(m)}`, 'm', m));
      dw = -m;
      lines.push(line(`Δw = −m = ${sci(dw)}`, 'dw', dw));
    } else {
      dw = -step;
      lines.push(line(`Δw = −Δ = ${sci(dw)}`, 'dw', dw));
    }
  } else if (name === 'adagrad') {
    const A = slot('accumulator');
    lines.push(line(`A ← A + g² = ${n(A - g * g)} + ${n(g)}² = ${num(A)}`, 'A', A));
    dw = (-eta * g) / Math.sqrt(A + h.epsilon);
    lines.push(line(`Δw = −${e}·g/√(A + ε) = −${num(eta)}·${n(g)}/√(${num(A)} + ${num(h.epsilon)}) = ${sci(dw)}`, 'dw', dw));
  } else if (name === 'adadelta') {
    const rho = h.rho;
    const G = slot('accumulated_grad');
    const D = slot('accumulated_delta_var');
    const c = (g * g) / (G + h.epsilon);
    const D0 = (D - (1 - rho) * h.epsilon * c) / (rho + (1 - rho) * c);     // D before this step
    const delta = (-Math.sqrt(D0 + h.epsilon) * g) / Math.sqrt(G + h.epsilon);
    lines.push(line(`G ← ρ·G + (1 − ρ)·g² = ${num(rho)}·${n((G - (1 - rho) * g * g) / rho)} + ${num(1 - rho)}·${n(g)}² = ${num(G)}`, 'G', G),
      line(`δ = −√(D + ε)·g/√(G + ε) = −√(${num(D0)} + ${num(h.epsilon)})·${n(g)}/√(${num(G)} + ${num(h.epsilon)}) = ${sci(delta)}`, 'delta', delta),
      line(`D ← ρ·D + (1 − ρ)·δ² = ${num(rho)}·${n(D0)} + ${num(1 - rho)}·(${sci(delta)})² = ${num(D)}`, 'D', D));
    dw = eta * delta;
    lines.push(line(`Δw = ${e}·δ = ${num(eta)}·${paren(sci(delta), delta)} = ${sci(dw)}`, 'dw', dw));
  } else {
    lines.push(line(`<span class="muted">${name}: its rule is not written out here</span>`, 'none', ''));
  }
  const slotted = name !== 'sgd' || h.momentum;
  if (slotted && !entry.slots) lines.push('<p class="muted">(this answer carries no optimizer slots: their numbers are missing)</p>');
  else if (slotted) lines.push('<p class="muted">The slots are the engine\'s after this step; their values before it follow from the rule.</p>');
  return { lines, dw, name };
}

/** The optimizer's name as the lecture writes it, and its variant. */
export function ruleTitle(h) {
  const name = h.name || 'sgd';
  if (name === 'sgd') return h.momentum ? `SGD with momentum μ${h.nesterov ? ', Nesterov' : ''}` : 'plain SGD';
  if (name === 'rmsprop') return `RMSprop${h.centered ? ', centered' : ''}${h.momentum ? ', momentum μ' : ''}`;
  if (name === 'adam') return `Adam${h.amsgrad ? ' (AMSGrad)' : ''}`;
  return { adagrad: 'Adagrad', adadelta: 'Adadelta' }[name] || name;
}
