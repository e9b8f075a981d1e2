// One floating tooltip shared by every canvas and SVG element on the page.

let tip = null;

function el() {
  if (!tip) {
    tip = document.createElement('div');
    tip.className = 'tooltip';
    tip.setAttribute('role', 'tooltip');
    document.body.appendChild(tip);
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
