// A heatmap drawn on a canvas straight from a Float32Array (one pixel per cell, scaled by CSS),
// so even MNIST's 128×784 W(1) draws in a few milliseconds. Hover (or a tap) shows the exact value.

import { divergingRGB } from './colors.js';
import { fmt, sum } from './tensor.js';
import { showTip, hideTip, onHover, onTap } from './tooltip.js';

export class Heatmap {
  /**
   * @param {HTMLElement} parent
   * @param {{key: string, label: string, help?: string, rowName?: string, colName?: string,
   *          transpose?: boolean, maxWidth?: number, maxHeight?: number}} opts
   */
  constructor(parent, opts) {
    this.opts = { maxWidth: 220, maxHeight: 170, rowName: 'row', colName: 'col', ...opts };
    this.root = document.createElement('figure');
    this.root.className = 'heatmap';
    this.root.dataset.key = opts.key;
    this.root.innerHTML = `<figcaption><span class="hm-label"></span> <span class="hm-shape"></span></figcaption>
      <div class="hm-body"><canvas></canvas><div class="hm-empty">not computed yet</div></div>`;
    if (opts.help) this.root.title = opts.help;
    parent.appendChild(this.root);
    this.canvas = this.root.querySelector('canvas');
    this.ctx = this.canvas.getContext('2d');
    this.labelEl = this.root.querySelector('.hm-label');
    this.shapeEl = this.root.querySelector('.hm-shape');
    this.emptyEl = this.root.querySelector('.hm-empty');
    this.mat = null;
    this.max = 1;
    onHover(this.canvas, (ev) => this.hover(ev));   // mouse, pen and a finger's tap
    onTap(this.canvas, (ev) => {                    // a click, or a finger lifted (static/js/tooltip.js)
      const cell = this.cellAt(ev);
      if (cell && this.onPick) this.onPick(cell);
    });
    this.clear(opts.label);
  }

  /** Show the "not computed yet" placeholder. */
  clear(label, reason = 'not computed yet') {
    this.mat = null;
    this.labelEl.textContent = label || this.opts.label;
    this.shapeEl.textContent = '';
    this.emptyEl.textContent = reason;
    this.emptyEl.hidden = false;
    this.canvas.hidden = true;
    const ds = this.root.dataset;
    ds.state = 'empty';
    delete ds.sum; delete ds.first; delete ds.shape;
  }

  /** Draw mat (API layout: rows × cols) with the colour scale ±max. */
  set(mat, max) {
    if (!mat) { this.clear(); return; }
    this.mat = mat;
    this.max = max || 1;
    this.labelEl.textContent = mat.label || this.opts.label;
    const [r, c] = [mat.rows, mat.cols];
    this.shapeEl.textContent = mat.shape.length === 1 ? `${mat.shape[0]}`
      : (this.opts.transpose ? `${c} units × ${r} samples` : `${r}×${c}`);
    const ds = this.root.dataset;
    ds.state = 'filled';
    ds.shape = JSON.stringify(mat.shape);
    ds.sum = String(sum(mat));
    ds.first = JSON.stringify(Array.from(mat.data.subarray(0, 8)));
    ds.max = String(this.max);
    this.emptyEl.hidden = true;
    this.canvas.hidden = false;
    this.draw();
  }

  /** Rows and columns as displayed (transpose shows units as rows, samples as columns). */
  dims() {
    const m = this.mat;
    return this.opts.transpose ? [m.cols, m.rows] : [m.rows, m.cols];
  }

  draw() {
    const m = this.mat;
    const [rows, cols] = this.dims();
    if (this.canvas.width !== cols || this.canvas.height !== rows) {
      this.canvas.width = cols;
      this.canvas.height = rows;
      this.image = this.ctx.createImageData(cols, rows);
    }
    if (!this.image) this.image = this.ctx.createImageData(cols, rows);
    const px = this.image.data;
    const d = m.data;
    const tr = this.opts.transpose;
    for (let i = 0; i < rows; i += 1) {
      for (let j = 0; j < cols; j += 1) {
        const v = tr ? d[j * m.cols + i] : d[i * m.cols + j];
        const [R, G, B] = divergingRGB(v, this.max);
        const o = (i * cols + j) * 4;
        px[o] = R; px[o + 1] = G; px[o + 2] = B; px[o + 3] = 255;
      }
    }
    this.ctx.putImageData(this.image, 0, 0);
    const { maxWidth, maxHeight } = this.opts;
    // Square cells while they stay visible; a very long, thin matrix (MNIST's 8×784 W(1), 784 inputs
    // × 32 samples) is stretched to fill the box instead of shrinking to a 2-pixel line.
    let cw = Math.min(22, maxWidth / cols, maxHeight / rows);
    let ch = cw;
    if (cw < 3) { cw = Math.min(22, maxWidth / cols); ch = Math.min(22, maxHeight / rows); }
    const w = Math.max(6, Math.round(cols * cw));
    const h = Math.max(6, Math.round(rows * ch));
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.style.imageRendering = Math.min(cw, ch) >= 1 ? 'pixelated' : 'auto';
  }

  cellAt(ev) {
    if (!this.mat) return null;
    const rect = this.canvas.getBoundingClientRect();
    const [rows, cols] = this.dims();
    const i = Math.floor(((ev.clientY - rect.top) / rect.height) * rows);
    const j = Math.floor(((ev.clientX - rect.left) / rect.width) * cols);
    if (i < 0 || j < 0 || i >= rows || j >= cols) return null;
    return this.opts.transpose ? { row: j, col: i } : { row: i, col: j };
  }

  hover(ev) {
    const cell = this.cellAt(ev);
    if (!cell) { hideTip(); return; }
    const m = this.mat;
    const v = m.data[cell.row * m.cols + cell.col];
    const { rowName, colName } = this.opts;
    const where = m.shape.length === 1 ? `${rowName} ${cell.row + 1}`
      : `${rowName} ${cell.row + 1}, ${colName} ${cell.col + 1}`;
    showTip(ev, `<b>${this.labelEl.textContent}</b> · ${where}<br><span class="num">${fmt(v, 6)}</span>`);
  }
}
