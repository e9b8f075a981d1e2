// One floating tooltip shared by every canvas and SVG element on the page. It is hidden when the
// page (or any panel) scrolls under it, when the pointer leaves the window and when the window
// loses focus: a tooltip never stays over something it does not describe.

let tip = null;

function el() {
  if (!tip) {
    tip = document.createElement('div');
    tip.className = 'tooltip';
    tip.setAttribute('role', 'tooltip');
    document.body.appendChild(tip);
    window.addEventListener('scroll', hideTip, { capture: true, passive: true });   // any scroller
    document.documentElement.addEventListener('mouseleave', hideTip);
    window.addEventListener('blur', hideTip);
  }
  return tip;
}

export function showTip(ev, html) {
  const t = el();
  t.innerHTML = html;
  t.style.display = 'block';
  const pad = 14;
  const { innerWidth: w, innerHeight: h } = window;
  const r = t.getBoundingClientRect();
  let x = ev.clientX + pad;
  let y = ev.clientY + pad;
  if (x + r.width > w - 4) x = ev.clientX - r.width - pad;
  if (y + r.height > h - 4) y = ev.clientY - r.height - pad;
  t.style.left = `${Math.max(4, x)}px`;
  t.style.top = `${Math.max(4, y)}px`;
}

export function hideTip() {
  if (tip) tip.style.display = 'none';
}
