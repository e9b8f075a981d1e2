// The lecture's equations for the neuron the user clicked, with this step's numbers in:
//   z = Σ w·a + b,  a = f(z),  δ = (Wᵀδ′) ⊙ f′(z),  ∂cost/∂w = δ·a.

import { at, fmt, activationDerivative } from './tensor.js';
import { activationsOf } from './stepview.js';

const MAX_TERMS = 4;
const q = (cls, text) => `<span class="q-${cls}">${text}</span>`;
const num = (v) => `<span class="num">${fmt(v, 4)}</span>`;
const paren = (v) => (v < 0 ? `(${num(v)})` : num(v));

/** Show the largest terms of Σ w·a and summarise the rest. */
function terms(ws, as, wName, aName) {
  const items = ws.map((w, k) => ({ k, w, a: as[k], p: w * as[k] }));
  const shown = items.length <= MAX_TERMS + 1 ? items
    : [...items].sort((x, y) => Math.abs(y.p) - Math.abs(x.p)).slice(0, MAX_TERMS).sort((x, y) => x.k - y.k);
  const rest = items.filter((t) => !shown.includes(t));
  let s = shown.map((t) => `${paren(t.w)}·${paren(t.a)}`).join(' + ');
  if (rest.length) {
    const restSum = rest.reduce((acc, t) => acc + t.p, 0);
    s += ` + <span class="muted">[${rest.length} more terms = ${fmt(restSum, 4)}]</span>`;
  }
  return { text: s, total: items.reduce((acc, t) => acc + t.p, 0),
    symbolic: `Σ<sub>k</sub> ${wName}·${aName}` };
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
    const lines = [head, '<div class="eq-block"><h5>forward</h5>',
      `<p>${q('z', `z<sub>${J}</sub>(${l})`)} = ${t.symbolic} + ${q('b', `b<sub>${J}</sub>(${l - 1})`)}</p>`,
      `<p class="eq-num">= ${t.text} + ${paren(b)} = ${num(z)}</p>`,
      `<p>${q('a', `a<sub>${J}</sub>(${l})`)} = ${f}(${q('z', 'z')}) = ${f}(${num(z)}) = ${num(a)}</p></div>`];
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
          const back = terms(wCol, dNext, q('w', `w<sub>m${J}</sub>(${l})`), q('delta', `δ<sub>m</sub>(${l + 1})`));
          const fp = activationDerivative(f, z, a);
          lines.push(`<p>${q('delta', `δ<sub>${J}</sub>(${l})`)} = (W(${l})ᵀ·${q('delta', `δ(${l + 1})`)})<sub>${J}</sub> · f′(${q('z', 'z')}) = ${back.symbolic} · ${f}′(${num(z)})</p>`,
            `<p class="eq-num">= [${back.text}] · ${Number.isNaN(fp) ? '?' : num(fp)} = ${num(back.total)} · ${Number.isNaN(fp) ? '?' : num(fp)} = ${num(delta)}</p>`);
        } else {
          lines.push(`<p>${q('delta', `δ<sub>${J}</sub>(${l})`)} = ${num(delta)}</p>`);
        }
      }
      if (entry.dW) {
        const kBest = as.reduce((best, v, k) => (Math.abs(v * ws[k]) > Math.abs(as[best] * ws[best]) ? k : best), 0);
        const K = kBest + 1;
        lines.push(`<p>∂cost/∂${q('w', `w<sub>${J}${K}</sub>(${l - 1})`)} = ${q('delta', `δ<sub>${J}</sub>(${l})`)}·${q('a', `a<sub>${K}</sub>(${l - 1})`)} = ${num(delta)}·${paren(as[kBest])} = ${num(delta * as[kBest])} <span class="muted">for this sample</span></p>`,
          `<p class="eq-num">averaged over the batch: ∂cost/∂w<sub>${J}${K}</sub> = ${num(at(entry.dW, j, kBest))}, ∂cost/∂b<sub>${J}</sub> = mean δ<sub>${J}</sub> = ${entry.db ? num(entry.db.data[j]) : '–'}</p>`);
      }
      lines.push('</div>');
      if (entry.dW_applied) {
        lines.push(`<div class="eq-block"><h5>update</h5><p>Δ${q('b', `b<sub>${J}</sub>`)} and ΔW row ${J}: the optimizer changed w<sub>${J}1</sub>(${l - 1}) by ${num(at(entry.dW_applied, j, 0))}</p></div>`);
      }
    } else {
      lines.push('<p class="muted">Press <b>Backward</b> to see δ flow back to this unit.</p>');
    }
    this.root.innerHTML = lines.join('');
  }
}
