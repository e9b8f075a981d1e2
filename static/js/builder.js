// The network builder: data set and its options, layers (units + activation), loss, optimizer
// and its hyperparameters, learning rate, initializers, batch size, seed — all from /api/options.

import { clone } from './state.js';
import { featuresField, regularizationField, dropoutField, readPlayground } from './playground.js';

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const opts = (names, selected) => names.map((n) => `<option value="${esc(n)}" ${n === selected ? 'selected' : ''}>${esc(n)}</option>`).join('');

export class Builder {
  constructor(root, { options, onChange }) {
    this.root = root;
    this.options = options;
    this.onChange = onChange;
    this.config = null;
    root.addEventListener('change', (ev) => this.read(ev));
    // Enter applies the field it was typed in, and nothing else: no implicit form submission (which
    // "clicked" the first button of the form, the first layer's ×, and removed that layer).
    root.addEventListener('submit', (ev) => ev.preventDefault());
    root.addEventListener('input', (ev) => {       // a slider's value beside it while it moves
      const out = ev.target.type === 'range' && ev.target.closest('label')?.querySelector('.range-val');
      if (out) out.textContent = showSlider(ev.target.name, Number(ev.target.value));
    });
    root.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' || ev.target.tagName !== 'INPUT') return;
      ev.preventDefault();
      this.read(ev);
    });
    root.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-act]');
      if (!btn) return;
      ev.preventDefault();
      const cfg = clone(this.config);
      const i = Number(btn.dataset.i);
      if (btn.dataset.act === 'add') {
        const last = cfg.layers.length - 1;
        const prev = cfg.layers[Math.max(0, last - 1)];
        cfg.layers.splice(last, 0, { units: last > 0 ? prev.units : 4, activation: last > 0 ? prev.activation : 'tanh' });
      }
      if (btn.dataset.act === 'remove' && cfg.layers.length > 1) cfg.layers.splice(i, 1);
      this.set(cfg);
      this.onChange(cfg);
    });
  }

  dataset(name) { return this.options.datasets.find((d) => d.name === name) || {}; }
  optimizer(name) { return this.options.optimizers.find((o) => o.name === name) || { hyperparameters: {} }; }

  set(config) {
    this.config = clone(config);
    const o = this.options;
    const c = this.config;
    const ds = this.dataset(c.dataset.name);
    const dsOpts = Object.entries(ds.options || {}).filter(([, spec]) => ['int', 'float', 'choice'].includes(spec.type));
    const hyper = Object.entries(this.optimizer(c.optimizer.name).hyperparameters || {}).filter(([k]) => k !== 'learning_rate');
    const unavailable = o.datasets.filter((d) => !d.available);
    this.rebuilding = true;          // a focused field that goes fires "change": not a new value
    this.root.innerHTML = `
      <fieldset><legend>Data</legend>
        <label>data set <select name="dataset" title="${esc(ds.description)}">${o.datasets.map((d) => `<option value="${esc(d.name)}" ${d.name === c.dataset.name ? 'selected' : ''} ${d.available && d.name !== 'csv' ? '' : 'disabled'} title="${esc(d.available ? d.description : d.reason)}">${esc(d.name)}${d.available ? '' : ' (not available)'}</option>`).join('')}</select></label>
        <p class="help">${esc(ds.description || '')}</p>
        ${unavailable.map((d) => `<p class="help warn" data-unavailable="${esc(d.name)}"><b>${esc(d.name)}</b>: ${esc((d.reason || '').split(':')[0])}. Download it below (or run <code>backprop-lab download ${esc(d.name)}</code>).</p>`).join('')}
        <div class="grid2">${dsOpts.map(([k, spec]) => this.field(`d.${k}`, k.replace(/_/g, ' '), spec, c.dataset[k] ?? spec.default)).join('')}</div>
        ${dsOpts.some(([k]) => SLIDERS[`d.${k}`]) ? '<p class="help reset-note">Moving noise or train : test makes new data, so the network starts again (new weights, step 0); the batch size below keeps the weights.</p>' : ''}
        ${featuresField(ds, c)}
      </fieldset>
      <fieldset><legend>Layers <span class="muted">(layer 1 = input: ${esc((c.dataset.features || []).length || (ds.input_shape || ['?'])[0])} units)</span></legend>
        <ol class="layer-list">${c.layers.map((l, i) => `<li data-i="${i}">
          <span class="lname" title="${i === c.layers.length - 1 ? 'the output layer ŷ' : 'a hidden layer'}">layer ${i + 2}${i === c.layers.length - 1 ? ' · ŷ' : ''}</span>
          <input type="number" name="units" data-i="${i}" min="1" max="${o.limits?.max_units ?? 1024}" value="${l.units}" aria-label="units of layer ${i + 2}">
          <select name="activation" data-i="${i}" aria-label="activation of layer ${i + 2}">${opts(o.activations, l.activation)}</select>
          <button type="button" data-act="remove" data-i="${i}" title="remove this layer" ${c.layers.length < 2 ? 'disabled' : ''}>×</button>
          ${dropoutField(l, i, c.layers.length - 1)}</li>`).join('')}</ol>
        <button type="button" data-act="add" class="small">+ add hidden layer</button>
      </fieldset>
      <fieldset><legend>Training</legend>
        <label>loss <select name="loss">${opts(o.losses, c.loss)}</select></label>
        <label>optimizer <select name="optimizer">${opts(o.optimizers.map((x) => x.name), c.optimizer.name)}</select></label>
        <label title="η: how far each update moves W. Changing it keeps the weights.">learning rate η
          <input type="number" name="learning_rate" min="0" max="100" step="any" value="${c.optimizer.learning_rate}" list="lr-presets"></label>
        <datalist id="lr-presets">${[0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10].map((x) => `<option value="${x}">`).join('')}</datalist>
        <div class="grid2">${hyper.map(([k, spec]) => this.field(`o.${k}`, k.replace(/_/g, ' '), spec, c.optimizer[k] ?? spec.default)).join('')}</div>
        <div class="grid2">
          <label>batch size <input type="number" name="batch_size" min="1" max="${o.limits?.max_batch_size ?? 4096}" value="${c.batch_size}">
            <input type="range" name="batch_range" min="1" max="64" step="1" value="${Math.min(64, c.batch_size)}" aria-label="batch size slider" title="Batch size 1–64 (type larger ones in the box). Changing it keeps the weights."></label>
          <label>seed <input type="number" name="seed" min="0" value="${c.seed}"></label>
        </div>
        ${regularizationField(c)}
        <label>W initializer <select name="kernel_initializer">${opts(o.initializers, c.kernel_initializer)}</select></label>
        <label>b initializer <select name="bias_initializer">${opts(o.initializers, c.bias_initializer)}</select></label>
      </fieldset>`;
    this.rebuilding = false;
  }

  field(name, label, spec, value) {
    if (spec.type === 'bool') return `<label class="check"><input type="checkbox" name="${name}" ${value ? 'checked' : ''}> ${esc(label)}</label>`;
    if (spec.type === 'choice') {
      return `<label>${esc(label)} <select name="${name}">${(spec.choices || []).map((ch) => `<option value="${esc(ch)}" ${ch === value ? 'selected' : ''}>${esc(ch ?? 'auto')}</option>`).join('')}</select></label>`;
    }
    if (SLIDERS[name] && spec.min !== null && spec.max !== null) return slider(name, label, spec, value, SLIDERS[name]);
    const step = spec.type === 'int' ? 1 : 'any';
    return `<label title="${esc(spec.help)}">${esc(label)} <input type="number" name="${name}" data-type="${spec.type}" step="${step}" ${spec.min !== null && spec.min !== undefined ? `min="${spec.min}"` : ''} ${spec.max !== null && spec.max !== undefined ? `max="${spec.max}"` : ''} value="${value ?? ''}"></label>`;
  }

  read(ev) {
    const t = ev.target;
    if (!t.name || this.rebuilding) return;
    const cfg = clone(this.config);
    const n = t.type === 'checkbox' ? t.checked : (['number', 'range'].includes(t.type) ? Number(t.value) : t.value);
    if (t.type === 'number' && (t.value === '' || !Number.isFinite(n))) { this.markInvalid(t.name, 'enter a number'); return; }
    this.clearInvalid(t.name);       // a value to apply: marked again if the server refuses it
    const i = Number(t.dataset.i);
    const pg = readPlayground(t, cfg, this.root);
    if (typeof pg === 'string') { this.markInvalid(t.name, pg); return; }
    if (pg) { /* features, regularization, dropout: static/js/playground.js */ } else if (t.name === 'dataset') {
      cfg.dataset = { name: n };
      fitOutput(cfg, this.dataset(n));
    } else if (t.name.startsWith('d.')) cfg.dataset[t.name.slice(2)] = n;
    else if (t.name.startsWith('o.')) cfg.optimizer[t.name.slice(2)] = n;
    else if (t.name === 'units') cfg.layers[i].units = Math.max(1, Math.round(n));
    else if (t.name === 'activation') cfg.layers[i].activation = n;
    else if (t.name === 'optimizer') {
      const hyper = this.optimizer(n).hyperparameters || {};
      cfg.optimizer = { name: n, learning_rate: hyper.learning_rate?.default ?? cfg.optimizer.learning_rate };
    } else if (t.name === 'learning_rate') {
      if (!(n > 0 && n <= 100)) { this.markInvalid(t.name, `η must be above 0 and at most 100 (not applied: still ${this.config.optimizer.learning_rate})`); return; }
      cfg.optimizer.learning_rate = n;
    } else if (['batch_size', 'seed'].includes(t.name)) cfg[t.name] = Math.round(n);
    else if (t.name === 'batch_range') cfg.batch_size = Math.round(n);
    else cfg[t.name] = n;
    if (['batch_size', 'batch_range'].includes(t.name)) {       // the box and the slider agree
      this.root.querySelector('[name="batch_size"]').value = String(cfg.batch_size);
      this.root.querySelector('[name="batch_range"]').value = String(Math.min(64, cfg.batch_size));
    }
    const rebuild = ['dataset', 'optimizer', 'reg_kind'].includes(t.name);
    this.config = cfg;
    if (rebuild) this.set(cfg);
    this.onChange(cfg);
  }

  /** Switch to a data set given by the page (an uploaded CSV): output layer and loss follow it. */
  useDataset(spec, info) {
    const cfg = clone(this.config);
    cfg.dataset = { ...spec };
    fitOutput(cfg, info);
    this.set(cfg);
    this.onChange(cfg);
  }

  /** New options from the server (e.g. MNIST became available). */
  setOptions(options) { this.options = options; this.set(this.config); }

  /** Show a field as refused: red outline (aria-invalid) and `message` beside it; `value`, if given,
   *  goes back in the field (what was typed, so the mark says what was refused). */
  markInvalid(name, message, value) {
    const input = this.root.querySelector(`[name="${name}"]`);
    if (!input) return;
    if (value !== undefined && input.type !== 'checkbox') input.value = String(value);
    const id = `field-error-${name.replace(/\W/g, '-')}`;
    let note = this.root.querySelector(`#${id}`);
    if (!note) {
      note = document.createElement('span');
      Object.assign(note, { id, className: 'field-error' });
      note.setAttribute('role', 'alert');
      if (input.type === 'checkbox') input.closest('label').append(note); else input.after(note);
    }
    note.textContent = message;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.setCustomValidity?.(message);
  }

  /** Remove a field's invalid mark (a value was applied, or is about to be). */
  clearInvalid(name) {
    const input = this.root.querySelector(`[name="${name}"]`);
    if (!input) return;
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
    input.setCustomValidity?.('');
    this.root.querySelector(`#field-error-${name.replace(/\W/g, '-')}`)?.remove();
  }

  /** The server refused a PATCH `body`: mark the fields its 422 names (else every field sent) with
   *  its message, the refused value in the field and the value still in use after it. */
  markRefused(body, err) {
    const sent = [...Object.entries(body?.optimizer || {}).map(([k, v]) => [fieldName(['optimizer', k]), v]),
      ...('batch_size' in (body || {}) ? [['batch_size', body.batch_size]] : [])];
    const detail = Array.isArray(err?.body?.detail) ? err.body.detail : null;
    const reasons = new Map();
    if (detail) {
      detail.forEach((d) => {
        const loc = (d.loc || []).filter((p) => p !== 'body');
        const text = String(d.msg || '').replace(new RegExp(`^${loc.join('\\.')}:\\s*`), '');
        reasons.set(fieldName(loc), text);
      });
    }
    const named = sent.some(([name]) => reasons.has(name));
    sent.forEach(([name, value]) => {
      const reason = named ? reasons.get(name) : err?.message;   // no field named: the whole message
      if (!reason) return;
      const input = this.root.querySelector(`[name="${name}"]`);
      const still = input && input.type !== 'checkbox' && input.value !== '' ? ` (not applied: still ${input.value})` : ' (not applied)';
      this.markInvalid(name, `server: ${reason}${still}`, value);
    });
  }

  /** Set the learning rate field (e.g. from the comparison) without rebuilding the form. */
  setLearningRate(lr) {
    this.config.optimizer.learning_rate = lr;
    const input = this.root.querySelector('[name="learning_rate"]');
    if (input) input.value = String(lr);
  }
}

const SLIDERS = { 'd.noise': 'noise', 'd.train_fraction': 'train' };
const showSlider = (name, v) => (name === 'd.noise' ? `${Math.round(v * 100)} %`
  : (name === 'd.train_fraction' ? `${Math.round(v * 100)} : ${Math.round((1 - v) * 100)} %` : String(v)));

/** A Playground slider for a data set option: new data, hence a new network (said beside it). */
function slider(name, label, spec, value, kind) {
  return `<label class="slider" title="${esc(spec.help)} Changing it regenerates the data: a new network from step 0.">${esc(kind === 'train' ? 'train : test' : label)}
    <span class="range-val">${showSlider(name, value)}</span>
    <input type="range" name="${name}" min="${spec.min}" max="${spec.max}" step="0.05" value="${value}"></label>`;
}

/** The builder's field for a config path: learning_rate, o.<key> (optimizer), batch_size, ... */
function fieldName(loc) {
  if (loc[0] === 'optimizer') return loc[1] === 'learning_rate' ? 'learning_rate' : (loc[1] === 'name' ? 'optimizer' : `o.${loc[1]}`);
  return loc[0] === 'dataset' ? `d.${loc[1]}` : String(loc[0]);
}

/** The output layer and loss that fit a data set: softmax over its classes, or one linear unit. */
function fitOutput(cfg, ds) {
  const out = cfg.layers[cfg.layers.length - 1];
  if (ds.kind === 'classification' && ds.n_classes) {
    out.units = ds.n_classes; out.activation = 'softmax'; cfg.loss = 'categorical_crossentropy';
  } else if (ds.kind === 'regression') {
    out.units = (ds.n_targets || 1); out.activation = 'linear'; cfg.loss = 'mean_squared_error';
  }
  if ((ds.input_shape || [0])[0] > 100) cfg.batch_size = Math.max(cfg.batch_size, 32);
}
