// Tensors from the API ({shape, values, label}) as flat Float32Arrays, plus small numeric helpers.

function flattenInto(values, out, offset) {
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (Array.isArray(v)) offset = flattenInto(v, out, offset);
    else { out[offset] = v === null ? NaN : v; offset += 1; }
  }
  return offset;
}

/** {shape, values, label} → {shape, rows, cols, data, label}; 1-D tensors become one column. */
export function toMat(t, fallbackLabel = '') {
  if (!t || t.omitted) return null;       // too large for one answer: the server sent a summary only
  if (t.data instanceof Float32Array) return t;
  const shape = t.shape || inferShape(t.values ?? t);
  const size = shape.reduce((p, n) => p * n, 1);
  let data;
  if ((t.dtype === 'float32le' || t.dtype === 'int8q') && typeof t.values === 'string') {
    const bin = atob(t.values);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
    if (t.dtype === 'int8q') {         // big tensors while playing: int8 with a scale (value ≈ q·scale)
      const q = new Int8Array(bytes.buffer, 0, size);
      const scale = t.scale;
      data = new Float32Array(size);
      for (let i = 0; i < size; i += 1) data[i] = q[i] * scale;
    } else data = new Float32Array(bytes.buffer, 0, size);
    const rows = shape[0] ?? 1;
    return whole({ shape, rows, cols: shape.length === 1 ? 1 : size / Math.max(rows, 1), data, label: t.label || fallbackLabel }, t);
  }
  data = new Float32Array(size);
  flattenInto(Array.isArray(t.values) ? t.values : (Array.isArray(t) ? t : []), data, 0);
  const rows = shape.length === 1 ? shape[0] : shape[0];
  const cols = shape.length === 1 ? 1 : size / Math.max(shape[0], 1);
  return whole({ shape, rows, cols, data, label: t.label || fallbackLabel }, t);
}

function inferShape(v) {
  const shape = [];
  let cur = v;
  while (Array.isArray(cur)) { shape.push(cur.length); cur = cur[0]; }
  return shape;
}

/** The transpose of a 2-D mat (new array). */
export function transpose(m) {
  const out = new Float32Array(m.data.length);
  for (let r = 0; r < m.rows; r += 1) {
    for (let c = 0; c < m.cols; c += 1) out[c * m.rows + r] = m.data[r * m.cols + c];
  }
  return { ...m, rows: m.cols, cols: m.rows, data: out, transposed: !m.transposed };
}

export const at = (m, r, c) => m.data[r * m.cols + c];

// max |m| per mat, worked out once: a frame's mats are never changed, and while playing MNIST the
// page asked for W(1)'s (100,352 values) three times a frame (colour scales, the exploding check,
// the diagram's link widths).
const MAX_ABS = new WeakMap();

/** The largest finite |value| of m (0 for none), computed once per mat. */
export function maxAbs(m) {
  if (!m) return 0;
  const known = MAX_ABS.get(m);
  if (known !== undefined) return known;
  let best = 0;
  const d = m.data;
  for (let i = 0; i < d.length; i += 1) {
    const a = Math.abs(d[i]);
    if (a > best && Number.isFinite(a)) best = a;
  }
  MAX_ABS.set(m, best);
  return best;
}

/** Record maxAbs(m) when it is known already (wire.js: an int8 tensor's is max|q| · scale). */
export function knowMaxAbs(m, value) { MAX_ABS.set(m, value); }

/** A tensor the server cut to its first rows (t.rows_of > t.shape[0]: a play frame's W(l) or
 *  ∂cost/∂W(l) of a big layer, app/frames.py cut_rows) → mat `m` knows the whole matrix's rows
 *  (`rowsOf`), norm and max |·|: gradient norms and colour scales stay the whole matrix's. */
export function whole(m, t) {
  if (!m || !Number.isInteger(t.rows_of) || !(t.rows_of > m.rows)) return m;
  m.rowsOf = t.rows_of;
  m.norm = Number.isFinite(t.norm) ? t.norm : NaN;       // never the norm of the rows sent
  if (Number.isFinite(t.max_abs)) knowMaxAbs(m, t.max_abs);
  return m;
}

/** ‖m‖ (Frobenius); of a mat cut to its first rows (a play frame's W, ∂cost/∂W: see `whole`),
 *  the whole matrix's norm, as the server measured it. */
export function norm(m) {
  if (!m) return NaN;
  if (m.rowsOf) return m.norm;
  let s = 0;
  for (let i = 0; i < m.data.length; i += 1) s += m.data[i] * m.data[i];
  return Math.sqrt(s);
}

export function sum(m) {
  let s = 0;
  for (let i = 0; i < m.data.length; i += 1) s += m.data[i];
  return s;
}

/** A number for people: 4 significant digits, exponent form for very small / large values. */
export function fmt(v, digits = 4) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(digits - 2).replace(/-/g, '−');
  return Number(v.toPrecision(digits)).toString().replace(/-/g, '−');
}

/** Derivative f′(z) of an activation, given z and a = f(z). */
export function activationDerivative(name, z, a) {
  switch (name) {
    case 'sigmoid': return a * (1 - a);
    case 'tanh': return 1 - a * a;
    case 'relu': return z > 0 ? 1 : 0;
    case 'leaky_relu': return z > 0 ? 1 : 0.2;
    case 'elu': return z > 0 ? 1 : a + 1;
    case 'softplus': return 1 / (1 + Math.exp(-z));
    case 'linear': case null: case undefined: return 1;
    default: return NaN;
  }
}
