// A long action (an Epoch on a big network, a slow step) shows how far it got: after a second the
// page polls GET /api/sessions/{id}/progress (answered at once, while the action runs) and says so.

import * as api from './api.js';

const AFTER_MS = 1000;    // quiet for actions shorter than this
const EVERY_MS = 400;

/** Start watching action ``name`` of session ``id``; ``show(text)`` gets each line; call stop(). */
export function watchProgress(id, name, show) {
  const started = performance.now();
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    let text = `${name}: working… ${seconds} s`;
    if (name === 'epoch') {
      try {
        const p = await api.progress(id);
        const pct = p.steps_per_epoch ? Math.round((100 * p.batch) / p.steps_per_epoch) : 0;
        text = `Epoch ${p.epoch + 1}: batch ${p.batch} of ${p.steps_per_epoch} (${pct} %) · step ${p.step} · ${seconds} s`;
      } catch (err) { /* the answer itself will say what went wrong */ }
    }
    if (!stopped) show(text);
    timer = setTimeout(tick, EVERY_MS);
  };
  timer = setTimeout(tick, AFTER_MS);
  return { stop() { stopped = true; clearTimeout(timer); } };
}
