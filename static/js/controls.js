// The training controls: Forward, Backward, Update, Step, Epoch, Play/Pause (+ speed), Reset;
// where we are in the two-phase cycle (propagation → weight update); step and epoch counters.
// Keyboard: space plays/pauses (← and → step through the phases: static/js/travel.js).

const SPEEDS = [1, 2, 5, 10, 20, 50, 0];   // steps per second; 0 = as fast as the server can

export class Controls {
  constructor(root, { onAction }) {
    this.root = root;
    this.onAction = onAction;
    this.playing = false;
    this.busy = false;
    root.innerHTML = `
      <div class="btn-row" role="toolbar" aria-label="training controls">
        <button data-action="forward" title="Propagate the next minibatch forward: z and a of every layer">Forward</button>
        <button data-action="backward" title="Propagate δ back from the output to the first layer">Backward</button>
        <button data-action="update" title="Apply one optimizer update to W and b">Update</button>
        <span class="sep"></span>
        <button data-action="step" title="Forward, backward and update on the next minibatch (→ goes one phase at a time)">Step</button>
        <button data-action="epoch" title="Train on the rest of the epoch">Epoch</button>
        <button data-action="play" class="primary" title="Train continuously (space)">▶ Play</button>
        <label class="speed" title="Steps per second while playing">speed
          <input type="range" min="0" max="${SPEEDS.length - 1}" value="3" step="1" data-role="speed">
          <output data-role="speed-out">10/s</output></label>
        <span class="sep"></span>
        <button data-action="reset" title="Start again from the same initial weights">Reset</button>
      </div>
      <div class="cycle" aria-label="two-phase cycle">
        <span class="cycle-phase" data-phase="propagation">propagation:
          <span class="cycle-step" data-stage="forward">forward</span> →
          <span class="cycle-step" data-stage="backward">backward</span></span>
        <span class="cycle-arrow">→</span>
        <span class="cycle-phase" data-phase="update">weight update:
          <span class="cycle-step" data-stage="update">update</span></span>
        <span class="counters">step <b data-role="step">0</b> · epoch <b data-role="epoch">0</b>
          · loss <b data-role="loss">–</b> <span class="penalty" data-role="penalty" title="the regularization penalty l1·Σ|W| + l2·ΣW², included in the loss"></span> <span class="fps muted" data-role="fps"></span></span>
      </div>`;
    root.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-action]');
      if (!btn || btn.disabled) return;
      const action = btn.dataset.action;
      if (action === 'play') this.onAction(this.playing ? 'pause' : 'play');
      else this.onAction(action);
    });
    this.speedInput = root.querySelector('[data-role="speed"]');
    this.speedOut = root.querySelector('[data-role="speed-out"]');
    this.speedInput.addEventListener('input', () => {
      this.showSpeed();
      if (this.playing) this.onAction('speed');
    });
    this.showSpeed();
    document.addEventListener('keydown', (ev) => {
      const tag = (ev.target.tagName || '').toLowerCase();
      if (['input', 'select', 'textarea', 'button'].includes(tag) && ev.key === ' ') return;
      if (['input', 'select', 'textarea'].includes(tag)) return;
      if (ev.key === ' ') { ev.preventDefault(); this.onAction(this.playing ? 'pause' : 'play'); }
    });
  }

  /** Steps per second (0 = as fast as possible). */
  speed() { return SPEEDS[Number(this.speedInput.value)]; }

  showSpeed() {
    const s = this.speed();
    this.speedOut.textContent = s ? `${s}/s` : 'max';
  }

  setPlaying(playing) {
    this.playing = playing;
    const btn = this.root.querySelector('[data-action="play"]');
    btn.textContent = playing ? '‖ Pause' : '▶ Play';
    btn.setAttribute('aria-pressed', String(playing));
    document.body.toggleAttribute('data-playing', playing);     // static/css/app.css: views off screen skipped
    this.refreshButtons();
  }

  setBusy(busy) { this.busy = busy; this.refreshButtons(); }

  refreshButtons() {
    const phase = this.phase || 'ready';
    const dead = phase === 'diverged' || this.noSession;
    const lock = this.playing || this.busy;
    const set = (name, disabled) => { this.root.querySelector(`[data-action="${name}"]`).disabled = disabled; };
    set('forward', lock || dead);
    set('backward', lock || dead || phase !== 'forward');
    set('update', lock || dead || phase !== 'backward');
    set('step', lock || dead);
    set('epoch', lock || dead);
    set('play', this.busy || dead);
    set('reset', this.busy || this.noSession);
  }

  /** Show the phase (ready / forward / backward / diverged) and the counters. */
  show(view, { noSession = false } = {}) {
    this.phase = view.phase;
    this.noSession = noSession;
    const done = { ready: [], forward: ['forward'], backward: ['forward', 'backward'] }[view.phase] || [];
    const next = { ready: 'forward', forward: 'backward', backward: 'update' }[view.phase];
    this.root.querySelectorAll('.cycle-step').forEach((el) => {
      el.classList.toggle('done', done.includes(el.dataset.stage));
      el.classList.toggle('next', el.dataset.stage === next && !this.playing);
    });
    if (this.root.dataset.phase !== view.phase) this.root.dataset.phase = view.phase;
    this.root.querySelector('[data-role="step"]').textContent = view.step ?? 0;
    this.root.querySelector('[data-role="epoch"]').textContent = view.epoch ?? 0;
    this.root.querySelector('[data-role="loss"]').textContent =
      Number.isFinite(view.loss) ? view.loss.toPrecision(4) : '–';
    this.root.querySelector('[data-role="penalty"]').textContent =
      Number.isFinite(view.penalty) ? `(of which penalty ${view.penalty.toPrecision(3)})` : '';
    this.refreshButtons();
  }

  /** While playing: how fast the server trains and how many of its steps the page draws. */
  showFps(rate) {
    const el = this.root.querySelector('[data-role="fps"]');
    el.textContent = rate && rate.fps
      ? `· training ${Math.round(rate.stepsPerSecond).toLocaleString('en')} steps/s · drawing ${rate.fps.toFixed(0)} frames/s`
      : '';
    el.title = 'The server trains at the chosen speed and sends only its newest step; '
      + 'the page draws as many of them as it can, so drawing never slows training.';
  }
}
