// The session's timeline (GET /api/sessions/{id}/timeline) read as lines: a branch's line is its
// ancestors' steps up to where each child left, then its own. Pure functions, no page state.

/** One colour per branch (by id), apart from the page's quantity and layer colours. */
const BRANCH_COLORS = ['#3b6fb6', '#e07b00', '#2f9e44', '#c2255c', '#7048e8', '#0c8599', '#a61e4d', '#5c940d', '#6741d9', '#862e9c'];
export const branchColor = (id) => BRANCH_COLORS[id % BRANCH_COLORS.length];

export const entry = (tl, id) => (tl ? tl.branches.find((b) => b.id === id) : null) || null;

/** The branches from the first one down to ``id`` (empty if ``id`` is not in the timeline). */
export function pathTo(tl, id) {
  const out = [];
  for (let b = entry(tl, id); b; b = b.parent === null ? null : entry(tl, b.parent)) out.unshift(b);
  return out;
}

/** Is ``id`` on the line of ``line`` (the branch itself or one it descends from)? */
export const onLine = (tl, line, id) => pathTo(tl, line).some((b) => b.id === id);

/** The last step the lines of branches a and b share. */
export function sharedStep(tl, a, b) {
  const pa = pathTo(tl, a);
  const pb = pathTo(tl, b);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i].id === pb[i].id) i += 1;
  const starts = [pa[i], pb[i]].filter(Boolean).map((x) => x.start);
  if (starts.length) return Math.min(...starts);
  return pa.length ? pa[pa.length - 1].head : 0;
}

/** The line of ``id`` as segments {id, from, to}: each branch from its start to where the next left. */
export function segments(tl, id) {
  const path = pathTo(tl, id);
  return path.map((b, i) => ({ id: b.id, from: b.start, to: i + 1 < path.length ? path[i + 1].start : b.head,
    batchSize: b.batch_size }));
}

/** Branch points on the line of ``id``: where it joined each branch of its path (joins), and where
 *  other branches leave it (leaves), as {step, id, kind}. */
export function branchPoints(tl, id) {
  const segs = segments(tl, id);
  const inLine = new Set(segs.map((s) => s.id));
  const out = segs.slice(1).map((s) => ({ step: s.from, id: s.id, kind: 'joins' }));
  tl.branches.forEach((b) => {
    if (inLine.has(b.id) || b.parent === null) return;
    const seg = segs.find((s) => s.id === b.parent);
    if (seg && b.start >= seg.from && b.start <= seg.to) out.push({ step: b.start, id: b.id, kind: 'leaves' });
  });
  return out.sort((x, y) => x.step - y.step);
}

/** Epoch ends on a line (its ``segs``): every ``perEpoch`` steps from ``epochStart`` (a step where
 *  an epoch ended with ``epochs`` done), within the segments that share the batch size at ``step``.
 *  Returns [{step, epoch}]; none where the batch size differs (another epoch length). */
export function epochTicks(segs, { step, epochStart, epochs, perEpoch }) {
  if (!segs.length || !(perEpoch > 0) || !Number.isInteger(epochStart)) return [];
  let k = segs.findIndex((s) => step >= s.from && step <= s.to);
  if (k < 0) k = segs.length - 1;
  let lo = k;
  let hi = k;
  while (lo > 0 && segs[lo - 1].batchSize === segs[k].batchSize) lo -= 1;
  while (hi < segs.length - 1 && segs[hi + 1].batchSize === segs[k].batchSize) hi += 1;
  const from = segs[lo].from;
  const to = segs[hi].to;
  const out = [];
  const first = epochStart - Math.floor((epochStart - from) / perEpoch) * perEpoch;
  for (let t = first; t <= to; t += perEpoch) {
    const n = epochs + Math.round((t - epochStart) / perEpoch);
    if (t > 0 && n > 0) out.push({ step: t, epoch: n });
  }
  return out;
}

/** The server's epoch ends (``known``, from the timeline fetched at most a few seconds ago), followed
 *  by those the frames have shown since (``epochTicks`` from ``at``, the newest frame's epoch): while
 *  playing xor at 10,000 steps a second the timeline is 30,000 steps old when it is fetched again,
 *  and its ticks stopped two thirds along the strip. */
export function withNewTicks(known, segs, at) {
  if (!at) return known;
  const last = known.length ? known[known.length - 1] : { step: -Infinity, epoch: 0 };
  return known.concat(epochTicks(segs, at).filter((t) => t.step > last.step && t.epoch > last.epoch));
}

/** The batch loss of ``step`` on the line of ``id`` (from ?curves=true), or null. */
export function lossAt(tl, id, step) {
  let b = entry(tl, id);
  while (b && step <= b.start && b.parent !== null) b = entry(tl, b.parent);
  const c = b && tl.curves && tl.curves[String(b.id)];
  if (!c) return null;
  const v = c.batch_loss[step - c.steps_from];
  return Number.isFinite(v) ? v : null;
}

/** What a branch is, for people: the first run's settings, or what changed where it left. */
export function branchName(b) {
  if (!b) return '';
  if (b.parent === null) {
    const o = b.optimizer || {};
    return `first run (${o.name || ''} η ${o.learning_rate}, batch ${b.batch_size})`;
  }
  return b.changed;
}
