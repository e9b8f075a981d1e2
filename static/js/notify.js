// Messages to the user: the divergence banner, errors and a lost connection (never a frozen
// page), and short notices ("the architecture changed, so the weights were reset").

import { fmt } from './tensor.js';

export class Notify {
  constructor({ banner, error, notice }) {
    this.banner = banner;
    this.error = error;
    this.notice = notice;
    this.noticeTimer = null;
    error.addEventListener('click', (ev) => { if (ev.target.closest('[data-close]')) this.clearError(); });
  }

  /** The divergence banner: at which step and layer, and a lower learning rate to try. */
  diverged(info, lr, onFix) {
    const d = info || {};
    const where = [d.step !== undefined && d.step !== null ? `at step ${d.step}` : '',
      d.layer !== undefined && d.layer !== null ? `in layer ${d.layer}` : '',
      d.quantity ? `(${d.quantity} became infinite or NaN)` : ''].filter(Boolean).join(' ');
    const lower = Number((lr / 10).toPrecision(3));
    this.banner.innerHTML = `<span><b>The network diverged</b> ${where}. The learning rate η = ${fmt(lr, 3)} is too large:
      each update overshoots and the weights blow up. Try a lower rate, e.g. η = ${fmt(lower, 3)}.</span>
      <button data-fix>Use η = ${fmt(lower, 3)} and reset</button>`;
    this.banner.hidden = false;
    this.banner.dataset.kind = 'diverged';
    this.banner.querySelector('[data-fix]').addEventListener('click', () => onFix(lower));
  }

  /** Weights growing without bound but still finite (so no divergence yet): the same advice, early. */
  exploding(info, lr, onFix) {
    const kind = this.banner.dataset.kind;
    if (!info) { if (kind === 'exploding') this.clearDiverged(); return; }
    if (kind === 'diverged') return;
    const lower = Number((lr / 10).toPrecision(3));
    const msg = `<b>The weights are blowing up</b>: max |W(${info.index})| = ${fmt(info.max, 3)} at step ${info.step}
      (they start near 1). The learning rate η = ${fmt(lr, 3)} is too large: each update overshoots. Nothing is
      infinite yet, so training goes on, but the network has stopped learning. Try η = ${fmt(lower, 3)}.`;
    if (kind === 'exploding' && this.banner.dataset.lr === String(lr)) {
      this.banner.querySelector('span').innerHTML = msg;     // keep the button: it may be under the mouse
      return;
    }
    this.banner.innerHTML = `<span>${msg}</span><button data-fix>Use η = ${fmt(lower, 3)} and reset</button>`;
    this.banner.querySelector('[data-fix]').addEventListener('click', () => onFix(lower));
    Object.assign(this.banner.dataset, { kind: 'exploding', lr: String(lr) });
    this.banner.hidden = false;
  }

  clearDiverged() { this.banner.hidden = true; this.banner.innerHTML = ''; delete this.banner.dataset.kind; }

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
