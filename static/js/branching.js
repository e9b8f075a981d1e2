// Making and deleting branches from the page (POST .../branch, DELETE .../branches/{id}); the Travel
// (static/js/travel.js) then stands on the new line and shows its first step.

import * as api from './api.js';
import { clone, writeURL } from './state.js';
import { app, ui, handleError } from './page.js';
import { branchName, entry } from './lines.js';

/** Delete a branch (and the branches that leave it). */
export async function removeBranch(travel, id) {
  try {
    const res = await api.deleteBranch(app.id, id);
    travel.setTimeline(res.timeline);
    travel.scheduleRefresh(true);
    ui.notify.say(`Deleted branch${res.deleted.length > 1 ? 'es' : ''} ${res.deleted.map((d) => `#${d}`).join(', ')}.`);
  } catch (err) { handleError(err); }
}

/** A new branch from where the session stands (or ``at``: {step, branch}) with these settings; only
 *  what differs from the current ones is sent. */
export async function branchFrom(travel, { learning_rate: lr, name, batch_size: batch }, at = null) {
  const v = app.view;
  const c = app.config;
  const body = { step: at ? at.step : v.step, branch: at ? at.branch : v.branch };
  const opt = {};
  if (name && name !== c.optimizer.name) opt.name = name;
  if (Number.isFinite(lr) && (lr !== c.optimizer.learning_rate || opt.name)) opt.learning_rate = lr;
  if (Object.keys(opt).length) body.optimizer = opt;
  if (Number.isInteger(batch) && batch !== c.batch_size) body.batch_size = batch;
  if (!body.optimizer && !body.batch_size) {
    ui.notify.say('A branch needs a change: another learning rate, optimizer or batch size.');
    return;
  }
  try {
    const res = await api.branch(app.id, body);
    app.config = { ...c, optimizer: clone(res.config.optimizer), batch_size: res.config.batch_size };
    ui.builder.set(app.config);
    writeURL(app.config);
    const id = res.timeline.position.branch;
    travel.followed = id;
    travel.setLine(id);
    travel.setTimeline(res.timeline);
    travel.go(res.state.step, 'ready', id);
    travel.scheduleRefresh(true);
    ui.notify.say(`Branch #${id} from step ${res.state.step}: ${branchName(entry(res.timeline, id))}. `
      + 'Step or Play to train it; the other branches are kept.', 7000);
  } catch (err) { handleError(err); }
}
