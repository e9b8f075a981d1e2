"""Training from the page: Play streams over the WebSocket and Pause stops it, a learning-rate
comparison draws one trace per rate, a diverging rate shows the banner, and the URL holds the
whole configuration."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"


def points(page) -> int:
    return int(page.locator("#chart-step").get_attribute("data-points") or 0)


def test_play_streams_over_the_websocket_and_pause_stops(lab, artifacts):
    page, watch = lab
    steps_over_http = []
    page.on("request", lambda r: steps_over_http.append(r.url) if re.search(r"/(step|forward)$", r.url) else None)
    page.click('circle[data-layer="3"][data-unit="2"]')
    page.locator("#chart-step").scroll_into_view_if_needed()   # while playing, views off screen wait
    page.click('button[data-action="play"]')
    page.wait_for_function("Number(document.querySelector('#chart-step').dataset.points) >= 5", timeout=15000)
    first = points(page)
    page.wait_for_timeout(1500)
    assert points(page) > first, "the loss curve grows while playing"
    fps = float(page.evaluate("document.body.dataset.fps || '0'"))
    page.screenshot(path=str(artifacts / "04-playing.png"))
    page.click('button[data-action="play"]')          # Pause
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    page.wait_for_timeout(600)
    stopped_at = (points(page), page.evaluate("document.body.dataset.step"))
    page.wait_for_timeout(1200)
    assert (points(page), page.evaluate("document.body.dataset.step")) == stopped_at, "Pause stops training"
    assert any("/ws/sessions/" in u for u in watch.sockets)
    assert watch.frames_in >= 5, "frames arrive over the WebSocket"
    assert steps_over_http == [], "no polling of /step while playing"
    assert fps > 0
    assert watch.errors == []
    print(f"\nframes drawn per second while playing (default network): {fps:.1f}")
    page.screenshot(path=str(artifacts / "screenshot.png"))
    if os.environ.get("BACKPROP_LAB_UPDATE_SCREENSHOT"):   # refresh the README's picture on purpose only
        page.screenshot(path=str(DOCS / "screenshot.png"))
    page.screenshot(path=str(artifacts / "05-paused-full.png"), full_page=True)


def test_learning_rate_comparison_draws_one_trace_per_rate(lab, artifacts):
    page, watch = lab
    page.fill('[data-role="rates"]', "0.01, 0.3, 3")
    page.fill('[data-role="compare-epochs"]', "1")
    page.click('button[data-action="compare"]')
    page.wait_for_function("document.querySelector('[data-role=compare-status]').textContent.startsWith('done')",
                           timeout=60000)
    rates = page.evaluate("""document.querySelector('[data-role=compare-chart]').data
        .filter((t) => !(t.meta && t.meta.marker)).map((t) => t.meta.rate)""")
    assert rates == [0.01, 0.3, 3]
    lengths = page.evaluate("document.querySelector('[data-role=compare-chart]').data.map((t) => t.y.length)")
    assert all(n > 0 for n in lengths)
    # Continue training with the chosen rate: the weights are kept.
    step = page.evaluate("document.body.dataset.step")
    session = page.evaluate("document.body.dataset.session")
    page.select_option('[data-role="use-rate"]', "0.3")
    page.click('button[data-action="use-rate"]')
    page.wait_for_function("location.search.includes('lr=0.3')")
    assert page.evaluate("document.body.dataset.session") == session
    assert page.evaluate("document.body.dataset.step") == step
    page.locator("#compare").screenshot(path=str(artifacts / "06-compare.png"))
    assert watch.errors == []


def test_a_diverging_rate_shows_the_banner(page, server_url, artifacts):
    page.goto(server_url + "/?data=plane&layers=8:linear,1:linear&loss=mean_squared_error&opt=sgd&lr=100")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.click('button[data-action="epoch"]')
    banner = page.locator("#diverged-banner")
    banner.wait_for(state="visible", timeout=10000)
    text = banner.inner_text()
    assert "diverged" in text and "step" in text and "lower rate" in text
    assert page.locator('button[data-action="step"]').is_disabled()
    page.screenshot(path=str(artifacts / "07-diverged.png"))
    page.click("#diverged-banner [data-fix]")        # lower the rate and reset
    banner.wait_for(state="hidden")
    assert "lr=10" in page.url


def test_the_url_round_trips_the_configuration(page, server_url):
    url = (server_url + "/?data=circle&d.noise=0.1&layers=5:relu,3:sigmoid,2:softmax&loss=categorical_crossentropy"
           "&opt=adam&lr=0.03&init=he_normal&binit=zeros&batch=8&seed=3")
    page.goto(url)
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    form = page.locator("#builder")
    assert form.locator('[name="dataset"]').input_value() == "circle"
    assert [form.locator(f'[name="units"][data-i="{i}"]').input_value() for i in range(3)] == ["5", "3", "2"]
    assert form.locator('[name="activation"][data-i="1"]').input_value() == "sigmoid"
    assert form.locator('[name="optimizer"]').input_value() == "adam"
    assert float(form.locator('[name="learning_rate"]').input_value()) == 0.03
    assert form.locator('[name="batch_size"]').input_value() == "8"
    assert parse_qs(urlparse(page.url).query) == parse_qs(urlparse(url).query) | {
        k: v for k, v in parse_qs(urlparse(page.url).query).items() if k.startswith(("d.", "o."))}

    # A new learning rate keeps the network; a new architecture resets it and says so.
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'")
    session = page.evaluate("document.body.dataset.session")
    form.locator('[name="learning_rate"]').fill("0.01")
    form.locator('[name="learning_rate"]').dispatch_event("change")
    page.wait_for_selector("#notice:has-text('weights were kept')")
    assert page.evaluate("document.body.dataset.session") == session
    assert page.evaluate("document.body.dataset.step") == "1"
    form.locator('[name="units"][data-i="0"]').fill("6")
    form.locator('[name="units"][data-i="0"]').dispatch_event("change")
    page.wait_for_selector("#notice:has-text('new initial weights')")
    assert page.evaluate("document.body.dataset.session") != session
    assert page.evaluate("document.body.dataset.step") == "0"
    assert "layers=6%3Arelu%2C3%3Asigmoid%2C2%3Asoftmax" in page.url and "lr=0.01" in page.url
    page.reload()
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    assert page.locator('#builder [name="units"][data-i="0"]').input_value() == "6"
    assert float(page.locator('#builder [name="learning_rate"]').input_value()) == 0.01
