// The decision boundary while playing: the grid's surface as one image (a layout image under the
// points, updated with Plotly.relayout) instead of a heatmap trace, whose Plotly.react took
// ~190 ms a draw in headless Chromium (xor). Same colours as the heatmap (PLOTLY_DIVERGING: linear
// from NEG through MID to POS, opacity 0.75); after Pause the page draws the heatmap again.

import { NEG, MID, POS } from './colors.js';

const OPACITY = 0.75;

/** The colour of v ∈ [−max, max] as Plotly draws PLOTLY_DIVERGING with zmin −max, zmax max. */
function linearInto(px, o, v, max) {
  const t = max > 0 ? Math.max(-1, Math.min(1, v / max)) : 0;
  const end = t < 0 ? NEG : POS;
  const k = Math.abs(t);
  for (let c = 0; c < 3; c += 1) px[o + c] = Math.round(MID[c] + (end[c] - MID[c]) * k);
  px[o + 3] = 255;
}

export class Surface {
  constructor() {
    this.canvas = document.createElement('canvas');
  }

  /** A layout image of `surface` (rows of values, row i at x2[i]) over cells centred at x1, x2;
   *  a non-finite value is transparent. */
  image(surface, x1, x2, zmax) {
    const rows = surface.length;
    const cols = rows ? surface[0].length : 0;
    if (this.canvas.width !== cols || this.canvas.height !== rows) { this.canvas.width = cols; this.canvas.height = rows; }
    const ctx = this.canvas.getContext('2d');
    const img = ctx.createImageData(Math.max(cols, 1), Math.max(rows, 1));
    for (let i = 0; i < rows; i += 1) {
      const row = surface[rows - 1 - i];                  // the image's top row: the largest x2
      for (let j = 0; j < cols; j += 1) {
        const o = 4 * (i * cols + j);
        if (Number.isFinite(row[j])) linearInto(img.data, o, row[j], zmax); else img.data[o + 3] = 0;
      }
    }
    if (cols && rows) ctx.putImageData(img, 0, 0);
    const dx = cols > 1 ? (x1[cols - 1] - x1[0]) / (cols - 1) : 1;
    const dy = rows > 1 ? (x2[rows - 1] - x2[0]) / (rows - 1) : 1;
    return { source: this.canvas.toDataURL(), xref: 'x', yref: 'y', x: x1[0] - dx / 2, y: x2[rows - 1] + dy / 2,
      sizex: cols * dx, sizey: rows * dy, xanchor: 'left', yanchor: 'top', sizing: 'stretch', layer: 'below', opacity: OPACITY };
  }
}
