// Where data and sessions come from besides the built-in sets: download MNIST on request (with
// progress), upload your own CSV file, and import an exported session (JSON or .npz).

import * as api from './api.js';

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

export class Sources {
  /** hooks: getOptions(), onOptions(options) after MNIST arrived, onDataset(spec, info), onError(err). */
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    root.innerHTML = `
      <fieldset data-role="mnist"><legend>MNIST</legend>
        <p class="help" data-role="mnist-text"></p>
        <button type="button" data-action="download-mnist" class="small">Download MNIST (11 MB)</button>
        <progress data-role="mnist-progress" max="1" value="0" hidden></progress>
        <p class="help warn" data-role="mnist-error" hidden></p></fieldset>
      <fieldset><legend>Your own CSV</legend>
        <p class="help">A header row, one sample per row, numbers only in the input columns. The target
          (what to predict) is the last column unless you name it.</p>
        <input type="file" accept=".csv,text/csv" data-role="csv-file" aria-label="CSV file">
        <label>target column <input data-role="csv-target" placeholder="last column"></label>
        <button type="button" data-action="upload-csv" class="small">Upload and train on it</button>
        <p class="help" data-role="csv-status"></p></fieldset>`;
    this.el = (role) => root.querySelector(`[data-role="${role}"]`);
    root.querySelector('[data-action="download-mnist"]').addEventListener('click', () => this.download());
    root.querySelector('[data-action="upload-csv"]').addEventListener('click', () => this.upload());
    this.showMnist();
  }

  showMnist() {
    const ds = (this.hooks.getOptions().datasets || []).find((d) => d.name === 'mnist');
    const box = this.root.querySelector('[data-role="mnist"]');
    box.hidden = !ds;
    if (!ds) return;
    const btn = this.root.querySelector('[data-action="download-mnist"]');
    btn.hidden = ds.available;
    this.el('mnist-text').textContent = ds.available ? 'MNIST is here: pick it as the data set above.'
      : 'Not downloaded yet. The button fetches the four files (checksummed) into the cache folder.';
  }

  async download() {
    const btn = this.root.querySelector('[data-action="download-mnist"]');
    const bar = this.el('mnist-progress');
    const err = this.el('mnist-error');
    btn.disabled = true;
    err.hidden = true;
    bar.hidden = false;
    try {
      let state = await api.startMnistDownload();
      while (state.status === 'running') {
        bar.value = state.fraction || 0;
        this.el('mnist-text').textContent = `${Math.round(100 * (state.fraction || 0))}% · ${state.message || ''}`;
        await new Promise((r) => setTimeout(r, 300));
        state = await api.mnistDownload();
      }
      if (state.status === 'error') throw new Error(state.error);
      bar.value = 1;
      this.hooks.onOptions(await api.options());
      this.root.dataset.mnist = 'ready';
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      this.root.dataset.mnist = 'error';
    } finally {
      btn.disabled = false;
      bar.hidden = true;
      this.showMnist();
    }
  }

  async upload() {
    const file = this.el('csv-file').files[0];
    const status = this.el('csv-status');
    if (!file) { status.textContent = 'Choose a CSV file first.'; return; }
    status.textContent = `uploading ${file.name}…`;
    try {
      const res = await api.uploadCsv(file, { target: this.el('csv-target').value.trim() });
      const d = res.dataset;
      status.innerHTML = `<b>${esc(res.filename)}</b>: ${d.n_train} training and ${d.n_test} test rows, ${d.input_shape[0]} inputs,
        predicting <b>${esc(res.options.target)}</b> (${esc(d.kind)}${d.n_classes ? `, ${d.n_classes} classes` : ''}).`;
      this.hooks.onDataset({ name: 'csv', upload_id: res.upload_id }, d);
    } catch (e) {
      status.textContent = e.message;
      status.classList.add('warn');
      this.hooks.onError?.(e);
      return;
    }
    status.classList.remove('warn');
  }
}

/** The header's Import button: a file picker whose file replaces the current session. */
export function importButton(button, { getId, onImported, onError }) {
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = '.json,.npz,application/json';
  input.hidden = true;
  input.id = 'import-file';
  button.after(input);
  button.addEventListener('click', () => input.click());
  input.addEventListener('change', async () => {
    const file = input.files[0];
    input.value = '';
    if (!file || !getId()) return;
    try { onImported(await api.importSession(getId(), file), file.name); } catch (e) { onError(e); }
  });
  return input;
}
