// Drawing budget while playing: the canvas views (diagram, heatmaps, per-step loss) are redrawn on
// every frame; the Plotly charts (≈100 ms each in a software-rendered browser) at most one per
// animation frame and each no more often than `every` ms (≤ 2 Hz); when stopped, all at once.

export class Lazy {
  /** @param charts {name: {every, draw, shown?}} (shown(): on screen; while playing, charts off
   *  screen stay dirty and are drawn when they are back, or after Pause); @param gap while playing, ms between two Plotly draws of
   *  any chart (measured in headless Chromium, xor: the epoch chart took 290 ms, the decision
   *  boundary 120 ms, the health chart 55 ms; one of them every `gap` leaves the frames the rest). */
  constructor(charts, { gap = 0 } = {}) {
    this.charts = charts;
    this.gap = gap;
    this.lastAny = 0;
    Object.values(charts).forEach((c) => { c.last = 0; c.dirty = false; });
  }

  mark(...names) { names.forEach((n) => { this.charts[n].dirty = true; }); }

  draw(playing) {
    const now = performance.now();
    if (playing && now - this.lastAny < this.gap) return;
    const due = Object.values(this.charts).filter((c) => c.dirty
      && (!playing || (now - c.last >= c.every && (!c.shown || c.shown()))));   // off screen: later
    const todo = playing ? due.sort((a, b) => a.last - b.last).slice(0, 1) : due;
    if (todo.length) this.lastAny = now;
    todo.forEach((c) => { c.dirty = false; c.last = now; c.draw(); });
  }
}

/** Frames drawn, and training steps taken, per second over the last two seconds. */
export class FpsMeter {
  constructor() { this.reset(); }

  reset() { this.times = []; this.steps = []; this.work = []; }

  /** A frame took `ms` of script time to apply and draw (the newest 120 are kept). */
  worked(ms) { this.work.push(ms); if (this.work.length > 120) this.work.shift(); }

  /** The median script time per frame (ms) over the newest frames, or null. */
  workMs() {
    if (!this.work.length) return null;
    const v = [...this.work].sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  }

  /** A frame of training step `step` was drawn: {fps, stepsPerSecond} (0 until two frames). */
  tick(step) {
    const now = performance.now();
    this.times.push(now);
    this.steps.push(step);
    while (this.times.length && now - this.times[0] > 2000) { this.times.shift(); this.steps.shift(); }
    const span = now - this.times[0];
    if (this.times.length < 2 || !(span > 0)) return { fps: 0, stepsPerSecond: 0 };
    const stepped = this.steps[this.steps.length - 1] - this.steps[0];
    return { fps: ((this.times.length - 1) * 1000) / span,
      stepsPerSecond: Number.isFinite(stepped) ? (stepped * 1000) / span : 0 };
  }
}
