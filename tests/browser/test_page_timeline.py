"""Going back in time on the page (issue 14): the timeline strip scrubs to any step and every panel
shows it as it was, ← and → step through the phases, a change at an earlier step starts a branch
(listed, and drawn in the overlay), branches can be switched and deleted, and a divergence offers
its post-mortem and a branch from the last finite step."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
IDLE = "document.querySelector('#timeline').dataset.busy !== '1'"


def wait_at(page, step, phase="ready"):
    page.wait_for_function(f"document.body.dataset.step === '{step}' && document.body.dataset.phase === '{phase}' "
                           f"&& {IDLE}", timeout=15000)


def steps(page, n, first=1):
    """Press Step n times; the equations' text and the loss shown after each step."""
    seen = {}
    for k in range(first, first + n):
        page.click('button[data-action="step"]')
        page.wait_for_function(f"document.body.dataset.step === '{k}'")
        seen[k] = (page.inner_text("#equations"), page.inner_text('#controls [data-role="loss"]'))
    return seen


def drag_to(page, target, head, start=None):
    """Drag the strip's thumb from ``start`` (the head) to ``target``, through every step between."""
    box = page.locator('[data-role="tl-slider"]').bounding_box()
    x = lambda k: box["x"] + 8 + (box["width"] - 16) * k / head  # noqa: E731 - the lane is inset by 8 px
    y = box["y"] + box["height"] / 2
    start = head if start is None else start
    page.mouse.move(x(start), y)
    page.mouse.down()
    for k in range(start, target - 1, -1 if target < start else 1):
        page.mouse.move(x(k), y)
    page.mouse.up()


def phase_label(page):
    return page.inner_text('[data-role="phase-label"]')


def test_scrubbing_back_shows_the_step_as_it_was(lab):
    page, watch = lab
    page.click('circle[data-layer="3"][data-unit="2"]')           # a neuron: its equations with the numbers in
    seen = steps(page, 20)
    page.wait_for_function("document.querySelector('#timeline').dataset.head === '20'")
    in_flight, most = [0], [0]

    def sent(r):
        if r.url.endswith("/seek"):
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])

    def done(r):
        if r.url.endswith("/seek"):
            in_flight[0] -= 1
    page.on("request", sent)
    page.on("requestfinished", done)
    page.on("requestfailed", done)
    drag_to(page, 5, 20)
    wait_at(page, 5)
    page.wait_for_timeout(300)
    assert page.inner_text("#equations") == seen[5][0], "the equations show step 5's numbers as they were"
    assert page.inner_text('#controls [data-role="loss"]') == seen[5][1]
    assert page.locator('[data-role="tl-step"]').inner_text() == "step 5"
    assert page.locator("#chart-step").get_attribute("data-points") == "5", "the loss curve is cut at step 5"
    assert phase_label(page) == "after step 5's update"
    sent_seeks = [u for u in watch.requests if u.endswith("/seek")]
    assert 1 <= len(sent_seeks) <= 16 and most[0] == 1, "one seek in flight at a time, the last position wins"
    page.screenshot(path="/tmp/timeline-scrubbed.png")
    page.locator(".sticky-top").screenshot(path="/tmp/timeline-strip.png")

    # Stepping on replays the same future: step 6 as it was.
    page.click('button[data-action="step"]')
    wait_at(page, 6)
    assert page.inner_text("#equations") == seen[6][0]
    page.click('[data-role="tl-end"]')                              # back to the last step
    wait_at(page, 20)
    assert page.inner_text("#equations") == seen[20][0]
    assert page.locator("#chart-step").get_attribute("data-points") == "20"
    assert watch.errors == []


def test_arrow_keys_step_through_the_phases(lab):
    page, watch = lab
    page.click('circle[data-layer="3"][data-unit="1"]')
    seen = steps(page, 8)
    page.keyboard.press("ArrowLeft")                                 # after step 8's update → its backward
    wait_at(page, 7, "backward")
    assert phase_label(page) == "step 8: backward pass done"
    assert page.locator('section[data-layer="1"] figure[data-key="delta"][data-state="filled"]').count() == 1
    page.keyboard.press("ArrowLeft")
    wait_at(page, 7, "forward")
    assert phase_label(page) == "step 8: forward pass done"
    assert page.locator('section[data-layer="1"] figure[data-key="delta"][data-state="filled"]').count() == 0
    page.keyboard.press("ArrowLeft")
    wait_at(page, 7)
    assert phase_label(page) == "after step 7's update"
    assert page.inner_text("#equations") == seen[7][0]
    for phase in ("forward", "backward"):
        page.keyboard.press("ArrowRight")
        wait_at(page, 7, phase)
    page.keyboard.press("ArrowRight")
    wait_at(page, 8)
    assert page.inner_text("#equations") == seen[8][0], "→ three times: step 8 again, exactly"
    page.keyboard.press("ArrowRight")                                # at the end of the line: Forward itself
    wait_at(page, 8, "forward")
    assert page.locator('button[data-action="backward"]').is_enabled()
    page.locator('#builder [name="learning_rate"]').focus()          # in a text field the keys are the field's
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(300)
    assert page.evaluate("document.body.dataset.phase") == "forward"
    assert watch.errors == []


def test_a_change_at_an_earlier_step_starts_a_branch(lab):
    page, watch = lab
    steps(page, 20)
    drag_to(page, 10, 20)
    wait_at(page, 10)
    lr = page.locator('#builder [name="learning_rate"]')
    lr.fill("0.5")
    lr.dispatch_event("change")
    page.wait_for_selector("#notice:has-text('new branch')")
    page.wait_for_function("document.body.dataset.branches === '2'")
    steps(page, 6, first=11)
    page.wait_for_function("document.querySelector('#chart-branches').dataset.curves === '2'")
    items = page.locator('[data-role="branch-list"] li')
    assert items.count() == 2
    assert "η 0.1 → 0.5" in items.nth(1).inner_text() and "from step 10 of #0" in items.nth(1).inner_text()
    assert "current" in items.nth(1).get_attribute("class")
    names = page.evaluate("document.querySelector('#chart-branches').data.filter((t) => !t.meta.marker).map((t) => t.name)")
    assert names[0].startswith("#0 first run") and names[1].startswith("#1 η 0.1 → 0.5")
    assert page.locator('[data-role="tl-marks"] .tl-mark').count() == 1, "the branch point is marked on the strip"
    page.locator("#branches").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/timeline-branches.png")
    page.locator("#branches").screenshot(path="/tmp/timeline-branch-list.png")

    # Switch back to the first run: its last step, its learning rate.
    items.nth(0).locator('[data-act="switch"]').click()
    wait_at(page, 20)
    page.wait_for_function("document.querySelector('[data-role=branch-list] li.current').dataset.branch === '0'")
    assert float(lr.input_value()) == 0.1 and "lr=0.1" in page.url
    assert items.nth(0).locator('[data-act="delete"]').is_disabled(), "the first run cannot be deleted"
    items.nth(1).locator('[data-act="delete"]').click()
    page.wait_for_function("document.body.dataset.branches === '1'")
    page.wait_for_function("document.querySelector('#chart-branches').dataset.curves === '1'")

    # "Branch from here" at step 12, with another batch size.
    drag_to(page, 12, 20)
    wait_at(page, 12)
    page.fill('[data-role="branch-form"] [name="batch"]', "8")
    page.click('[data-role="branch-here"]')
    page.wait_for_function("document.body.dataset.branches === '2'")
    wait_at(page, 12)
    assert page.locator('#builder [name="batch_size"]').input_value() == "8"
    assert "batch size 16 → 8" in page.locator('[data-role="branch-list"] li.current').inner_text()
    steps(page, 3, first=13)
    assert watch.errors == []


def test_a_divergence_offers_its_post_mortem_and_a_branch(page, server_url):
    page.goto(server_url + "/?data=plane&layers=8:linear,8:linear,1:linear&loss=mean_squared_error&opt=sgd&lr=0.02")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.click('button[data-action="epoch"]')
    page.wait_for_selector("#postmortem[data-state=done]", timeout=30000)
    card = page.locator("#postmortem")
    assert "Why it diverged" in card.inner_text()
    page.wait_for_selector('[data-role="pm-chart"][data-layers="3"]')
    assert page.locator('[data-role="pm-chart"]').get_attribute("data-out-of-line"), "the first layer out of line"
    card.screenshot(path="/tmp/timeline-postmortem.png")
    diverged_at = int(page.evaluate("document.body.dataset.step"))
    page.click('[data-role="pm-go"]')
    page.wait_for_function(f"document.body.dataset.phase === 'ready' && {IDLE}")
    assert int(page.evaluate("document.body.dataset.step")) <= diverged_at
    # no divergence there (the banner may still say the weights are blowing up: they are, at step 11)
    assert page.locator("#diverged-banner").get_attribute("data-kind") != "diverged"
    assert page.locator('button[data-action="step"]').is_enabled()
    rate = float(page.locator('[data-role="pm-branch"]').get_attribute("data-rate"))
    page.click('[data-role="pm-branch"]')
    page.wait_for_function("document.body.dataset.branches === '2'")
    page.wait_for_function(f"{IDLE} && document.querySelector('#postmortem').hidden")
    assert float(page.locator('#builder [name="learning_rate"]').input_value()) == rate < 0.02
    at = int(page.evaluate("document.body.dataset.step"))
    page.click('button[data-action="step"]')
    page.wait_for_function(f"document.body.dataset.step === '{at + 1}'")
    assert page.evaluate("document.body.dataset.diverged") is None


def test_the_strips_tick_labels_say_they_are_epochs(lab):
    """The numbers under the strip's ticks are epochs, not steps: with more than a few epochs the
    first label reads "epoch N" (the others plain numbers), so "8" beside "step 120" is not a step."""
    page, watch = lab
    ticks = '[data-role="tl-ticks"] .tl-tick span'
    for k in range(1, 9):
        page.click('button[data-action="epoch"]')
        page.wait_for_function(f"document.querySelectorAll('{ticks}').length === {k} && {IDLE}", timeout=20000)
    labels = page.locator(ticks).all_inner_texts()
    assert labels == ["epoch 1", *map(str, range(2, 9))], labels
    first = page.locator('[data-role="tl-ticks"] .tl-tick').first.get_attribute("title")
    assert first.startswith("epoch 1 ends at step "), first
    assert not watch.errors


OVERLAPS = """async ({ epochs, head, width }) => {
  const { TimelineStrip } = await import('/static/js/timeline.js');
  const root = document.createElement('div');
  root.className = 'timeline card';
  root.style.width = `${width}px`;
  document.body.prepend(root);
  const strip = new TimelineStrip(root, { onSeek: () => {}, onEnd: () => {} });
  const ticks = Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, step: 16 * (i + 1) }));
  strip.setLine({ from: 0, head, segments: [], ticks, marks: [] });
  const boxes = [...root.querySelectorAll('.tl-tick span')].map((s) => s.getBoundingClientRect());
  const texts = [...root.querySelectorAll('.tl-tick span')].map((s) => s.textContent);
  root.remove();
  return { texts, overlaps: boxes.slice(1).filter((b, i) => b.left < boxes[i].right).length };
}"""


def test_the_strips_tick_labels_never_overlap_even_crowded_at_its_start(lab):
    """While playing, the ticks came with the last timeline answer and the line has grown since:
    900 epochs of 16 steps crowd the first 44 % of the strip. The labels thin out so that none
    overlaps the next ("epoch 100200 300" was drawn before), and the first still says "epoch"."""
    page, watch = lab
    for epochs, head, width, least in ((900, 32000, 800, 1), (900, 900 * 16, 800, 3), (8, 8 * 16, 800, 8),
                                       (5, 80, 400, 2), (40, 40 * 16, 400, 2)):
        got = page.evaluate(OVERLAPS, {"epochs": epochs, "head": head, "width": width})
        assert got["overlaps"] == 0 and len(got["texts"]) >= least, (epochs, head, width, got)
        assert got["texts"][0].startswith("epoch "), got
    assert not watch.errors


TICKS_NOW = """() => {
  const root = document.querySelector('#timeline');
  const steps = [...root.querySelectorAll('[data-role="tl-ticks"] .tl-tick')]
    .map((t) => Number(t.title.match(/at step (\\d+)/)[1]));
  return { head: Number(root.dataset.head), steps };
}"""


def test_while_playing_fast_the_epoch_ticks_reach_the_head_of_the_strip(lab):
    """The timeline is fetched every 3 s while playing (xor: tens of thousands of steps); the epoch
    ends the frames showed since then are ticked too, so the ticks never stop short of the head."""
    page, watch = lab
    page.evaluate("""() => { const s = document.querySelector('[data-role=speed]');
        s.value = s.max; s.dispatchEvent(new Event('input')); }""")
    page.click('button[data-action="play"]')
    page.wait_for_timeout(1500)
    seen = []
    for _ in range(8):
        page.wait_for_timeout(450)
        seen.append(page.evaluate(TICKS_NOW))
    page.click('button[data-action="play"]')
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    for s in seen:
        steps = s["steps"]
        assert len(steps) >= 3, s
        gap = max(b - a for a, b in zip(steps, steps[1:]))        # the drawn ticks' spacing (thinned)
        assert 0 <= s["head"] - steps[-1] <= 2 * gap, (s["head"], steps[-3:], gap)
    assert seen[-1]["head"] > seen[0]["head"]
    assert not watch.errors


WITH_NEW_TICKS = """async () => {
  const { withNewTicks } = await import('/static/js/lines.js');
  const segs = [{ id: 0, from: 0, to: 200, batchSize: 16 }];
  const known = [{ step: 32, epoch: 1 }, { step: 64, epoch: 2 }];
  return {
    later: withNewTicks(known, segs, { step: 170, epochStart: 160, epochs: 5, perEpoch: 32 }),
    none: withNewTicks(known, segs, null),
    empty: withNewTicks([], segs, { step: 70, epochStart: 64, epochs: 2, perEpoch: 32 }),
  };
}"""


def test_the_ticks_the_frames_add_follow_the_servers_own(lab):
    page, _ = lab
    got = page.evaluate(WITH_NEW_TICKS)
    assert got["later"] == [{"step": 32, "epoch": 1}, {"step": 64, "epoch": 2}, {"step": 96, "epoch": 3},
                            {"step": 128, "epoch": 4}, {"step": 160, "epoch": 5}, {"step": 192, "epoch": 6}]
    assert got["none"] == [{"step": 32, "epoch": 1}, {"step": 64, "epoch": 2}]
    assert got["empty"] == [{"step": 32, "epoch": 1}, {"step": 64, "epoch": 2}, {"step": 96, "epoch": 3},
                            {"step": 128, "epoch": 4}, {"step": 160, "epoch": 5}, {"step": 192, "epoch": 6}]
