"""Bugs found by walking through the page as a student, a teacher and an engineer: the gradient-health
chart redraws as steps arrive, the initial weights show at step 0, an Epoch shows its last minibatch
(not the stale one from before), the equations name their indices right, and weights that grow
without bound (still finite) raise the banner."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def heat(page, layer: int, key: str):
    return page.locator(f'section[data-layer="{layer}"] figure.heatmap[data-key="{key}"]')


def test_initial_weights_show_before_the_first_forward_pass(lab):
    page, watch = lab
    heat(page, 1, "W").locator("xpath=self::*[@data-state='filled']").wait_for(timeout=10000)
    assert heat(page, 2, "b").get_attribute("data-state") == "filled"
    assert heat(page, 1, "z").get_attribute("data-state") == "empty"      # stages: not computed yet
    assert watch.errors == []


def test_gradient_health_redraws_as_steps_arrive(lab):
    page, watch = lab
    for _ in range(6):
        page.click('button[data-action="step"]')
        page.wait_for_timeout(120)
    page.wait_for_function("document.body.dataset.step === '6'")
    # calcdata is what Plotly computed and drew; it stays at the first point if react sees no change.
    page.wait_for_function("(document.getElementById('chart-health').calcdata || [[]])[0].length >= 6", timeout=5000)
    assert watch.errors == []


def test_an_epoch_shows_its_last_minibatch(lab):
    page, watch = lab
    with page.expect_response("**/epoch") as resp:
        page.click('button[data-action="epoch"]')
    answer = resp.value.json()
    page.wait_for_function("document.body.dataset.epoch === '1'")
    z = heat(page, 1, "z")
    assert z.get_attribute("data-state") == "filled"
    assert float(z.get_attribute("data-sum")) == pytest.approx(
        sum(sum(row) for row in answer["layers"][0]["z"]["values"]), rel=1e-4, abs=1e-4)
    label = page.locator("#sample-label").inner_text()
    assert f"training row {answer['batch']['indices'][0]}" in label
    assert watch.errors == []


def test_equations_name_the_summed_index_and_softmax_uses_the_whole_layer(lab):
    page, watch = lab
    page.click('circle[data-layer="3"][data-unit="1"]')
    page.click('button[data-action="forward"]')
    page.wait_for_selector('section[data-layer="1"] figure[data-key="z"][data-state="filled"]')
    page.click('button[data-action="backward"]')
    page.wait_for_function("document.body.dataset.phase === 'backward'")
    text = page.locator("#equations").inner_text()
    assert "Σm wm1(3)·δm(4)" in text.replace("\n", "")             # δ(3) sums over m, not k
    page.click('button[data-action="update"]')
    page.wait_for_function("document.body.dataset.phase === 'ready'")
    text = page.locator("#equations").inner_text()
    assert "before the update" in text and "←" in text
    page.click('circle[data-layer="4"][data-unit="1"]')
    assert "softmax: all units of the layer" in page.locator("#equations").inner_text()
    assert watch.errors == []


def test_weights_blowing_up_without_nan_raise_the_banner(page, server_url):
    page.goto(server_url + "/?data=spiral&layers=16:relu,16:relu,2:softmax&lr=50")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.click('button[data-action="play"]')
    banner = page.locator("#diverged-banner")
    try:
        banner.wait_for(state="visible", timeout=20000)
    except Exception as exc:        # a CI run once timed out here: say what the page showed instead
        shown = page.evaluate("""() => ({ body: { ...document.body.dataset }, banner: document.querySelector('#diverged-banner').outerHTML,
          error: document.querySelector('#error-banner').textContent })""")
        raise AssertionError(f"no banner after 20 s of play: {shown}") from exc
    assert "blowing up" in banner.inner_text() and "η = 5" in banner.inner_text()
    page.evaluate("""() => { window.bannerLog = []; const b = document.querySelector('#diverged-banner');
      new MutationObserver(() => { if (b.hidden) window.bannerLog.push({ step: document.body.dataset.step,
        phase: document.body.dataset.phase, kind: b.dataset.kind, url: location.search }); })
        .observe(b, { attributes: true, attributeFilter: ['hidden'] }); }""")
    page.click("#diverged-banner [data-fix]")
    banner.wait_for(state="hidden")
    if "lr=5&" not in page.url:     # a CI run once got here with lr=50: say how the banner went away
        raise AssertionError(f"lr=5& not in {page.url}; the banner hid: {page.evaluate('window.bannerLog')}; "
                             f"body: {page.evaluate('({ ...document.body.dataset })')}")


def test_a_reset_right_after_pause_is_not_undone_by_the_plays_last_frame(page, server_url):
    """After Pause the player sends one last frame. A Reset (or Step) answered before that frame came
    in was overwritten by it: the page went back to the exploded weights of the play (the banner
    above came back with η = 5 after "Try η = 5 and reset"). Actions now wait for the play to end."""
    page.goto(server_url + "/?data=spiral&layers=16:relu,16:relu,2:softmax&lr=50")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    sid = page.evaluate("document.body.dataset.session")
    page.evaluate("""() => { const r = document.querySelector('#controls [data-role=speed]');
      r.value = r.max; r.dispatchEvent(new Event('input')); }""")
    for _ in range(3):
        page.click('button[data-action="play"]')
        page.wait_for_function("Number(document.body.dataset.step) > 40", timeout=20000)
        page.evaluate("""() => { document.querySelector('button[data-action="play"]').click();      // Pause
          document.querySelector('button[data-action="reset"]').click(); }""")                     # and Reset at once
        page.wait_for_function("document.body.dataset.step === '0' && document.body.dataset.phase === 'ready'",
                               timeout=10000)
        page.wait_for_timeout(700)                      # a late frame would have come by now
        state = page.request.get(f"{server_url}/api/sessions/{sid}").json()["state"]
        assert state["step"] == 0
        assert page.evaluate("document.body.dataset.step") == "0", "the page still shows the reset state"
        assert page.inner_text('[data-role="step"]') == "0"
        assert page.locator("#diverged-banner").is_hidden(), "step 0's weights are not blowing up"


def test_a_reset_after_many_epochs_draws_a_few_epoch_ticks(page, server_url):
    """The per-epoch chart set dtick 1 when fewer than 12 epochs were left: after a Reset at epoch
    ~10,000 (xor, 25 s of play) the axis still had its old range, and Plotly laid out a label per
    epoch, the page frozen for 41 s. With few epochs it now lists their ticks."""
    page.goto(server_url + "/?data=xor")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    sid = page.evaluate("document.body.dataset.session")
    for _ in range(60):
        assert page.request.post(f"{server_url}/api/sessions/{sid}/epoch").ok
    page.click('button[data-action="epoch"]')                  # the page fetches the 61 epochs' history
    page.wait_for_function("Number(document.querySelector('#chart-epoch').dataset.points) === 61", timeout=20000)
    page.click('button[data-action="reset"]')
    page.wait_for_function("document.body.dataset.step === '0'", timeout=20000)
    page.wait_for_function("Number(document.querySelector('#chart-epoch').dataset.points) === 0", timeout=10000)
    page.wait_for_timeout(300)
    assert page.locator("#chart-epoch .xtick").count() <= 12
    assert page.evaluate("document.querySelector('#chart-epoch').layout.xaxis.dtick") is None
    page.click('button[data-action="epoch"]')
    page.wait_for_function("Number(document.querySelector('#chart-epoch').dataset.points) === 1", timeout=20000)
    page.wait_for_timeout(300)
    labels = page.evaluate("[...document.querySelectorAll('#chart-epoch .xtick text')].map((t) => t.textContent)")
    assert labels == ["1"], labels
