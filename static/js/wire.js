// Binary WebSocket frames (app/wire.py): uint32 header length H, H bytes of JSON, padding to a
// multiple of 4, then the tensors' bytes. A tensor in the header is {shape, label, dtype, offset}:
// float32le values are read in place (a Float32Array view on the message, no copy, no base64, no
// JSON parse of the numbers); int8q ones are q·scale.

import { knowMaxAbs, whole } from './tensor.js';

const decoder = new TextDecoder();

/** One tensor's header entry → a mat {shape, rows, cols, data, label} (see tensor.js toMat). */
function mat(t, buffer, start) {
  const size = t.shape.reduce((p, n) => p * n, 1);
  let data;
  let top = -1;                       // max |q| of an int8 tensor: its maxAbs is top · scale
  if (t.dtype === 'int8q') {
    const q = new Int8Array(buffer, start + t.offset, size);
    data = new Float32Array(size);
    top = 0;
    for (let i = 0; i < size; i += 1) {
      const v = q[i];
      data[i] = v * t.scale;
      if (v > top) top = v; else if (-v > top) top = -v;
    }
  } else data = new Float32Array(buffer, start + t.offset, size);
  const rows = t.shape[0] ?? 1;
  const cols = t.shape.length === 1 ? 1 : size / Math.max(rows, 1);
  const out = { shape: t.shape, rows, cols, data, label: t.label || '' };
  if (t.nonfinite) out.nonfinite = true;
  if (top >= 0) knowMaxAbs(out, Math.fround(top * t.scale));      // = the largest |data[i]|, exactly
  return whole(out, t);                                            // rows cut: the whole matrix's numbers
}

function walk(value, buffer, start) {
  if (Array.isArray(value)) return value.map((v) => walk(v, buffer, start));
  if (!value || typeof value !== 'object') return value;
  if (Number.isInteger(value.offset) && Array.isArray(value.shape) && value.dtype) return mat(value, buffer, start);
  const out = {};
  for (const k of Object.keys(value)) out[k] = walk(value[k], buffer, start);
  return out;
}

/** A binary message (ArrayBuffer) → the message, its tensors as mats; null if it is malformed. */
export function decodeFrame(buffer) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < 4) return null;
  const n = new DataView(buffer).getUint32(0, true);
  if (4 + n > buffer.byteLength) return null;
  let head;
  try { head = JSON.parse(decoder.decode(new Uint8Array(buffer, 4, n))); } catch { return null; }
  const start = 4 + n + ((4 - ((4 + n) % 4)) % 4);
  try { return walk(head, buffer, start); } catch { return null; }   // an offset out of range
}
