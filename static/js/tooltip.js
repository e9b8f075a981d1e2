// One floating tooltip shared by every canvas and SVG element on the page. It is hidden when the
// page (or any panel) scrolls under it, when the pointer leaves the window and when the window
// loses focus: a tooltip never stays over something it does not describe. Mouse, pen and touch
// alike (pointer events): a finger's tip appears on the tap, above the finger, and stays after the
// finger lifts until the next tap elsewhere.

let tip = null;

function el() {
  if (!tip) {
    tip = document.createElement('div');
    tip.className = 'tooltip';
    tip.setAttribute('role', 'tooltip');
    document.body.appendChild(tip);
    window.addEventListener('scroll', hideTip, { capture: true, passive: true });   // any scroller
    document.documentElement.addEventListener('mouseleave', hideTip);   // not pointerleave: a finger "leaves" as it lifts
    document.addEventListener('pointerdown', hideTip, { capture: true, passive: true });   // before the owner shows its own
    window.addEventListener('blur', hideTip);
  }
  return tip;
}

export function showTip(ev, html) {
  const t = el();
  t.innerHTML = html;
  t.style.display = 'block';
  const touch = ev.pointerType === 'touch';
  const pad = touch ? 28 : 14;                       // a finger covers what is under it: the tip goes above
  const { innerWidth: w, innerHeight: h } = window;
  const r = t.getBoundingClientRect();
  let x = touch ? ev.clientX - r.width / 2 : ev.clientX + pad;
  let y = touch ? ev.clientY - r.height - pad : ev.clientY + pad;
  if (x + r.width > w - 4) x = touch ? w - 4 - r.width : ev.clientX - r.width - pad;
  if (touch ? y < 4 : y + r.height > h - 4) y = touch ? ev.clientY + pad : ev.clientY - r.height - pad;
  t.style.left = `${Math.max(4, x)}px`;
  t.style.top = `${Math.max(4, y)}px`;
}

export function hideTip() {
  if (tip) tip.style.display = 'none';
}

/** A hover view for every kind of pointer: show(ev) as a mouse or pen enters and moves over
 *  `target` and when a finger touches it; a mouse's or pen's tip goes when it leaves (a finger
 *  "leaves" as it lifts, so its tip stays until the next tap). */
export function onHover(target, show, leave = hideTip) {
  ['pointerenter', 'pointermove', 'pointerdown'].forEach((type) => target.addEventListener(type, show));
  target.addEventListener('pointerleave', (ev) => { if (ev.pointerType !== 'touch') leave(ev); });
}

/** fn(ev) when `target` is tapped or clicked: a mouse's or pen's click, or a finger lifted where it
 *  went down (pointerup; a finger that scrolls the page gets pointercancel instead). Not the click
 *  a tap makes: on a busy page, or a finger held a moment, Chromium turns the tap into a long press
 *  and sends no click at all, so a student's tap on a node did nothing. */
export function onTap(target, fn) {
  target.addEventListener('pointerup', (ev) => { if (ev.pointerType === 'touch') fn(ev); });
  target.addEventListener('click', (ev) => { if (ev.pointerType !== 'touch') fn(ev); });
}
