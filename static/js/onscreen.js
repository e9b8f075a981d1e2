// Which views are on screen (an IntersectionObserver, no margin by default: a view just below the
// fold, the equations 80 px below it at 1280 × 800, was redrawn on every frame, 2026-12-03): while
// playing, a view off screen is not redrawn on every frame; it is drawn again as it scrolls into
// view and after Pause.
// An element never watched counts as on screen, so nothing is skipped by mistake.

export class OnScreen {
  constructor(margin = '0px') {
    this.shown = new WeakMap();            // element → whether it intersects the viewport (+ margin)
    this.callbacks = new WeakMap();        // element → what to draw when it scrolls into view
    this.observer = new IntersectionObserver((entries) => entries.forEach((e) => {
      const was = this.shown.get(e.target);
      this.shown.set(e.target, e.isIntersecting);
      if (e.isIntersecting && was === false) this.callbacks.get(e.target)?.();
    }), { rootMargin: margin });
  }

  /** Track `el`; `onShown()` runs when it comes back on screen. */
  watch(el, onShown) {
    if (!el) return;
    this.observer.observe(el);
    if (onShown) this.callbacks.set(el, onShown);
  }

  /** Whether `el` is on screen (true for an element not watched, or not yet measured). */
  visible(el) { return !el || this.shown.get(el) !== false; }
}
