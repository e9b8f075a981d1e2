// The timeline strip under the controls: a slider over every step of the current line (0 to its
// last step), coloured by the branch each stretch belongs to, with epoch ends ticked below and
// branch points marked above. Dragging (or a click) asks for a step; the page seeks there.

import { branchColor } from './lines.js';

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const MAX_TICKS = 60;
const MAX_TICK_LABELS = 12;
const LABEL_CHAR_PX = 6.2;   // a digit of the 10 px labels
const PREFIX_PX = 34;        // "epoch " before the first label
/** The smallest of 1, 2, 5, 10, 20, 50, … that leaves at most ``most`` of ``count`` things. */
function every(count, most) {
  for (let m = 1; ; m *= 10) for (const k of [1, 2, 5]) if (count / (k * m) <= most) return k * m;
}

/** Where the session stands in the cycle, for the label next to the slider. */
/** The next of 1, 2, 5, 10, 20, 50, … after ``k`` (one of them). */
function nextRound(k) {
  const m = 10 ** Math.floor(Math.log10(k) + 1e-9);
  const d = Math.round(k / m);
  return d === 1 ? 2 * m : d === 2 ? 5 * m : 10 * m;
}

export function phaseText(step, phase) {
  if (phase === 'diverged') return 'diverged: nothing after this';
  if (phase === 'forward') return `step ${step + 1}: forward pass done`;
  if (phase === 'backward') return `step ${step + 1}: backward pass done`;
  return step === 0 ? 'the initial weights' : `after step ${step}'s update`;
}

export class TimelineStrip {
  constructor(root, { onSeek, onEnd }) {
    this.root = root;
    this.onSeek = onSeek;
    this.head = 0;
    this.step = 0;
    this.from = 0;
    this.drag = null;
    this.key = '';
    root.innerHTML = `
      <div class="tl-row">
        <span class="tl-title" title="Every step this line took: go back to any of them">timeline</span>
        <div class="tl-slider" role="slider" tabindex="0" aria-label="step on the timeline" aria-valuemin="0"
          aria-valuemax="0" aria-valuenow="0" data-role="tl-slider">
          <div class="tl-lane"><div class="tl-marks" data-role="tl-marks"></div>
            <div class="tl-track" data-role="tl-track"></div><div class="tl-future" data-role="tl-future"
              title="after the step shown: stepping on replays these steps as they were"></div>
            <div class="tl-ticks" data-role="tl-ticks"></div>
            <div class="tl-thumb" data-role="tl-thumb"></div></div>
        </div>
        <span class="tl-readout"><b data-role="tl-step">0</b> <span class="muted">of <span data-role="tl-head">0</span></span></span>
        <button class="small" data-role="tl-end" title="Back to the last step of this line">last step</button>
      </div>
      <div class="tl-foot">
        <span class="tl-phase" data-role="phase-label" data-phase="ready">the initial weights</span>
        <span class="muted">drag to go back in time · ← → one phase (forward, backward, update) · ticks: epoch ends ·
          ▼ a branch leaves here</span>
      </div>`;
    this.slider = root.querySelector('[data-role="tl-slider"]');
    this.thumb = root.querySelector('[data-role="tl-thumb"]');
    this.label = root.querySelector('[data-role="phase-label"]');
    root.querySelector('[data-role="tl-end"]').addEventListener('click', () => onEnd());
    this.slider.addEventListener('pointerdown', (ev) => {
      if (this.disabled || ev.button !== 0 || !ev.isPrimary) return;   // mouse, pen or one finger (touch-action: none)
      this.slider.setPointerCapture(ev.pointerId);
      this.drag = ev.pointerId;
      this.pick(ev);
    });
    this.slider.addEventListener('pointermove', (ev) => { if (this.drag === ev.pointerId) this.pick(ev); });
    const end = (ev) => { if (this.drag === ev.pointerId) { this.drag = null; this.slider.releasePointerCapture(ev.pointerId); } };
    this.slider.addEventListener('pointerup', end);
    this.slider.addEventListener('pointercancel', end);
    this.slider.addEventListener('keydown', (ev) => {
      const to = { Home: this.from, End: this.head, PageUp: this.step - 10, PageDown: this.step + 10 }[ev.key];
      if (to === undefined || this.disabled) return;
      ev.preventDefault();
      this.ask(Math.max(this.from, Math.min(this.head, to)));
    });
  }

  get dragging() { return this.drag !== null; }

  /** The step under the pointer. */
  pick(ev) {
    const r = this.slider.getBoundingClientRect();
    const inset = 8;
    const t = Math.max(0, Math.min(1, (ev.clientX - r.left - inset) / Math.max(1, r.width - 2 * inset)));
    this.ask(Math.round(this.from + t * (this.head - this.from)));
  }

  ask(step) {
    if (step === this.asked) return;
    this.asked = step;
    this.place(step);
    this.onSeek(step);
  }

  pct(step) { return this.head > this.from ? Math.min(100, (100 * (step - this.from)) / (this.head - this.from)) : 100; }

  /** The line: its first and last step, coloured segments {id, from, to}, ticks {step, epoch},
   *  branch points {step, id, kind, title}. Rebuilt only when something changed. */
  setLine({ from = 0, head, segments = [], ticks = [], marks = [] }) {
    const key = JSON.stringify([from, head, segments, ticks, marks]);
    if (key === this.key) return;
    this.key = key;
    this.from = from;
    this.head = head;
    this.slider.setAttribute('aria-valuemin', String(from));
    this.slider.setAttribute('aria-valuemax', String(head));
    this.root.querySelector('[data-role="tl-head"]').textContent = String(head);
    const span = (a, b) => `left:${this.pct(a)}%;width:${Math.max(0, this.pct(b) - this.pct(a))}%`;
    this.root.querySelector('[data-role="tl-track"]').innerHTML = segments.map((s) =>
      `<i class="tl-seg" data-branch="${s.id}" style="${span(s.from, s.to)};background:${branchColor(s.id)}" title="#${s.id}: steps ${s.from}–${s.to}"></i>`).join('');
    const tickEvery = every(ticks.length, MAX_TICKS);          // round epochs: 5, 10, 15 … not 6, 12, 18
    const labelEvery = this.labelEvery(ticks);
    // the numbers under the ticks are epochs, not steps: the first label says so (all of them when few)
    const first = ticks.find((t) => t.epoch % labelEvery === 0);
    const label = (t) => (ticks.length <= 6 || t === first ? `<span class="first">epoch ${t.epoch}</span>` : `<span>${t.epoch}</span>`);
    this.root.querySelector('[data-role="tl-ticks"]').innerHTML = ticks
      .filter((t) => t.epoch % tickEvery === 0 || t.epoch % labelEvery === 0).map((t) =>
        `<i class="tl-tick" style="left:${this.pct(t.step)}%" title="epoch ${t.epoch} ends at step ${t.step}">${t.epoch % labelEvery === 0 ? label(t) : ''}</i>`).join('');
    this.root.querySelector('[data-role="tl-marks"]').innerHTML = marks.map((m) =>
      `<i class="tl-mark ${m.kind}" data-branch="${m.id}" style="left:${this.pct(m.step)}%;color:${branchColor(m.id)}" title="${esc(m.title)}">▼</i>`).join('');
    this.root.dataset.head = String(head);
    this.place(this.dragging ? this.asked : this.step);
  }

  /** Label every k-th epoch, k the smallest of 1, 2, 5, 10, … (at least what leaves MAX_TICK_LABELS)
   *  whose labels do not overlap where they stand: the first ("epoch 100") starts at its tick, the
   *  others are centred on theirs. While playing the ticks can crowd the start of the strip (the line
   *  grew since they came), so their count alone is not enough. */
  labelEvery(ticks) {
    const width = this.slider.clientWidth || 600;
    const px = (t) => (this.pct(t.step) / 100) * width;
    const wide = (t) => String(t.epoch).length * LABEL_CHAR_PX + 6;
    const fits = (k) => {
      const shown = ticks.filter((t) => t.epoch % k === 0);
      const all = ticks.length <= 6;                          // then every label says "epoch"
      for (let i = 1; i < shown.length; i += 1) {
        const before = all || i === 1 ? wide(shown[i - 1]) + PREFIX_PX : wide(shown[i - 1]) / 2;
        const after = all ? 0 : wide(shown[i]) / 2;
        if (px(shown[i]) - px(shown[i - 1]) < before + after) return false;
      }
      return true;
    };
    let k = every(ticks.length, MAX_TICK_LABELS);
    while (!fits(k) && k < 1e9) k = nextRound(k);
    return k;
  }

  place(step) {
    this.thumb.style.left = `${this.pct(step)}%`;
    this.root.querySelector('[data-role="tl-future"]').style.left = `${this.pct(step)}%`;
    this.root.querySelector('[data-role="tl-step"]').textContent = `step ${step}`;
  }

  /** Where the session stands (not while the user drags: the thumb is theirs then). */
  setPosition(step, phase) {
    this.step = step;
    this.slider.setAttribute('aria-valuenow', String(step));
    this.slider.setAttribute('aria-valuetext', `step ${step}, ${phaseText(step, phase)}`);
    this.label.textContent = phaseText(step, phase);
    this.label.dataset.phase = phase;
    this.root.dataset.step = String(step);
    this.root.dataset.phase = phase;
    // playing: the line is redrawn at most every 250 ms (travel.js), the head label follows at once
    if (step > this.head) this.root.querySelector('[data-role="tl-head"]').textContent = String(step);
    if (!this.dragging) { this.asked = step; this.place(step); }
  }

  setDisabled(disabled, why = '') {
    this.disabled = disabled;
    this.slider.classList.toggle('disabled', disabled);
    this.slider.title = disabled ? why : '';
  }
}
