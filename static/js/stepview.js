// What the page knows about the current training step, merged from the forward, backward and
// update answers (or one step / WebSocket frame that holds all three). Quantities that have
// not been computed for this batch are absent (null), never zeros.

import { toMat } from './tensor.js';

const FIELDS = ['W', 'b', 'z', 'a', 'delta', 'dW', 'db', 'dW_applied', 'db_applied', 'mask'];
const BACKWARD = ['delta', 'dW', 'db', 'dW_applied', 'db_applied', 'slots', 'updateNorms'];

export function emptyView() {
  return { step: 0, epoch: 0, phase: 'ready', batch: null, loss: null, layers: [], diverged: null };
}

/** Merge one API answer into the view (returns a new view object; mats are shared). */
export function merge(view, payload) {
  if (!payload || typeof payload !== 'object') return view;
  const next = { ...view, layers: view.layers.map((l) => ({ ...l })) };
  const state = payload.state || {};
  const isForward = Array.isArray(payload.layers) && payload.layers.some((l) => l.z);
  if (isForward) {
    next.layers.forEach((l) => { BACKWARD.forEach((f) => { l[f] = null; }); l.mask = null; });   // dropout's mask: this batch's
  }
  if (payload.batch) {
    next.batch = {
      indices: payload.batch.indices || [],
      x: toMat(payload.batch.x, 'a(1)'),
      y: payload.batch.y ? toMat(payload.batch.y, 'y') : null,
    };
  }
  (payload.layers || []).forEach((pl) => {
    let entry = next.layers.find((l) => l.index === pl.index);
    if (!entry) {
      entry = { index: pl.index };
      FIELDS.forEach((f) => { entry[f] = null; });
      next.layers.push(entry);
      next.layers.sort((a, b) => a.index - b.index);
    }
    if (pl.activation) entry.activation = pl.activation;
    if (pl.name) entry.name = pl.name;
    FIELDS.forEach((f) => {
      if (pl[f]) entry[f] = toMat(pl[f], labelFor(f, pl.index));
      // too large for one answer: the server sent its summary (min, max, mean, std) instead
      if (pl[f] && pl[f].omitted) entry.omitted = { ...(entry.omitted || {}), [f]: pl[f].summary };
      else if (pl[f] && entry.omitted) delete entry.omitted[f];
    });
    // A big layer while playing: ‖ΔW(l)‖ and ‖W(l)‖ before the update, without ΔW (app/frames.py update_norms)
    if (pl.update_norms) entry.updateNorms = pl.update_norms;
    // The optimizer's slots for W(l) after this update ({m, v} for Adam...), as mats like W(l).
    if (pl.slots) entry.slots = Object.fromEntries(Object.entries(pl.slots).map(([k, t]) => [k, toMat(t, `${k}(${pl.index})`)]));
    // An update answer's W is the new W, so the forward pass used W − ΔW. A step answer (z and ΔW
    // together) holds the W its forward pass used: the current weights are W + ΔW.
    entry.W_fwd = null;
    entry.b_fwd = null;
    if (pl.W_updated) {          // a step answer: W as used by its forward pass, and W after
      entry.W_fwd = pl.W ? entry.W : null;      // a lean play frame has no W before the update
      entry.W = toMat(pl.W_updated, labelFor('W', pl.index));
    } else if (pl.dW_applied && entry.W) entry.W_fwd = combine(entry.W, entry.dW_applied, -1);
    if (pl.b_updated) {
      entry.b_fwd = pl.b ? entry.b : null;
      entry.b = toMat(pl.b_updated, labelFor('b', pl.index));
    } else if (pl.db_applied && entry.b) entry.b_fwd = combine(entry.b, entry.db_applied, -1);
  });
  for (const key of ['step', 'epoch']) {
    if (Number.isFinite(payload[key])) next[key] = payload[key];
    else if (Number.isFinite(state[key])) next[key] = state[key];
  }
  // Where on the timeline (app/timeline.py): the branch, its last step, the place in the epoch.
  if (Number.isInteger(state.branch)) { next.branch = state.branch; next.branchHead = state.branch_head; }
  if (Number.isInteger(state.batch)) next.epochBatch = state.batch;
  if (Number.isInteger(state.steps_per_epoch)) next.perEpoch = state.steps_per_epoch;
  if (Number.isFinite(payload.loss)) next.loss = payload.loss;
  // Regularized (issue 15): the penalty l1·Σ|W| + l2·ΣW², included in the loss
  if (Number.isFinite(payload.penalty)) next.penalty = payload.penalty;
  else if (Number.isFinite(payload.loss)) next.penalty = null;
  if (isForward) next.learningRate = null;               // η_t of this batch's update, once the answer says
  if (Number.isFinite(payload.learning_rate)) next.learningRate = payload.learning_rate;
  const phase = state.phase === 'diverged' ? 'diverged' : (payload.phase || state.phase);
  if (phase) next.phase = phase;
  next.diverged = state.diverged || payload.diverged || (phase === 'diverged' ? next.diverged || {} : null);
  return next;
}

function combine(a, b, sign) {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i += 1) out[i] = a.data[i] + sign * b.data[i];
  return { ...a, data: out };
}

/** The lecture's label: entry l holds W(l), b(l), z(l+1), a(l+1), δ(l+1). */
export function labelFor(field, index) {
  const shifted = { z: 'z', a: 'a', delta: 'δ' };
  if (shifted[field]) return `${shifted[field]}(${index + 1})`;
  if (field === 'mask') return `mask(${index + 1})`;
  const names = { W: 'W', b: 'b', dW: '∂cost/∂W', db: '∂cost/∂b', dW_applied: 'ΔW', db_applied: 'Δb' };
  return `${names[field] || field}(${index})`;
}

/** Activations a(l) for the lecture's layer l (1 = input), as a mat (batch × units). */
export function activationsOf(view, l) {
  if (l === 1) return view.batch ? view.batch.x : null;
  const entry = view.layers.find((e) => e.index === l - 1);
  return entry ? entry.a : null;
}

/** Units per lecture layer (input first), from the config and the data set's input size. */
export function layerSizes(config, inputSize) {
  return [inputSize, ...config.layers.map((l) => l.units)];
}
