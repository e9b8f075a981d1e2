"""The page keeps up with training (issue 15, item 8): frames paced by drawing ("ack": the page
reports each frame drawn and the server builds the next then), views off screen not redrawn while
playing (drawn as they scroll into view and after Pause), the per-epoch chart thinned, and the
images drawn through a colour table that stays within one level of the exact colour. The frame
rates themselves are measured in benchmarks/page_fps.py, never asserted here."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser


def _play_a_little(page, url):
    """Play ``url``'s network past step 20 and pause; the JSON messages the page sent meanwhile."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(url)
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.click('button[data-action="play"]')
    page.wait_for_function("Number(document.body.dataset.step) > 20", timeout=15000)
    page.click('button[data-action="play"]')
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    return [json.loads(p) for p in sent if isinstance(p, str)]


@pytest.mark.parametrize("layers, fps", [("", 35), ("&layers=128:relu,128:relu,2:softmax", 24)])
def test_frames_are_paced_by_drawing(page, server_url, layers, fps):
    """At most 35 frames a second, or 24 when a layer has more weights than the server's lean
    threshold (128 × 128 > 10,000: frames are big), each one after the page drew the last."""
    messages = _play_a_little(page, f"{server_url}/?data=xor{layers}")
    options = [m for m in messages if m.get("command") == "options" and "ack" in m]
    assert options and options[-1]["ack"] is True and options[-1]["max_fps"] == fps
    assert options[-1]["big"] == 10000
    drawn = sum(m.get("command") == "drawn" for m in messages)
    frames = int(page.evaluate("document.body.dataset.fps !== undefined"))
    assert drawn >= 3 and frames == 1                        # one "drawn" per frame drawn


def test_views_off_screen_wait_while_playing_and_catch_up(lab):
    page, watch = lab
    page.evaluate("window.scrollTo(0, 0)")                   # the layer panels and charts are below
    page.click('button[data-action="play"]')
    page.wait_for_function("Number(document.body.dataset.step) > 60", timeout=20000)
    panel = page.locator('.layer-panel[data-layer="2"]')
    behind = int(panel.get_attribute("data-step") or 0)
    points = int(page.locator("#chart-step").get_attribute("data-points") or 0)
    step = int(page.evaluate("document.body.dataset.step"))
    assert behind < step - 30 and points < step - 30, (behind, points, step)   # not redrawn off screen
    panel.scroll_into_view_if_needed()                       # it comes into view: drawn while playing
    page.wait_for_function("Number(document.querySelector('.layer-panel[data-layer=\"2\"]').dataset.step) > "
                           f"{step}", timeout=10000)
    page.evaluate("window.scrollTo(0, 0)")
    page.click('button[data-action="play"]')                 # Pause: every view shows the last step
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    page.wait_for_function("""() => { const s = document.body.dataset.step;
        return [...document.querySelectorAll('.layer-panel[data-layer]')].every((p) => p.dataset.step === s)
            && Number(document.querySelector('#chart-step').dataset.points) === Number(s); }""", timeout=10000)
    assert not watch.errors, watch.errors


def test_epoch_chart_thins_and_colour_table_matches(lab):
    page, _ = lab
    out = page.evaluate("""async () => {
        const { thinned } = await import('/static/js/charts.js');
        const { divergingRGB, divergingInto } = await import('/static/js/colors.js');
        const px = new Uint8ClampedArray(4);
        let worst = 0;
        for (let i = -3000; i <= 3000; i += 1) {
            const v = i / 1000;
            divergingInto(px, 0, v, 2.5);
            divergingRGB(v, 2.5).forEach((c, k) => { worst = Math.max(worst, Math.abs(c - px[k])); });
        }
        divergingInto(px, 0, NaN, 1);
        return { small: thinned(400, 500), big: thinned(1234, 500), worst, nan: [...px] };
    }""")
    assert out["small"] is None
    big = out["big"]
    assert big[0] == 0 and big[-1] == 1233 and len(big) <= 501 and big == sorted(set(big))
    assert all(b - a == 3 for a, b in zip(big[:-2], big[1:-1]))    # every 3rd (⌈1234 / 500⌉), then the last
    assert out["worst"] <= 1                                       # within one colour level
    assert out["nan"] == [200, 0, 200, 255]                        # as divergingRGB marks a non-finite value


def test_big_layers_frames_carry_the_rows_drawn_and_all_of_them_once_the_panel_shows(page, server_url):
    """W(2) is 128 × 128 (more than the lean threshold): while playing, frames carry its first 32
    rows (what the diagram and MNIST's images draw); with its layer panel on screen, all 128."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(f"{server_url}/?data=xor&layers=128:relu,128:relu,2:softmax")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.evaluate("window.scrollTo(0, 0)")
    page.click('button[data-action="play"]')
    page.wait_for_function("Number(document.body.dataset.step) > 20", timeout=15000)
    rows = lambda: [json.loads(p)["rows"] for p in sent if isinstance(p, str) and '"rows"' in p]  # noqa: E731
    assert rows() == [32]
    assert page.get_attribute("body", "data-play-rows") == "32"      # what benchmarks/page_fps.py reads
    panel = page.locator('.layer-panel[data-layer="2"]')
    panel.scroll_into_view_if_needed()
    page.wait_for_function("""() => { const f = document.querySelector('.layer-panel[data-layer="2"] '
        + 'figure[data-key="W"]'); return f && f.dataset.shape === '[128,128]'
        && Number(f.closest('.layer-panel').dataset.step) > 20; }""", timeout=10000)
    assert rows() == [32, None]
    assert page.get_attribute("body", "data-play-rows") == ""
    assert panel.locator('figure[data-key="dW"]').get_attribute("data-shape") == "[128,128]"
    assert "not sent while playing" in panel.locator('figure[data-key="dW_applied"] .hm-empty').inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("Number(document.body.dataset.step) > 0", timeout=1000)
    page.wait_for_timeout(500)
    assert rows() == [32, None, 32]                          # off screen again: the rows drawn
    page.click('button[data-action="play"]')                 # Pause: the last frame is whole
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    panel.scroll_into_view_if_needed()
    page.wait_for_function("""() => { const p = document.querySelector('.layer-panel[data-layer="2"]');
        return p.dataset.step === document.body.dataset.step
            && p.querySelector('figure[data-key="dW"]').dataset.shape === '[128,128]'
            && p.querySelector('figure[data-key="dW_applied"]').dataset.shape === '[128,128]'; }""", timeout=10000)
    # ΔW(2) is not in the frames while playing, its norm is: the update ratio has a point per frame
    page.locator("#chart-health").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#chart-health').data", timeout=10000)
    traces = page.evaluate("document.querySelector('#chart-health').data.map((t) => ({ name: t.name, y: t.y }))")
    ratio = next(t["y"] for t in traces if t["name"] == "‖ΔW(2)‖/‖W(2)‖")
    drawn = [y for y in ratio if isinstance(y, (int, float))]
    assert len(drawn) >= 5 and all(0 < y < 1 for y in drawn), ratio
