// The loss of every minibatch step on a plain canvas: cheap enough to redraw on every frame while
// playing (a Plotly redraw costs ~100 ms in a software-rendered browser). Hover shows exact values.

import { CURVE } from './colors.js';
import { fmt } from './tensor.js';

const PAD = { l: 52, r: 10, t: 24, b: 34 };

/** Round ticks inside [lo, hi]: steps of 1, 2 or 5 × 10^k (whole decades on a log scale). */
function niceTicks(lo, hi, n, log) {
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = log ? Math.max(1, Math.ceil(raw)) : [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  if (log && out.length < 2) return Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1));   // under a decade
  return out;
}

export class StepChart {
  constructor(el) {
    this.el = el;
    el.innerHTML = '<canvas role="img" aria-label="minibatch loss per step"></canvas><div class="step-readout muted"></div>';
    this.canvas = el.querySelector('canvas');
    this.readout = el.querySelector('.step-readout');
    this.logY = false;
    this.size = null;
    new ResizeObserver(() => { this.size = null; }).observe(el);
    this.steps = [];
    this.losses = [];
    ['pointermove', 'pointerdown'].forEach((t) => this.canvas.addEventListener(t, (ev) => this.hover(ev)));   // a tap too
    this.canvas.addEventListener('pointerleave', (ev) => { if (ev.pointerType !== 'touch') this.readout.textContent = ''; });
  }

  range() {
    const ys = this.logY ? this.losses.filter((v) => v > 0).map(Math.log10) : this.losses;
    let lo = Math.min(...ys);
    let hi = Math.max(...ys);
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    if (!this.logY) lo = Math.min(0, lo);
    if (hi - lo < 1e-12) hi = lo + 1;
    return { lo, hi, x0: this.steps[0] ?? 0, x1: Math.max(this.steps[this.steps.length - 1] ?? 1, (this.steps[0] ?? 0) + 1) };
  }

  draw(steps, losses) {
    this.steps = steps;
    this.losses = losses;
    const dpr = window.devicePixelRatio || 1;
    // The size read once per resize: reading clientWidth every frame forced a layout of the page.
    if (!this.size) this.size = { w: this.el.clientWidth || 300, h: (this.el.clientHeight || 240) - 18 };
    const { w, h } = this.size;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${h}px`;
    }
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#374151';
    ctx.fillText('per step (minibatch)', 6, 14);
    const pw = w - PAD.l - PAD.r;
    const ph = h - PAD.t - PAD.b;
    this.geom = { w, h, pw, ph };
    ctx.strokeStyle = '#d1d5db';
    ctx.strokeRect(PAD.l, PAD.t, pw, ph);
    if (!steps.length) {
      ctx.fillStyle = '#888';
      ctx.fillText('press Step or Play', PAD.l + pw / 2 - 45, PAD.t + ph / 2);
      this.el.dataset.points = '0';
      return;
    }
    const r = this.range();
    this.r = r;
    const X = (s) => PAD.l + ((s - r.x0) / (r.x1 - r.x0)) * pw;
    const Y = (v) => PAD.t + ph - (((this.logY ? Math.log10(Math.max(v, 1e-12)) : v) - r.lo) / (r.hi - r.lo)) * ph;
    ctx.fillStyle = '#6b7280';
    // Round tick values (0.2, 0.4, … or powers of ten on the log scale), as the Plotly charts have.
    niceTicks(r.lo, r.hi, 5, this.logY).forEach((t) => {
      const y = PAD.t + ph - ((t - r.lo) / (r.hi - r.lo)) * ph;
      ctx.fillText(fmt(this.logY ? 10 ** t : t, 3), 4, y + 4);
      ctx.strokeStyle = '#f0f1f3';
      ctx.beginPath(); ctx.moveTo(PAD.l, y); ctx.lineTo(PAD.l + pw, y); ctx.stroke();
    });
    niceTicks(r.x0, r.x1, 6, false).filter((t) => Number.isInteger(t)).forEach((t) => {
      ctx.fillText(String(t), X(t) - 4 * String(t).length, h - PAD.b + 14);
    });
    ctx.fillText(this.logY ? 'step · loss (log)' : 'step · loss', PAD.l + pw / 2 - 30, h - 6);
    ctx.strokeStyle = CURVE.batchLoss;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    const stride = Math.max(1, Math.floor(steps.length / (pw * 2)));
    for (let i = 0; i < steps.length; i += stride) {
      if (i === 0) ctx.moveTo(X(steps[i]), Y(losses[i])); else ctx.lineTo(X(steps[i]), Y(losses[i]));
    }
    ctx.stroke();
    this.el.dataset.points = String(steps.length);
  }

  hover(ev) {
    if (!this.steps.length || !this.geom) return;
    const rect = this.canvas.getBoundingClientRect();
    const t = (ev.clientX - rect.left - PAD.l) / this.geom.pw;
    const step = this.r.x0 + t * (this.r.x1 - this.r.x0);
    let i = this.steps.findIndex((s) => s >= step);
    if (i < 0) i = this.steps.length - 1;
    this.readout.textContent = `step ${this.steps[i]}: loss ${fmt(this.losses[i], 5)}`;
  }

  png() { return this.canvas.toDataURL('image/png'); }
}
