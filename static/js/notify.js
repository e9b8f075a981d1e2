// Messages to the user: the divergence banner, errors and a lost connection (never a frozen
// page), and short notices ("the architecture changed, so the weights were reset").

import { fmt } from './tensor.js';

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
/** What a tenth of the rate is: a guess, and what measures a rate instead. */
const guess = (lower) => `η = ${fmt(lower, 3)} (a tenth) is only a guess: it may diverge too. The LR range test
      measures instead: it trains this network once with a growing rate and suggests one.`;

export class Notify {
  constructor({ banner, error, notice }) {
    this.banner = banner;
    this.error = error;
    this.notice = notice;
    this.noticeTimer = null;
    this.onFix = null;
    this.message = null;        // what the banner says: {kind, lr, message, lower}
    this.range = null;          // the LR range test the banner started: {state, suggested, message}
    error.addEventListener('click', (ev) => { if (ev.target.closest('[data-close]')) this.clearError(); });
    banner.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button');
      if (!btn || !this.onFix) return;
      if ('rangeTest' in btn.dataset) this.runRangeTest();
      else if ('rate' in btn.dataset) this.onFix(Number(btn.dataset.rate));
    });
  }

  /** The divergence banner: at which step and layer; a tenth of the rate (a guess) or the range test. */
  diverged(info, lr, onFix) {
    const d = info || {};
    const where = [d.step !== undefined && d.step !== null ? `at step ${d.step}` : '',
      d.layer !== undefined && d.layer !== null ? `in layer ${d.layer}` : '',
      d.quantity ? `(${d.quantity} became infinite or NaN)` : ''].filter(Boolean).join(' ');
    const lower = Number((lr / 10).toPrecision(3));
    this.show('diverged', lr, onFix, `<b>The network diverged</b> ${where}. The learning rate η = ${fmt(lr, 3)} is too large:
      each update overshoots and the weights blow up. Try a lower rate. ${guess(lower)}`, lower);
  }

  /** Weights growing without bound but still finite (so no divergence yet): the same advice, early. */
  exploding(info, lr, onFix) {
    const kind = this.banner.dataset.kind;
    if (!info) { if (kind === 'exploding') this.clearDiverged(); return; }
    if (kind === 'diverged') return;
    const lower = Number((lr / 10).toPrecision(3));
    this.show('exploding', lr, onFix, `<b>The weights are blowing up</b>: max |W(${info.index})| = ${fmt(info.max, 3)} at step ${info.step}
      (they start near 1). The learning rate η = ${fmt(lr, 3)} is too large: each update overshoots. Nothing is
      infinite yet, so training goes on, but the network has stopped learning. Try a lower rate. ${guess(lower)}`, lower);
  }

  /** Fill the banner: the message and the range test's state in the span, then the buttons (only
   *  rebuilt when they change: one may be under the mouse). */
  show(kind, lr, onFix, message, lower) {
    this.onFix = onFix;
    this.message = { kind, lr, message, lower };
    if (this.banner.dataset.lr !== String(lr)) this.range = null;     // a range test for another rate
    const r = this.range;
    const test = !r ? '' : ` <span data-role="range-state">${r.state === 'running' ? 'The LR range test is running (see <i>Learning rate</i> below)…'
      : (r.suggested ? `The LR range test suggests η = ${fmt(r.suggested, 3)}: the rate where its smoothed loss was lowest, divided by ten.`
        : `The LR range test found no rate${r.message ? ` (${esc(r.message)})` : ''}: try a lower rate by hand.`)}</span>`;
    const buttons = `<button data-fix data-rate="${lower}">Try η = ${fmt(lower, 3)} and reset</button>`
      + (r && r.suggested ? `<button data-use-suggested data-rate="${r.suggested}" class="primary">Use η = ${fmt(r.suggested, 3)} and reset</button>`
        : `<button data-range-test ${r && r.state === 'running' ? 'disabled' : ''}>Run the LR range test</button>`);
    const span = this.banner.querySelector(':scope > span');
    if (span && this.buttons === buttons) span.innerHTML = message + test;
    else this.banner.innerHTML = `<span>${message}${test}</span>${buttons}`;
    this.buttons = buttons;
    Object.assign(this.banner.dataset, { kind, lr: String(lr) });
    this.banner.hidden = false;
  }

  /** Run the Compare view's LR range test (its own button, so it shows there too), then offer its rate. */
  runRangeTest() {
    const box = document.getElementById('compare');
    const button = box && box.querySelector('[data-action="range-test"]');
    if (!button) return;
    const { lr } = this.banner.dataset;
    this.range = { state: 'running' };
    const done = (ev) => {
      if (ev.detail.mode !== 'range_test') return;              // a comparison ended meanwhile
      box.removeEventListener('compare-done', done);
      if (this.banner.hidden || this.banner.dataset.lr !== lr) return;   // fixed some other way
      this.range = { state: 'done', suggested: ev.detail.suggested || null, message: ev.detail.error || (ev.detail.suggested ? '' : ev.detail.status) };
      this.rerender();
      this.banner.scrollIntoView({ behavior: 'smooth', block: 'start' });    // back to the offer
    };
    box.addEventListener('compare-done', done);
    this.rerender();
    box.scrollIntoView({ behavior: 'smooth', block: 'start' });
    button.click();
  }

  /** Show the range test's new state in the banner as it is. */
  rerender() {
    const { kind, lr, message, lower } = this.message;
    this.show(kind, lr, this.onFix, message, lower);
  }

  clearDiverged() {
    this.banner.hidden = true; this.banner.innerHTML = ''; this.range = null; this.message = null; this.buttons = null;
    ['kind', 'lr'].forEach((k) => delete this.banner.dataset[k]);
  }

  showError(message, kind = 'error') {
    this.error.dataset.kind = kind;
    this.error.innerHTML = `<span>${kind === 'lost' ? '⚠ ' : ''}${String(message).replace(/</g, '&lt;')}</span>
      <button data-close aria-label="close">×</button>`;
    this.error.hidden = false;
  }

  clearError(kind) {
    if (kind && this.error.dataset.kind !== kind) return;
    this.error.hidden = true;
  }

  /** A notice with one button (e.g. "Open it here"), shown until it is used or closed. */
  offer(text, label, onClick) {
    clearTimeout(this.noticeTimer);
    this.notice.innerHTML = `<span></span> <button data-offer></button> <button data-close aria-label="close">×</button>`;
    this.notice.querySelector('span').textContent = text;
    this.notice.querySelector('[data-offer]').textContent = label;
    this.notice.querySelector('[data-offer]').addEventListener('click', () => { this.notice.hidden = true; onClick(); });
    this.notice.querySelector('[data-close]').addEventListener('click', () => { this.notice.hidden = true; });
    this.notice.hidden = false;
  }

  say(text, ms = 4000) {
    this.notice.textContent = text;
    this.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { this.notice.hidden = true; }, ms);
  }
}
