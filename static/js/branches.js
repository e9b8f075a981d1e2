// The branch list: every line of the session's timeline (what changed, where it left, its last
// step), the one the page follows highlighted; a click goes to a branch's last step, × deletes it.
// Under it "Branch from here": another learning rate, optimizer or batch size from the step shown.

import { branchColor, branchName, pathTo } from './lines.js';

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

/** The branches in tree order (each after the one it leaves), with their depth. */
function tree(tl) {
  const out = [];
  const visit = (parent, depth) => tl.branches.filter((b) => b.parent === parent)
    .sort((a, b) => a.start - b.start || a.id - b.id)
    .forEach((b) => { out.push({ b, depth }); visit(b.id, depth + 1); });
  visit(null, 0);
  return out;
}

export class BranchList {
  constructor(root, { optimizers, onSwitch, onDelete, onBranch }) {
    this.root = root;
    root.innerHTML = `
      <ol class="branch-list" data-role="branch-list"><li class="muted">Step or Play: the first run appears here.</li></ol>
      <form class="branch-form" data-role="branch-form">
        <b data-role="branch-from">Branch from step 0</b>
        <label>η <input type="number" name="lr" min="0" max="100" step="any" aria-label="learning rate of the new branch"></label>
        <label>optimizer <select name="optimizer">${optimizers.map((o) => `<option>${esc(o)}</option>`).join('')}</select></label>
        <label>batch <input type="number" name="batch" min="1" step="1" aria-label="batch size of the new branch"></label>
        <button type="submit" class="primary" data-role="branch-here">Branch from here</button>
      </form>`;
    this.list = root.querySelector('[data-role="branch-list"]');
    this.form = root.querySelector('[data-role="branch-form"]');
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-act]');
      if (!btn || btn.disabled) return;
      const id = Number(btn.closest('li').dataset.branch);
      if (btn.dataset.act === 'delete') onDelete(id); else onSwitch(id);
    });
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = this.form.elements;
      onBranch({ learning_rate: Number(f.lr.value), name: f.optimizer.value, batch_size: Math.round(Number(f.batch.value)) });
      this.edited = false;
    });
    this.form.addEventListener('input', () => { this.edited = true; });
  }

  /** Every branch: the line ``line`` highlighted, ``×`` only where the server allows it. */
  show(tl, line) {
    const onPath = new Set(pathTo(tl, line).map((b) => b.id));
    const here = new Set(pathTo(tl, tl.position.branch).map((b) => b.id));
    this.list.innerHTML = tree(tl).map(({ b, depth }) => {
      const current = b.id === line;
      const keep = b.parent === null || onPath.has(b.id) || here.has(b.id);
      const why = b.parent === null ? 'the first run cannot be deleted' : 'the line you are on cannot be deleted: switch to another branch first';
      const where = b.parent === null ? `steps ${b.start}–${b.head}` : `from step ${b.start} of #${b.parent} · to step ${b.head}`;
      const died = b.diverged ? ` <span class="br-diverged" title="${esc(b.diverged.quantity || '')} became infinite or NaN">✕ diverged at step ${b.diverged.step}</span>` : '';
      return `<li data-branch="${b.id}" class="${current ? 'current' : ''}${onPath.has(b.id) && !current ? ' on-line' : ''}" style="--depth:${depth}">
        <button type="button" data-act="switch" class="br-go" title="${current ? 'the line you are on' : `go to its last step, ${b.head}`}" aria-current="${current}">
          <i class="swatch" style="background:${branchColor(b.id)}"></i><b>#${b.id}</b> <span class="br-what">${esc(branchName(b))}</span>
          <span class="muted">${where}</span>${died}${current ? ' <span class="br-here">● you are here</span>' : ''}</button>
        <button type="button" data-act="delete" class="small br-del" aria-label="delete branch ${b.id}" title="${keep ? why : `delete #${b.id} and the branches that leave it`}" ${keep ? 'disabled' : ''}>×</button></li>`;
    }).join('');
    this.list.dataset.count = String(tl.branches.length);
  }

  /** The form branches from the step shown, with the current settings until the user edits them. */
  setPosition(view, config) {
    const label = `Branch from step ${view.step}`;
    const el = this.root.querySelector('[data-role="branch-from"]');
    if (el.textContent !== label) el.textContent = label;
    if (this.edited || this.root.contains(document.activeElement)) return;
    const f = this.form.elements;
    f.lr.value = String(config.optimizer.learning_rate);
    f.optimizer.value = config.optimizer.name;
    f.batch.value = String(config.batch_size);
  }
}
