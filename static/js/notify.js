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
    const lower = lr / 10;
    this.banner.innerHTML = `<span><b>The network diverged</b> ${where}. The learning rate η = ${fmt(lr, 3)} is too large:
      each update overshoots and the weights blow up. Try a lower rate, e.g. η = ${fmt(lower, 3)}.</span>
      <button data-fix>Use η = ${fmt(lower, 3)} and reset</button>`;
    this.banner.hidden = false;
    this.banner.querySelector('[data-fix]').addEventListener('click', () => onFix(lower));
  }

  clearDiverged() { this.banner.hidden = true; this.banner.innerHTML = ''; }

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

  say(text, ms = 4000) {
    this.notice.textContent = text;
    this.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { this.notice.hidden = true; }, ms);
  }
}
