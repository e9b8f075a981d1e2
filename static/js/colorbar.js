// A colour bar with its scale in numbers: a strip from the scale's lo to its hi, painted with the
// map's own colours, and the values at its left end, middle and right end (lo, mid, hi). Used by
// the enlarged unit map (static/js/unitmaps.js); one bar per element, made on first use.

import { fmt } from './tensor.js';

const STEPS = 64;

/** The bar inside `parent` (made if missing) for scale {lo, mid, hi}; colour(v) → [r, g, b]. */
export function drawColorbar(parent, scale, colour) {
  let bar = parent.querySelector(':scope > .colorbar');
  if (!bar) {
    bar = document.createElement('div');
    bar.className = 'colorbar';
    bar.setAttribute('role', 'img');
    bar.innerHTML = `<canvas width="${STEPS}" height="1"></canvas><div class="colorbar-ticks">
      <span data-tick="lo"></span><span data-tick="mid"></span><span data-tick="hi"></span></div>`;
    Object.assign(bar.style, { margin: '4px 0 0', fontSize: '10px' });
    Object.assign(bar.querySelector('canvas').style, { display: 'block', width: '100%', height: '10px',
      border: '1px solid #bbb', borderRadius: '2px', imageRendering: 'auto' });
    Object.assign(bar.querySelector('.colorbar-ticks').style, { display: 'flex', justifyContent: 'space-between' });
    const canvas = parent.querySelector(':scope > canvas');
    if (canvas) canvas.after(bar); else parent.appendChild(bar);
  }
  const { lo, hi } = scale;
  const mid = scale.mid ?? (lo + hi) / 2;
  const canvas = bar.querySelector('canvas');
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(STEPS, 1);
  for (let i = 0; i < STEPS; i += 1) {
    const [r, g, b] = colour(lo + ((hi - lo) * i) / (STEPS - 1));      // left end lo, right end hi
    img.data.set([r, g, b, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  const ticks = { lo, mid, hi };
  Object.entries(ticks).forEach(([k, v]) => {
    bar.dataset[k] = String(v);
    bar.querySelector(`[data-tick="${k}"]`).textContent = fmt(v, 3);
  });
  bar.setAttribute('aria-label', `colour scale from ${fmt(lo, 3)} through ${fmt(mid, 3)} to ${fmt(hi, 3)}`);
  return bar;
}
