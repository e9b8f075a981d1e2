// HTTP + WebSocket client for the Backprop Lab server (issue 4's contract).
// Every call throws an ApiError carrying the HTTP status and the server's message.

import { decodeFrame } from './wire.js';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function detailText(body, fallback) {
  if (!body) return fallback;
  const d = body.detail ?? body.message ?? body.error;
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) {
    return d.map((e) => {
      const field = (e.loc || []).filter((p) => p !== 'body' && p !== 'query').join('.');
      return field && !String(e.msg).startsWith(`${field}:`) ? `${field}: ${e.msg}` : e.msg;
    }).join('; ');
  }
  if (d && typeof d === 'object') return d.message || JSON.stringify(d);
  return fallback;
}

const listeners = new Set();
/** Subscribe to every request's outcome: fn({ok, status, message, path}). */
export function onRequest(fn) { listeners.add(fn); return () => listeners.delete(fn); }

async function request(method, path, body, contentType) {
  const init = { method, headers: {} };
  if (contentType) {                 // a raw body (a file): sent as it is
    init.headers['Content-Type'] = contentType;
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    const e = new ApiError(0, 'The server cannot be reached. Is `backprop-lab serve` still running?');
    listeners.forEach((fn) => fn({ ok: false, status: 0, message: e.message, path }));
    throw e;
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  }
  if (!res.ok) {
    const e = new ApiError(res.status, detailText(data, `${method} ${path} failed (${res.status})`), data);
    listeners.forEach((fn) => fn({ ok: false, status: res.status, message: e.message, path }));
    throw e;
  }
  listeners.forEach((fn) => fn({ ok: true, status: res.status, path }));
  return data;
}

export const getJSON = (path) => request('GET', path);
export const postJSON = (path, body) => request('POST', path, body);
export const putJSON = (path, body) => request('PUT', path, body);
export const patchJSON = (path, body) => request('PATCH', path, body);
export const del = (path) => request('DELETE', path);

export const health = () => getJSON('/api/health');
export const options = () => getJSON('/api/options');
export const createSession = (config) => postJSON('/api/sessions', config);
export const getSession = (id) => getJSON(`/api/sessions/${id}`);
/** This browser's own sessions (by its client cookie): [{id, state, config}]. */
export const listSessions = () => getJSON('/api/sessions').then((r) => r.sessions);
export const deleteSession = (id) => del(`/api/sessions/${id}`);
export const forward = (id, indices) =>
  postJSON(`/api/sessions/${id}/forward`, indices ? { indices } : undefined);
export const backward = (id) => postJSON(`/api/sessions/${id}/backward`);
export const update = (id) => postJSON(`/api/sessions/${id}/update`);
export const step = (id) => postJSON(`/api/sessions/${id}/step`);
export const epoch = (id) => postJSON(`/api/sessions/${id}/epoch`);
export const progress = (id) => getJSON(`/api/sessions/${id}/progress`);
// at most 4000 batch losses (the step chart's own limit, static/js/charts.js): a long play's whole curve was MBs
export const history = (id) => getJSON(`/api/sessions/${id}/history?points=4000`);
export const datasetPoints = (id) => getJSON(`/api/sessions/${id}/data`);
export const predictGrid = (id, resolution = 40) =>     // float32 base64: a tenth of the server's time
  getJSON(`/api/sessions/${id}/predict-grid?resolution=${resolution}&encoding=b64`);
export const reset = (id, weights = 'initial') =>
  postJSON(`/api/sessions/${id}/reset`, { weights });
export const exportSession = (id) => getJSON(`/api/sessions/${id}/export`);
export const confusion = (id, split = 'test') => getJSON(`/api/sessions/${id}/confusion?split=${split}`);
/** Replace the session by an exported file (JSON, or .npz). */
export const importSession = (id, file) => request('PUT', `/api/sessions/${id}/export`, file,
  /\.npz$/i.test(file.name) ? 'application/octet-stream' : 'application/json');
/** Upload a CSV file; params: {target, kind, test_fraction, seed} (empty ones are left out). */
export function uploadCsv(file, params = {}) {
  const q = new URLSearchParams({ filename: file.name });
  Object.entries(params).forEach(([k, v]) => { if (v !== '' && v !== null && v !== undefined) q.set(k, v); });
  return request('POST', `/api/datasets/csv?${q}`, file, 'text/csv');
}
export const startMnistDownload = () => postJSON('/api/datasets/mnist/download');
export const mnistDownload = () => getJSON('/api/datasets/mnist/download');
export const startCompare = (body) => postJSON('/api/compare', body);
export const getCompare = (id) => getJSON(`/api/compare/${id}`);
export const cancelCompare = (id) => del(`/api/compare/${id}`);

/** The timeline (issue 14): branches, position, and with curves each branch's batch losses. */
export const timeline = (id, curves = false) => getJSON(`/api/sessions/${id}/timeline${curves ? '?curves=true' : ''}`);
/** Stand at step k (of a branch; phase ready / forward / backward): that step's frame, as it was. */
export const seek = (id, step, branch, phase = 'ready') =>
  postJSON(`/api/sessions/${id}/seek`, { step, ...(branch === undefined || branch === null ? {} : { branch }), phase });
/** A new branch from a step: {step, branch, optimizer: {learning_rate, name, ...}, batch_size}. */
export const branch = (id, body) => postJSON(`/api/sessions/${id}/branch`, body);
export const deleteBranch = (id, branchId) => del(`/api/sessions/${id}/branches/${branchId}`);
/** Why the current branch diverged: the last finite step, gradient health per step and layer, a
 *  suggested rate; the session then stands, alive, at the step that rate is for (branch_from). */
export const postMortem = (id) => postJSON(`/api/sessions/${id}/post-mortem`);

/** Change the optimizer's hyperparameters (learning rate) without touching the weights. */
export async function setOptimizer(id, optimizer) {
  return patchJSON(`/api/sessions/${id}`, { optimizer });
}

/** Change the optimizer (hyperparameters, or another one) and/or the batch size; the weights stay.
 *  The answer's `changes` says what was kept (`changes.message`: one line for the user). */
export const patchSession = (id, body) => patchJSON(`/api/sessions/${id}`, body);

/**
 * A session's WebSocket. Frames are never queued: `latest` keeps only the newest one and
 * `onFrame` is called once per animation frame with it (so drawing never falls behind).
 */
export class SessionSocket {
  constructor(id, { onFrame, onMessage, onStatus }) {
    this.id = id;
    this.onFrame = onFrame;
    this.onMessage = onMessage || (() => {});
    this.onStatus = onStatus || (() => {});
    this.latest = null;
    this.pending = [];
    this.scheduled = false;
    this.closedByUs = false;
    this.retries = 0;
    this.received = 0;
    this.drawn = 0;
    this.open();
  }

  open() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    // hold=1: this page holds the session; the server gives it back a little after the page closes
    const ws = new WebSocket(`${proto}://${location.host}/ws/sessions/${this.id}?hold=1`);
    this.ws = ws;
    ws.binaryType = 'arraybuffer';      // binary frames ("encoding": "bin"): decoded in place (wire.js)
    ws.onopen = () => {
      this.retries = 0;
      this.onStatus('open');
      const queued = this.pending.splice(0);
      queued.forEach((msg) => ws.send(msg));
    };
    ws.onmessage = (ev) => {
      let msg;
      if (typeof ev.data !== 'string') msg = decodeFrame(ev.data);
      else try { msg = JSON.parse(ev.data); } catch { return; }
      if (!msg) return;
      this.received += 1;
      if (msg.type === 'error') {
        this.onMessage(msg);
        return;
      }
      if (msg.type !== 'frame') { this.onMessage(msg); return; }
      this.latest = msg.data;          // only the newest frame is kept: never a backlog
      if (!this.scheduled) {
        this.scheduled = true;
        requestAnimationFrame(() => this.flush());
      }
    };
    ws.onclose = () => {
      if (this.closedByUs) return;
      this.onStatus('lost');
      if (this.retries < 5) {
        this.retries += 1;
        setTimeout(() => { if (!this.closedByUs) this.open(); }, 500 * this.retries);
      } else {
        this.onStatus('dead');
      }
    };
  }

  flush() {
    this.scheduled = false;
    const frame = this.latest;
    this.latest = null;
    if (!frame) return;
    this.drawn += 1;
    this.onFrame(frame);
    if (this.ack) this.send({ command: 'drawn' });   // paced frames: the server builds the next now
  }

  /** Frames paced by drawing (the "ack" option): call before asking for it. */
  paced(on) { this.ack = on; }

  send(command) {
    const msg = JSON.stringify(command);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(msg);
    else this.pending.push(msg);
  }

  close() {
    this.closedByUs = true;
    if (this.ws) this.ws.close();
  }
}
