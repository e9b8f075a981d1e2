// The lecture's automatic-differentiation section (issue 16): the clicked neuron's computation graph
// (graph.js) for the chosen sample, redrawn after every render, and the gradient check with the
// find-the-bug controls (gradcheck.js).

import { neuronGraph, graphSVG, deltaText } from './graph.js';
import { GradientCheck } from './gradcheck.js';
import { hooks } from './page.js';

export class Autodiff {
  constructor(root, { getId, getSelection, getSample, isPlaying, onError }) {
    Object.assign(this, { root, getId, getSelection, getSample, isPlaying });
    this.sessionId = null;
    root.innerHTML = `<h2>Automatic differentiation: one number, two views</h2>
      <p class="help">The clicked neuron as a computation graph of simple functions: every node shows its value and,
        after the backward pass, its adjoint ∂ = ∂cost/∂node for this sample; every edge its local derivative. The chain
        rule multiplies them along each path and adds the paths: that is δ = (Wᵀδ′) ⊙ f′(z).</p>
      <div data-role="graph" class="graph-box"></div><p data-role="hover" class="muted"></p><div data-role="delta"></div>
      <div data-role="check" class="gradcheck"></div>`;
    this.check = new GradientCheck(root.querySelector('[data-role="check"]'), { getId, onError });
    const box = root.querySelector('[data-role="graph"]');
    this.marker = document.createElement('div');
    this.marker.className = 'panel-marker';
    Object.assign(this.marker.style, { position: 'absolute', border: '2px solid #d1157b', boxShadow: '0 0 0 2px #fff',
      pointerEvents: 'none', zIndex: 50, display: 'none' });
    document.body.appendChild(this.marker);
    box.addEventListener('mouseover', (ev) => {
      const n = ev.target.closest('.gnode');
      root.querySelector('[data-role="hover"]').textContent = n && n.dataset.entry
        ? `This node's value is ${n.dataset.entry} in the layer panels (outlined there).` : '';
      this.mark(n && n.dataset.panel);
    });
    box.addEventListener('mouseleave', () => this.mark(null));
  }

  /** Outline the cell "section:key:row:col" of the layer panels' heatmap (z, a, δ, x show samples as columns). */
  mark(address) {
    const m = this.marker;
    m.style.display = 'none';
    delete m.dataset.address;
    if (!address) return;
    const [section, key, row, col] = address.split(':');
    const where = section === '-1' ? '#layers section[data-panel="-1"]' : `#layers section[data-layer="${section}"]`;
    const canvas = document.querySelector(`${where} figure.heatmap[data-key="${key}"] canvas`);
    if (!canvas || !canvas.width) return;
    const [r, c] = ['x', 'z', 'a', 'delta'].includes(key) ? [Number(col), Number(row)] : [Number(row), Number(col)];
    const box = canvas.getBoundingClientRect();
    const h = box.height / canvas.height;
    const w = box.width / canvas.width;
    Object.assign(m.style, { display: 'block', left: `${box.left + window.scrollX + c * w - 2}px`,
      top: `${box.top + window.scrollY + r * h - 2}px`, width: `${Math.max(w, 3)}px`, height: `${Math.max(h, 3)}px` });
    m.dataset.address = address;
  }

  render(view) {
    if (this.isPlaying()) return;
    if (this.getId() !== this.sessionId) { this.sessionId = this.getId(); this.check.reset(); }
    const sel = this.getSelection();
    const box = this.root.querySelector('[data-role="graph"]');
    const text = this.root.querySelector('[data-role="delta"]');
    const g = sel && sel.l > 1 ? neuronGraph(view, sel.l, sel.j, this.getSample()) : null;
    if (!g) {
      box.innerHTML = `<p class="muted">${sel && sel.l > 1 ? 'Press Forward (or Step) to compute this neuron.' : 'Click a neuron of a hidden or the output layer in the diagram.'}</p>`;
      text.innerHTML = '';
      delete this.root.dataset.unit;
      return;
    }
    box.innerHTML = `<h4>Unit ${g.j + 1} of layer ${g.l} · sample ${g.s + 1} of the batch</h4>${graphSVG(g)}`;
    text.innerHTML = deltaText(g);
    this.root.dataset.unit = `${g.l}:${g.j}:${g.s}`;
  }
}

/** Make the section in ``root`` and redraw it after every render of the page. */
export function startAutodiff(root, options) {
  const view = new Autodiff(root, options);
  const before = hooks.afterRender;
  hooks.afterRender = (v) => { before(v); view.render(v); };
  return view;
}
