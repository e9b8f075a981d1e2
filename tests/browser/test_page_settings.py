"""After Pause at max speed the panels show the step the counter shows (not an older frame); changing
momentum, the optimizer or the batch size keeps the network and says what was kept; the tooltip
goes away when the page scrolls under it."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app import wire

pytestmark = pytest.mark.browser


def heat(page, layer: int, key: str):
    return page.locator(f'section[data-layer="{layer}"] figure.heatmap[data-key="{key}"]')


def assert_shows(page, layer: int, key: str, arr: np.ndarray):
    fig = heat(page, layer, key)
    total, first = float(fig.get_attribute("data-sum")), np.array(json.loads(fig.get_attribute("data-first")))
    flat = arr.ravel()
    assert total == pytest.approx(flat.sum(), rel=1e-4, abs=1e-4)
    np.testing.assert_array_equal(first, flat[: len(first)])     # float32 both: exactly


def max_speed(page):
    page.evaluate("""() => { const r = document.querySelector('#controls [data-role=speed]');
        r.value = r.max; r.dispatchEvent(new Event('input', { bubbles: true })); }""")
    assert page.locator('#controls [data-role="speed-out"]').inner_text() == "max"


def test_pause_at_max_speed_shows_the_current_step(lab, server_url, artifacts):
    page, watch = lab
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(p)))
    # spiral keeps the gradients large for a long time, so every step visibly changes W
    page.goto(server_url + "/?data=spiral&layers=8:tanh,8:tanh,2:softmax&lr=0.3&batch=8")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    sid = page.evaluate("document.body.dataset.session")
    max_speed(page)
    page.click('button[data-action="play"]')
    page.wait_for_function("Number(document.body.dataset.step) >= 100", timeout=20000)
    page.wait_for_timeout(300)
    page.click('button[data-action="play"]')          # Pause
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    page.wait_for_timeout(300)
    state = page.request.get(f"{server_url}/api/sessions/{sid}").json()["state"]
    page.wait_for_function(f"document.body.dataset.step === '{state['step']}'", timeout=5000)
    assert page.locator("#controls [data-role=step]").inner_text() == str(state["step"])
    messages = [wire.unpack(f)[0] if isinstance(f, bytes) else json.loads(f) for f in frames]   # binary frames
    last = [m for m in messages if m.get("type") == "frame"][-1]
    assert last["data"]["step"] == state["step"], "the last frame is the current step"
    exported = page.request.get(f"{server_url}/api/sessions/{sid}/export").json()
    assert exported["state"]["step"] == state["step"]
    weights = [np.asarray(w["values"], dtype=np.float64).reshape(w["shape"]) for w in exported["weights"]]
    for layer in (1, 2, 3):
        kernel, bias = weights[2 * (layer - 1)], weights[2 * (layer - 1) + 1]
        assert_shows(page, layer, "W", kernel.T)       # the weights after the step shown
        assert_shows(page, layer, "b", bias)
        for key in ("z", "delta", "dW_applied"):       # that step's own numbers, not "not computed"
            assert heat(page, layer, key).get_attribute("data-state") == "filled"
    page.wait_for_timeout(800)
    assert page.evaluate("document.body.dataset.step") == str(state["step"]), "nothing ran after Pause"
    assert watch.errors == []
    page.screenshot(path=str(artifacts / "08-paused-at-max-speed.png"))


def change(page, selector: str, value: str):
    field = page.locator(f"#builder {selector}")
    field.fill(value)
    field.dispatch_event("change")


def test_optimizer_and_batch_size_changes_keep_the_network(lab, server_url):
    page, watch = lab
    sid = page.evaluate("document.body.dataset.session")
    for _ in range(2):
        page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '2'")
    before = page.request.get(f"{server_url}/api/sessions/{sid}/export").json()["weights"]

    change(page, '[name="o.momentum"]', "0.9")
    page.wait_for_selector("#notice:has-text('keeps its state')")
    assert "weights were kept" in page.locator("#notice").inner_text()
    assert "momentum=0.9" in page.url.replace("o.momentum", "momentum")
    assert page.evaluate("document.body.dataset.session") == sid
    assert page.evaluate("document.body.dataset.step") == "2"
    assert page.request.get(f"{server_url}/api/sessions/{sid}/export").json()["weights"] == before
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '3'")
    page.check('#builder [name="o.nesterov"]')
    page.wait_for_selector("#notice:has-text('momentum, iteration count 3')")

    change(page, '[name="batch_size"]', "32")
    page.wait_for_selector("#notice:has-text('batch size 16 → 32')")
    assert page.evaluate("document.body.dataset.session") == sid and "batch=32" in page.url
    with page.expect_response("**/step") as resp:
        page.click('button[data-action="step"]')
    assert len(resp.value.json()["batch"]["indices"]) == 32

    page.select_option('#builder [name="optimizer"]', "adam")
    page.wait_for_selector("#notice:has-text('starts afresh')")
    session = page.request.get(f"{server_url}/api/sessions/{sid}").json()
    assert session["config"]["optimizer"]["name"] == "adam" and session["state"]["step"] == 4
    assert page.evaluate("document.body.dataset.session") == sid

    # Out of range: the server refuses it (422), the page says so and goes back to the server's value.
    change(page, '[name="o.beta_1"]', "5")
    page.wait_for_selector("#error-banner:has-text('beta_1')")
    assert page.request.get(f"{server_url}/api/sessions/{sid}").json()["config"]["optimizer"].get("beta_1") != 5
    assert "o.beta_1=5" not in page.url
    assert [e for e in watch.errors if "422" not in e] == []


def test_the_tooltip_hides_when_the_page_scrolls(lab):
    page, watch = lab
    page.click('button[data-action="forward"]')
    page.wait_for_selector('section[data-layer="1"] figure[data-key="z"][data-state="filled"]')
    canvas = heat(page, 1, "z").locator("canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + 3)
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    tip = page.locator(".tooltip")
    tip.wait_for(state="visible")
    page.evaluate("window.scrollBy(0, 200)")
    tip.wait_for(state="hidden", timeout=2000)
    page.mouse.move(box["x"] + 6, box["y"] - 194)       # over it again, then the pointer leaves the page
    page.mouse.move(box["x"] + 7, box["y"] - 193)
    tip.wait_for(state="visible")
    page.evaluate("document.documentElement.dispatchEvent(new MouseEvent('mouseleave'))")
    tip.wait_for(state="hidden", timeout=2000)
    assert watch.errors == []
