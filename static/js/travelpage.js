// Issue 14's views on the page: the timeline strip, the branch list with "Branch from here", the
// overlay of every branch's loss and the divergence post-mortem, all driven by one Travel.

import { $, app, hooks } from './page.js';
import { TimelineStrip } from './timeline.js';
import { BranchList } from './branches.js';
import { BranchOverlay } from './overlay.js';
import { PostMortem } from './postmortem.js';
import { Travel } from './travel.js';
import { branchFrom, removeBranch } from './branching.js';

/** Build the views and the Travel that drives them; ``act`` and ``pause`` are the page's own. */
export function startTravel({ act, pause }) {
  let travel = null;
  const strip = new TimelineStrip($('#timeline'), { onSeek: (k) => travel.go(k), onEnd: () => travel.toEnd() });
  const branches = new BranchList($('#branches [data-role="branches"]'), {
    optimizers: app.options.optimizers.map((o) => o.name),
    onSwitch: (id) => travel.switchTo(id),
    onDelete: (id) => removeBranch(travel, id),
    onBranch: (settings) => branchFrom(travel, settings),
  });
  const overlay = new BranchOverlay($('#chart-branches'));
  const postmortem = new PostMortem($('#postmortem'), {
    onGo: (step, branch) => travel.go(step, 'ready', branch ?? travel.line),
    onBranch: (lr, at) => branchFrom(travel, { learning_rate: lr }, at),
  });
  travel = new Travel({ strip, branches, overlay, postmortem });
  Object.assign(hooks, { act, pause, afterRender: (v) => travel.sync(v) });
  return travel;
}
