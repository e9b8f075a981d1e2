// The page's shared state: the options, the config, the session and what is shown (app), the view
// objects (ui), and the error display every module uses.

import { emptyView } from './stepview.js';
import { FpsMeter } from './schedule.js';

export const $ = (sel) => document.querySelector(sel);
export const app = { options: null, config: null, id: null, info: null, view: emptyView(), socket: null,
  playing: false, stopping: false, scrubbing: false, sample: 0, grid: { busy: false, last: 0 }, historyFetch: { busy: false, last: 0 }, fps: new FpsMeter() };
export const ui = {};
export const hooks = { fixDivergence: () => {}, afterRender: () => {}, act: () => {}, pause: () => {} };

export function handleError(err) {
  if (err.status === 0) ui.notify.showError(err.message, 'lost');
  else ui.notify.showError(err.message);
}
