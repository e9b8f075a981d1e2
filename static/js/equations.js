// The lecture's equations for the neuron the user clicked, with this step's numbers in:
//   z = Σ w·a + b,  a = f(z),  δ = (Wᵀδ′) ⊙ f′(z),  ∂cost/∂w = δ·a, and the optimizer's update of w.

import { penaltyGradient } from './playground.js';
import { at, fmt, activationDerivative } from './tensor.js';
import { activationsOf } from './stepview.js';
import { updateRule, ruleTitle, hyperparameters, digitsFor, prec, sci } from './rules.js';
import { app } from './page.js';

const MAX_TERMS = 4;
const q = (cls, text) => `<span class="q-${cls}">${text}</span>`;
const num = (v) => `<span class="num">${fmt(v, 4)}</span>`;
const paren = (v) => (v < 0 ? `(${num(v)})` : num(v));

/** Show the largest terms of Σ w·a and summarise the rest; idx names the summed index (k or m). */
function terms(ws, as, wName, aName, idx = 'k') {
  const items = ws.map((w, k) => ({ k, w, a: as[k], p: w * as[k] }));
  const shown = items.length <= MAX_TERMS + 1 ? items
    : [...items].sort((x, y) => Math.abs(y.p) - Math.abs(x.p)).slice(0, MAX_TERMS).sort((x, y) => x.k - y.k);
  const rest = items.filter((t) => !shown.includes(t));
  // With terms left out, each shown term says which k it is.
  const tag = (t) => (rest.length ? `<sub class="muted">${idx}=${t.k + 1}:</sub>` : '');
  let s = shown.map((t) => `${tag(t)}${paren(t.w)}·${paren(t.a)}`).join(' + ');
  if (rest.length) {
    const restSum = rest.reduce((acc, t) => acc + t.p, 0);
    s += ` + <span class="muted">[${rest.length} more terms = ${fmt(restSum, 4)}]</span>`;
  }
  return { text: s, total: items.reduce((acc, t) => acc + t.p, 0),
    symbolic: `Σ<sub>${idx}</sub> ${wName}·${aName}` };
}

/** a = f(z) for one unit; softmax needs the whole layer's z (row s of zMat). */
function activationLine(f, z, a, zMat, s) {
  if (f !== 'softmax') return `${f}(${q('z', 'z')}) = ${f}(${num(z)}) = ${num(a)}`;
  const row = Array.from(zMat.data.subarray(s * zMat.cols, (s + 1) * zMat.cols));
  const top = Math.max(...row);
  const denom = row.reduce((acc, v) => acc + Math.exp(v - top), 0) * Math.exp(top);
  return `e<sup>${q('z', 'z')}</sup> / Σ<sub>m</sub> e<sup>${q('z', 'z<sub>m</sub>')}</sup> = e<sup>${fmt(z, 4)}</sup> / ${num(denom)} = ${num(a)}`
    + ' <span class="muted">(softmax: all units of the layer)</span>';
}

export class Equations {
  constructor(root) {
    this.root = root;
    this.sel = null;
    this.sample = 0;
  }

  select(sel) { this.sel = sel; }
  setSample(s) { this.sample = s; }

  render(view, config) {
    const sel = this.sel;
    if (!sel) {
      this.root.innerHTML = '<p class="muted">Click a neuron in the diagram to see its equations with this step\'s numbers.</p>';
      return;
    }
    const { l, j } = sel;
    const s = this.sample;
    const head = `<h4>Unit ${j + 1} of layer ${l} · sample ${s + 1} of the batch</h4>`;
    const aIn = activationsOf(view, l - 1);
    if (l === 1) {
      const x = activationsOf(view, 1);
      this.root.innerHTML = `${head}<p>${q('a', `a<sub>${j + 1}</sub>(1)`)} = x<sub>${j + 1}</sub> = ${x ? num(at(x, s, j)) : '<i>press Forward</i>'}</p>
        <p class="muted">Layer 1 is the input: no z, no f, no δ.</p>`;
      return;
    }
    const entry = view.layers.find((e) => e.index === l - 1);
    if (!entry || !entry.z || !aIn) {
      this.root.innerHTML = `${head}<p class="muted">Not computed yet: press <b>Forward</b>.</p>`;
      return;
    }
    const f = (config.layers[l - 2] || {}).activation || entry.activation || 'linear';
    const Wf = entry.W_fwd || entry.W;
    const nIn = Wf.cols;
    const ws = Array.from(Wf.data.subarray(j * nIn, (j + 1) * nIn));
    const as = Array.from(aIn.data.subarray(s * nIn, (s + 1) * nIn));
    const b = (entry.b_fwd || entry.b) ? (entry.b_fwd || entry.b).data[j] : 0;
    const z = at(entry.z, s, j);
    const a = at(entry.a, s, j);
    const t = terms(ws, as, q('w', `w<sub>${j + 1}k</sub>(${l - 1})`), q('a', `a<sub>k</sub>(${l - 1})`));
    const J = j + 1;
    const before = entry.W_fwd ? ' <span class="muted">(W as this forward pass used it, before the update)</span>' : '';
    const lines = [head, `<div class="eq-block"><h5>forward${before}</h5>`,
      `<p>${q('z', `z<sub>${J}</sub>(${l})`)} = ${t.symbolic} + ${q('b', `b<sub>${J}</sub>(${l - 1})`)}</p>`,
      `<p class="eq-num">= ${t.text} + ${paren(b)} = ${num(z)}</p>`,
      `<p>${q('a', `a<sub>${J}</sub>(${l})`)} = ${activationLine(f, z, a, entry.z, s)}</p></div>`];
    if (entry.delta) {
      const delta = at(entry.delta, s, j);
      const isOut = l === config.layers.length + 1;
      lines.push('<div class="eq-block"><h5>backward</h5>');
      if (isOut) {
        const y = view.batch && view.batch.y ? at(view.batch.y, s, Math.min(j, view.batch.y.cols - 1)) : NaN;
        const ceSoftmax = f === 'softmax' && /crossentropy/.test(config.loss);
        lines.push(`<p>${q('delta', `δ<sub>${J}</sub>(${l})`)} = ∂cost/∂${q('z', `z<sub>${J}</sub>(${l})`)}`
          + (ceSoftmax ? ` = ŷ<sub>${J}</sub> − y<sub>${J}</sub> = ${num(a)} − ${paren(y)}` : ' (from the loss)')
          + ` = ${num(delta)}</p>`);
      } else {
        const next = view.layers.find((e) => e.index === l);
        if (next && next.delta) {
          const Wn = next.W_fwd || next.W;
          const nOut = Wn.rows;
          const wCol = Array.from({ length: nOut }, (_, m) => at(Wn, m, j));
          const dNext = Array.from(next.delta.data.subarray(s * nOut, (s + 1) * nOut));
          const back = terms(wCol, dNext, q('w', `w<sub>m${J}</sub>(${l})`), q('delta', `δ<sub>m</sub>(${l + 1})`), 'm');
          const fp = activationDerivative(f, z, a);
          lines.push(`<p>${q('delta', `δ<sub>${J}</sub>(${l})`)} = (W(${l})ᵀ·${q('delta', `δ(${l + 1})`)})<sub>${J}</sub> · f′(${q('z', 'z')}) = ${back.symbolic} · ${f}′(${num(z)})</p>`,
            `<p class="eq-num">= [${back.text}] · ${Number.isNaN(fp) ? '?' : num(fp)} = ${num(back.total)} · ${Number.isNaN(fp) ? '?' : num(fp)} = ${num(delta)}</p>`);
        } else {
          lines.push(`<p>${q('delta', `δ<sub>${J}</sub>(${l})`)} = ${num(delta)}</p>`);
        }
      }
      let kShow = 0;
      if (entry.dW) {
        const kBest = as.reduce((best, v, k) => (Math.abs(v * ws[k]) > Math.abs(as[best] * ws[best]) ? k : best), 0);
        const K = kBest + 1;
        lines.push(`<p>∂cost/∂${q('w', `w<sub>${J}${K}</sub>(${l - 1})`)} = ${q('delta', `δ<sub>${J}</sub>(${l})`)}·${q('a', `a<sub>${K}</sub>(${l - 1})`)} = ${num(delta)}·${paren(as[kBest])} = ${num(delta * as[kBest])} <span class="muted">for this sample</span></p>`,
          `<p class="eq-num">averaged over the batch: ∂cost/∂${q('w', `w<sub>${J}${K}</sub>(${l - 1})`)} = ${num(at(entry.dW, j, kBest))}, `
          + `∂cost/∂${q('b', `b<sub>${J}</sub>(${l - 1})`)} = mean of ${q('delta', `δ<sub>${J}</sub>(${l})`)} = ${entry.db ? num(entry.db.data[j]) : '–'}</p>`);
        const reg = config && config.regularization;
        if (reg && (reg.l1 > 0 || reg.l2 > 0) && entry.W_fwd) {      // issue 15: the penalty's term, in ∂cost/∂W
          const w = at(entry.W_fwd, j, kBest);
          const g = penaltyGradient(reg, w);
          lines.push(`<p class="eq-num penalty-term">with regularization: ∂cost/∂${q('w', `w<sub>${J}${K}</sub>(${l - 1})`)} = mean of δ·a `
            + `+ l1·sign(w) + 2·l2·w = ${num(at(entry.dW, j, kBest) - g)} + ${num(reg.l1 || 0)}·${num(Math.sign(w))} + 2·${num(reg.l2 || 0)}·${paren(w)} `
            + `= ${num(at(entry.dW, j, kBest))} <span class="muted">(the average above includes it)</span></p>`);
        }
        kShow = kBest;
      }
      lines.push('</div>');
      if (entry.dW_applied && entry.W_fwd) lines.push(updateBlock(entry, j, kShow, l, view, config));
    } else {
      lines.push('<p class="muted">Press <b>Backward</b> to see δ flow back to this unit.</p>');
    }
    this.root.innerHTML = lines.join('');
  }
}

/** The update of w_JK(l−1) (and b_J): the optimizer's own rule with this step's numbers, then
 *  w ← w + Δw with as many digits as it takes to see the change. */
function updateBlock(entry, j, k, l, view, config) {
  const J = j + 1;
  const wName = q('w', `w<sub>${J}${k + 1}</sub>(${l - 1})`);
  const bName = q('b', `b<sub>${J}</sub>(${l - 1})`);
  const h = hyperparameters(config, app.options);
  const rule = entry.dW ? updateRule({ entry, j, k, view, config, options: app.options, wName }) : null;
  const [w0, w1, dw] = [at(entry.W_fwd, j, k), at(entry.W, j, k), at(entry.dW_applied, j, k)];
  const d = digitsFor(w0, w1, dw);
  const signed = (html, v) => (v < 0 ? `(${html})` : html);
  const out = [`<div class="eq-block" data-role="update" data-layer="${l - 1}" data-j="${j}" data-k="${k}" data-optimizer="${h.name}"`
    + ` data-rule-dw="${rule ? rule.dw : ''}" data-dw="${dw}">`,
    `<h5>update <span class="muted">(${ruleTitle(h)}, as the engine computes it)</span></h5>`, ...(rule ? rule.lines : []),
    `<p data-q="w">${wName} ← ${wName} + Δ${wName} = ${prec(w0, d)} + ${signed(sci(dw), dw)} = ${prec(w1, d)}</p>`];
  if (rule && Number.isFinite(rule.dw) && sci(rule.dw) !== sci(dw)) {      // they differ in the digits shown
    out.push(`<p class="muted">The engine applied Δw = ${sci(dw)}: w is a float32, so the step it takes is rounded to w's precision.</p>`);
  }
  if (dw === 0) out.push('<p class="muted">Δw = 0: this step left w unchanged.</p>');
  if (entry.db_applied && entry.b_fwd) {
    const [b0, b1, db] = [entry.b_fwd.data[j], entry.b.data[j], entry.db_applied.data[j]];
    const e = digitsFor(b0, b1, db);
    out.push(`<p data-q="b">${bName} ← ${bName} + Δ${bName} = ${prec(b0, e)} + ${signed(sci(db), db)} = ${prec(b1, e)} `
      + '<span class="muted">(b by the same rule, with ∂cost/∂b)</span></p>');
  }
  out.push('</div>');
  return out.join('');
}
