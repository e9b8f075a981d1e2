// The configuration of the network ↔ the page's URL (so a link reproduces the setup), and a
// tiny observable store for what the page currently shows.


export const clone = (o) => JSON.parse(JSON.stringify(o));

function parseValue(text) {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (text !== '' && !Number.isNaN(Number(text))) return Number(text);
  if (text.includes('|')) return text.split('|').filter(Boolean);
  return text;
}

function showValue(v) {
  return Array.isArray(v) ? v.join('|') + (v.length === 1 ? '|' : '') : String(v);
}

/** Config → query string, e.g. ?data=xor&d.noise=0.05&layers=8:tanh,8:tanh,2:softmax&lr=0.1 */
export function configToQuery(cfg) {
  const p = new URLSearchParams();
  p.set('data', cfg.dataset.name);
  Object.entries(cfg.dataset).forEach(([k, v]) => {
    if (k !== 'name' && v !== undefined && v !== null) p.set(`d.${k}`, showValue(v));
  });
  p.set('layers', cfg.layers.map((l) => `${l.units}:${l.activation}`).join(','));
  p.set('loss', cfg.loss);
  p.set('opt', cfg.optimizer.name);
  p.set('lr', String(cfg.optimizer.learning_rate));
  Object.entries(cfg.optimizer).forEach(([k, v]) => {
    if (k !== 'name' && k !== 'learning_rate' && v !== undefined && v !== null) p.set(`o.${k}`, showValue(v));
  });
  if (cfg.regularization) p.set('reg', `${cfg.regularization.l1 || 0}:${cfg.regularization.l2 || 0}`);
  if (cfg.layers.some((l) => l.dropout)) p.set('dropout', cfg.layers.map((l) => l.dropout || 0).join(','));
  p.set('init', cfg.kernel_initializer);
  p.set('binit', cfg.bias_initializer);
  p.set('batch', String(cfg.batch_size));
  p.set('seed', String(cfg.seed));
  return p.toString();
}

/** Query string → config; anything missing or malformed falls back to ``defaults`` (the server's
 *  one default session, /api/options "defaults"). */
export function configFromQuery(query, defaults) {
  const p = new URLSearchParams(query);
  const cfg = clone(defaults);
  if (![...p.keys()].length) return cfg;
  if (p.get('data')) cfg.dataset = { name: p.get('data') };
  for (const [k, v] of p.entries()) {
    if (k.startsWith('d.')) cfg.dataset[k.slice(2)] = parseValue(v);
    if (k.startsWith('o.')) cfg.optimizer[k.slice(2)] = parseValue(v);
  }
  const layers = (p.get('layers') || '').split(',').map((s) => {
    const [units, activation] = s.split(':');
    return { units: Math.round(Number(units)), activation: activation || 'relu' };
  }).filter((l) => Number.isFinite(l.units) && l.units > 0);
  if (layers.length) cfg.layers = layers;
  (p.get('dropout') || '').split(',').forEach((d, i) => { if (cfg.layers[i] && Number(d) > 0 && Number(d) < 1) cfg.layers[i].dropout = Number(d); });
  const [l1, l2] = (p.get('reg') || '').split(':').map(Number);
  if (l1 > 0 || l2 > 0) cfg.regularization = { l1: l1 || 0, l2: l2 || 0 };
  if (p.get('loss')) cfg.loss = p.get('loss');
  if (p.get('opt')) cfg.optimizer.name = p.get('opt');
  const lr = Number(p.get('lr'));
  if (p.has('lr') && lr > 0) cfg.optimizer.learning_rate = lr;
  if (p.get('init')) cfg.kernel_initializer = p.get('init');
  if (p.get('binit')) cfg.bias_initializer = p.get('binit');
  const batch = Number(p.get('batch'));
  if (batch > 0) cfg.batch_size = Math.round(batch);
  const seed = Number(p.get('seed'));
  if (p.has('seed') && Number.isFinite(seed)) cfg.seed = Math.round(seed);
  return cfg;
}

export function configFromURL(defaults) { return configFromQuery(location.search, defaults); }

export function writeURL(cfg) {
  const url = `${location.pathname}?${configToQuery(cfg)}${location.hash}`;
  history.replaceState(null, '', url);
}

/** True when going from config a to b needs new weights: the architecture (data set, layers, loss,
 *  initializers, seed) changed. The optimizer and the batch size change without a reset (PATCH). */
export function needsReset(a, b) {
  const strip = (c) => {
    const o = clone(c);
    delete o.optimizer;
    delete o.batch_size;
    delete o.regularization;         // PATCH too (issue 15): the weights stay
    return canonical(o);
  };
  return strip(a) !== strip(b);
}

/** JSON with every object's keys sorted, so two equal configs compare equal in any key order. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The PATCH body that takes a session from config a to b (optimizer, batch size), or null. */
export function trainingPatch(a, b) {
  const body = {};
  if (a.optimizer.name !== b.optimizer.name) body.optimizer = clone(b.optimizer);
  else {
    const changed = Object.keys(b.optimizer).filter((k) => k !== 'name' && a.optimizer[k] !== b.optimizer[k]);
    if (changed.length) body.optimizer = Object.fromEntries(changed.map((k) => [k, b.optimizer[k]]));
  }
  if (a.batch_size !== b.batch_size) body.batch_size = b.batch_size;
  if (canonical(a.regularization || null) !== canonical(b.regularization || null)) body.regularization = b.regularization || { l1: 0, l2: 0 };
  return Object.keys(body).length ? body : null;
}

/** A minimal observable store: set(patch) merges and notifies subscribers with the keys that changed. */
export function createStore(initial) {
  const state = { ...initial };
  const subs = new Set();
  return {
    get: () => state,
    set(patch) {
      Object.assign(state, patch);
      const keys = Object.keys(patch);
      subs.forEach((fn) => fn(state, keys));
    },
    subscribe(fn) { subs.add(fn); return () => subs.delete(fn); },
  };
}
