// MNIST's batch, as the data card shows it: each digit (28×28, 0 white … 1 black), its true and
// predicted label, and the output layer a(L) as 10 bars, the true class in green. All of it is one
// canvas: as 12 figures of two canvases and a caption each, a frame re-rasterized 12 captions and
// handed over 24 canvases (2026-12-03, MNIST playing in headless Chromium: the batch cost 0.08 of a
// core). Hovering names what is under the pointer.

const CELL_W = 58;        // a digit's box (56 px image and a 1 px border each side), CSS pixels
const GAP = 6;            // between two cells, both ways
const CAPTION_H = 15;     // "t → p" under the image
const BAR_H = 18;         // the output probabilities under the caption
const CELL_H = CELL_W + CAPTION_H + BAR_H;
const BORDER = '#e5e7eb';
const BAR = '#9ca3af';
const css = (name, fallback) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

/** The index of the largest of arr[off..off+n). */
export function argmax(arr, off, n) {
  let best = 0;
  for (let k = 1; k < n; k += 1) if (arr[off + k] > arr[off + best]) best = k;
  return best;
}

/** Cell geometry for `n` samples in `cols` columns (CSS pixels): what tests and hovering read. */
export function geometry(n, cols) {
  const rows = Math.ceil(n / cols);
  return { n, cols, rows, cellW: CELL_W, cellH: CELL_H, gap: GAP, imageH: CELL_W, captionH: CAPTION_H, barH: BAR_H,
    width: Math.min(n, cols) * (CELL_W + GAP) - GAP, height: rows * (CELL_H + GAP) - GAP };
}

export class BatchView {
  /** @param el the element that holds the canvas; `max` samples at most. */
  constructor(el, max) {
    this.el = el;
    this.max = max;
    this.cells = [];                      // per sample drawn: {t, p, probs}
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'batch';
    this.canvas.setAttribute('role', 'img');
    // a fixed label: an attribute rewritten on every frame while playing repaints the card
    this.canvas.setAttribute('aria-label', 'the batch: each digit with its true → predicted label and bars of its '
      + 'output probabilities (point at one for its numbers)');
    this.canvas.cells = this.cells;
    el.appendChild(this.canvas);
    this.scratch = document.createElement('canvas');    // the digits side by side, 28 px each, scaled up
    this.width = 0;
    new ResizeObserver(() => { this.width = el.clientWidth; }).observe(el);
    this.canvas.addEventListener('pointermove', (ev) => { this.canvas.title = this.titleAt(ev.offsetX, ev.offsetY); });
  }

  /** Draw the first samples of x (rows of 784), their one-hot y and the output a(L) (or null). */
  draw(x, y, out) {
    const n = Math.min(this.max, x.rows);
    const cols = Math.max(1, Math.floor(((this.width || this.el.clientWidth || 448) + GAP) / (CELL_W + GAP)));
    const g = geometry(n, cols);
    this.size(g);
    const ctx = this.canvas.getContext('2d');
    const dpr = this.dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, g.width, g.height);
    this.drawDigits(ctx, x, n, g);
    const ok = css('--q-a', '#1b7c3d');
    this.cells.length = 0;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    for (let i = 0; i < n; i += 1) {
      const x0 = (i % cols) * (CELL_W + GAP);
      const y0 = Math.floor(i / cols) * (CELL_H + GAP);
      const t = y ? argmax(y.data, i * y.cols, y.cols) : null;
      const p = out ? argmax(out.data, i * out.cols, out.cols) : null;
      const probs = out ? Array.from(out.data.subarray(i * out.cols, (i + 1) * out.cols)) : [];
      this.cells.push({ t, p, probs });
      const right = p !== null && p === t;
      ctx.font = `${p !== null && !right ? '600 ' : ''}11px system-ui, sans-serif`;
      ctx.fillStyle = p === null ? css('--ink', '#1f2933') : (right ? '#166534' : '#b91c1c');
      ctx.fillText(p === null ? `${t ?? '?'}` : `${t ?? '?'} → ${p}`, x0 + CELL_W / 2, y0 + CELL_W + 11);
      this.drawBars(ctx, probs, t, x0, y0 + CELL_W + CAPTION_H, ok);
    }
    if (this.canvas.dataset.samples !== String(n)) this.canvas.dataset.samples = String(n);   // unchanged: not written
    if (this.canvas.dataset.cols !== String(cols)) this.canvas.dataset.cols = String(cols);
  }

  /** The canvas's CSS and backing size for geometry g (changed only when it changes). */
  size(g) {
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const w = Math.round(g.width * dpr);
    const h = Math.round(g.height * dpr);
    this.geometry = g;
    this.canvas.geometry = g;
    if (this.canvas.width === w && this.canvas.height === h && this.dpr === dpr) return;
    this.dpr = dpr;
    Object.assign(this.canvas, { width: w, height: h });
    Object.assign(this.canvas.style, { width: `${g.width}px`, height: `${g.height}px` });
  }

  /** Each image: its 784 values put on the scratch canvas once, then drawn 2× with hard pixels. */
  drawDigits(ctx, x, n, g) {
    if (this.scratch.width !== 28 * n) { this.scratch.width = 28 * n; this.scratch.height = 28; this.img = null; }
    const sctx = this.scratch.getContext('2d');
    if (!this.img) this.img = sctx.createImageData(28 * n, 28);
    const px = this.img.data;
    for (let i = 0; i < n; i += 1) {
      for (let r = 0; r < 28; r += 1) {
        for (let c = 0; c < 28; c += 1) {
          const o = (r * 28 * n + i * 28 + c) * 4;
          const v = 255 - 255 * x.data[i * 784 + r * 28 + c];
          px[o] = v; px[o + 1] = v; px[o + 2] = v; px[o + 3] = 255;
        }
      }
    }
    sctx.putImageData(this.img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = BORDER;
    for (let i = 0; i < n; i += 1) {
      const x0 = (i % g.cols) * (CELL_W + GAP);
      const y0 = Math.floor(i / g.cols) * (CELL_H + GAP);
      ctx.fillRect(x0, y0, CELL_W, CELL_W);
      ctx.drawImage(this.scratch, i * 28, 0, 28, 28, x0 + 1, y0 + 1, CELL_W - 2, CELL_W - 2);
    }
  }

  /** Bar k is p(k) tall (at least a pixel), 1-pixel gaps; blank without an output. */
  drawBars(ctx, probs, t, x0, y0, ok) {
    const n = probs.length;
    if (!n) return;
    const w = (CELL_W - (n - 1)) / n;
    probs.forEach((v, k) => {
      const h = Math.max(1, Math.round(Math.min(1, Math.max(0, v)) * BAR_H));
      ctx.fillStyle = k === t ? ok : BAR;
      ctx.fillRect(x0 + k * (w + 1), y0 + BAR_H - h, w, h);
    });
  }

  /** What is under CSS point (px, py) of the canvas: a bar's p(k), or the sample's labels. */
  titleAt(px, py) {
    const g = this.geometry;
    if (!g) return '';
    const col = Math.floor(px / (CELL_W + GAP));
    const row = Math.floor(py / (CELL_H + GAP));
    const x = px - col * (CELL_W + GAP);
    const y = py - row * (CELL_H + GAP);
    const i = row * g.cols + col;
    const cell = this.cells[i];
    if (!cell || col >= g.cols || x > CELL_W || y > CELL_H) return '';
    const n = cell.probs.length;
    if (y >= CELL_W + CAPTION_H && n) {
      const k = Math.min(n - 1, Math.max(0, Math.floor((x / CELL_W) * n)));
      return `p(${k}) = ${cell.probs[k].toFixed(3)}`;
    }
    return cell.p === null ? `sample ${i + 1}: true ${cell.t}` : `sample ${i + 1}: true ${cell.t}, predicted ${cell.p}`;
  }
}
