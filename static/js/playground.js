// TensorFlow Playground's knobs in the builder (issue 15): the input features of a 2-D data set,
// regularization (None / L1 / L2 with its rate, L1+L2 with both rates; changed mid-session by PATCH),
// dropout per hidden layer, and the lecture presets (one-click sessions from /api/options "presets").

import { featureLabel } from './unitmaps.js';

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

/** The data set's feature toggles (option `features`, a list), or '' when it has none. */
export function featuresField(ds, c) {
  const spec = (ds.options || {}).features;
  if (!spec || spec.type !== 'list') return '';
  const on = c.dataset.features || spec.default || [];
  return `<div class="features" role="group" aria-label="input features" title="${esc(spec.help)}">
    <span class="muted">input features (a new network: the input width changes)</span>
    ${(spec.choices || []).map((f) => `<label class="check feature"><input type="checkbox" name="f.${esc(f)}" data-feature="${esc(f)}" ${on.includes(f) ? 'checked' : ''}> ${esc(featureLabel(f))}</label>`).join('')}</div>`;
}

const KINDS = { none: [0, 0], l1: [1, 0], l2: [0, 1], l1l2: [1, 1] };

function kindOf(reg) {
  const l1 = reg && reg.l1 > 0;
  const l2 = reg && reg.l2 > 0;
  return l1 && l2 ? 'l1l2' : (l1 ? 'l1' : (l2 ? 'l2' : 'none'));
}

/** Regularization: the kind and its rates: one rate for L1 or L2 (reg_rate), two for L1 + L2 (reg_rate
 *  the L1 rate, reg_l2 the L2 rate), each in [0, 1] as the API takes them. */
export function regularizationField(c) {
  const reg = c.regularization || null;
  const kind = kindOf(reg);
  const rate = reg ? (reg.l1 || reg.l2 || 0.001) : 0.001;
  const names = { none: 'None', l1: 'L1', l2: 'L2', l1l2: 'L1 + L2' };
  const rateName = { none: 'regularization rate', l1: 'L1 rate l1', l2: 'L2 rate l2', l1l2: 'L1 rate l1' }[kind];
  const field = (name, label, value, off) => `<label>${label} <input type="number" name="${name}" min="0" max="1" step="any" value="${value}" list="reg-presets" ${off ? 'disabled' : ''}></label>`;
  return `<div class="grid2" title="A penalty on every kernel added to the cost: L1 adds l1·Σ|W|, L2 adds l2·ΣW², L1 + L2 both with their own rates. Changing it keeps the weights (a new branch at an earlier step).">
    <label>regularization <select name="reg_kind">${Object.keys(KINDS).map((k) => `<option value="${k}" ${k === kind ? 'selected' : ''}>${names[k]}</option>`).join('')}</select></label>
    ${field('reg_rate', rateName, rate, kind === 'none')}
    ${kind === 'l1l2' ? `<span></span>${field('reg_l2', 'L2 rate l2', reg.l2, false)}` : ''}</div>
    <datalist id="reg-presets">${[0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1].map((x) => `<option value="${x}">`).join('')}</datalist>`;
}

/** The rates the fields ask for, {l1, l2}, or a message naming what is wrong. */
function readRates(root) {
  const kind = root.querySelector('[name="reg_kind"]').value;
  const value = (name, fallback) => {
    const el = root.querySelector(`[name="${name}"]`);
    return el && el.value !== '' ? Number(el.value) : fallback;
  };
  const rate = value('reg_rate', 0.001);
  const [a, b] = KINDS[kind];
  const rates = kind === 'l1l2' ? { l1: rate, l2: value('reg_l2', rate) } : { l1: a * rate, l2: b * rate };
  const bad = Object.entries(rates).find(([, v]) => !(v >= 0 && v <= 1));
  return bad ? `the ${bad[0].toUpperCase()} rate must be in [0, 1]` : (kind === 'none' ? null : rates);
}

/** A hidden layer's dropout field (the output layer has none). */
export function dropoutField(l, i, last) {
  if (i === last) return '';
  return `<label class="dropout" title="Dropout rate p: each step, this share of the layer's units is switched off (training only; 0 = off)">dropout p
    <input type="number" name="dropout" data-i="${i}" min="0" max="0.95" step="0.05" value="${l.dropout || 0}" aria-label="dropout of layer ${i + 2}"></label>`;
}

/** Apply a playground field's change to cfg; answers false when t is not one of them. */
export function readPlayground(t, cfg, root) {
  if (t.name.startsWith('f.')) {
    const on = [...root.querySelectorAll('input[data-feature]')].filter((x) => x.checked).map((x) => x.dataset.feature);
    if (!on.length) { t.checked = true; return 'keep at least one input feature'; }
    cfg.dataset.features = on;
    return true;
  }
  if (['reg_kind', 'reg_rate', 'reg_l2'].includes(t.name)) {
    const rates = readRates(root);
    if (typeof rates === 'string') return rates;
    cfg.regularization = rates;
    return true;
  }
  if (t.name === 'dropout') {
    const v = Number(t.value);
    if (!(v >= 0 && v < 1)) return 'dropout must be in [0, 1)';
    cfg.layers[Number(t.dataset.i)].dropout = v;
    return true;
  }
  return false;
}

/** The lecture presets as one-click buttons; onPick(session config, title). */
export function presetButtons(root, presets, onPick) {
  const entries = Object.entries(presets || {});
  root.hidden = !entries.length;
  root.innerHTML = `<h2>Lecture presets</h2>${entries.map(([k, p]) => `<button type="button" class="preset" data-preset="${esc(k)}" title="${esc(p.description)}">${esc(p.title)}</button>`).join(' ')}
    <p class="help" data-role="preset-help">${entries.map(([, p]) => `<b>${esc(p.title)}</b>: ${esc(p.description)}`).join('<br>')}</p>`;
  root.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-preset]');
    if (b) onPick(JSON.parse(JSON.stringify(presets[b.dataset.preset].session)), presets[b.dataset.preset].title);
  });
}

/** The regularization term of ∂cost/∂w for one weight w: l1·sign(w) + 2·l2·w. */
export function penaltyGradient(reg, w) {
  if (!reg) return 0;
  return (reg.l1 || 0) * Math.sign(w) + 2 * (reg.l2 || 0) * w;
}
