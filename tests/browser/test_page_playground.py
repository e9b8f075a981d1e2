"""TensorFlow Playground parity on the page (issue 15): every unit's map over the input plane drawn
inside its node of the diagram (inputs too) and enlarged on a click, input feature toggles,
regularization with its penalty, lecture presets, and the training-health banner. Screenshots in
/tmp/playground-*.png."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

PIXELS = """(sel) => [...document.querySelectorAll(sel)].map((c) => {
  if (!c.width) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = 0, nonwhite = 0;
  for (let i = 0; i < d.length; i += 4) { s += d[i] * 3 + d[i + 1] * 5 + d[i + 2] * 7; if (d[i] + d[i + 1] + d[i + 2] < 730) nonwhite += 1; }
  return [s, nonwhite];
})"""


# For every node: the mean colour of the middle half of its square on the diagram's canvas, and of
# the middle half of its map (the map is scaled into a square of side 1.45 r around the centre).
IN_NODES = """async () => {
  const { ui } = await import('/static/js/page.js');
  const d = ui.diagram, c = d.canvas, k = d.fit.k, ctx = c.getContext('2d');
  const mean = (data) => { const s = [0, 0, 0]; for (let i = 0; i < data.length; i += 4) for (let q = 0; q < 3; q += 1) s[q] += data[i + q]; return s.map((v) => v / (data.length / 4)); };
  const side = d.radius * 1.45;
  return ui.unitmaps.canvases.flatMap((row, li) => row.map((m, j) => {
    const n = d.nodes[li][j], half = Math.floor(side * k / 4);
    const [px, py] = d.toCanvas(n.cx, n.cy);
    const got = mean(ctx.getImageData(Math.round(px) - half, Math.round(py) - half, 2 * half, 2 * half).data);
    const q = m.width / 4;
    return [got, mean(m.getContext('2d').getImageData(q, q, 2 * q, 2 * q).data)];
  }));
}"""


def maps_at(page, step):
    page.wait_for_function(f"document.body.dataset.unitMapsStep === '{step}'", timeout=15000)


def test_unit_maps_drawn_in_the_diagram(lab):
    page, watch = lab
    maps_at(page, 0)
    # the default net: 2 inputs, 8, 8 and 2 units → a canvas per node, each with coloured pixels
    assert page.locator("#diagram canvas.unit-map-canvas").count() == 2 + 8 + 8 + 2
    before = page.evaluate(PIXELS, "#diagram canvas.unit-map-canvas")
    assert all(p and p[1] > 0 for p in before), before
    assert page.locator("#unit-legend canvas.cbar").count() == 4
    # and each is what the diagram shows inside its node: the middle of the node's square on the
    # diagram's canvas has the mean colour of the middle of the map (within 24 levels of 255: the
    # square is some 18 pixels, so a pixel of rounding moves its mean; without the maps it fails)
    for got, want in page.evaluate(IN_NODES):
        assert all(abs(g - w) <= 24 for g, w in zip(got, want)), (got, want)
    page.fill('[name="learning_rate"]', "0.5")
    page.press('[name="learning_rate"]', "Enter")
    for k in range(1, 31):
        page.click('button[data-action="step"]')
        page.wait_for_function(f"document.body.dataset.step === '{k}'")
    maps_at(page, 30)
    after = page.evaluate(PIXELS, "#diagram canvas.unit-map-canvas")
    assert after[:2] == before[:2]                                # the inputs' maps do not train
    assert sum(a != b for a, b in zip(after[2:], before[2:])) >= 10
    page.click('circle[data-layer="2"][data-unit="3"]')
    page.wait_for_selector("#unit-zoom:not([hidden])")
    assert "a(2) unit 3" in page.inner_text("#unit-zoom")
    page.screenshot(path="/tmp/playground-maps.png", full_page=False)
    assert not watch.errors, watch.errors


def test_unit_maps_follow_play_throttled(lab):
    page, watch = lab
    maps_at(page, 0)
    page.click('button[data-action="play"]')
    page.wait_for_timeout(3000)
    fps = page.evaluate("document.body.dataset.fps")
    page.screenshot(path="/tmp/playground-playing.png")
    print(f"fps while playing with unit maps: {fps}")                # reported, never asserted
    page.click('button[data-action="play"]')                            # Pause
    page.wait_for_function("document.body.dataset.unitMapsStep === document.body.dataset.step", timeout=15000)
    n = sum("/unit-maps" in u for u in watch.requests)
    assert 2 <= n <= 3 * 4 + 3, n                                 # a few per second, not one per frame
    assert not watch.errors, watch.errors


def test_a_feature_toggle_rebuilds_with_more_input_units(lab):
    page, watch = lab
    maps_at(page, 0)
    first = page.evaluate("document.body.dataset.session")
    page.check('input[data-feature="x1^2"]')
    page.check('input[data-feature="sin_x1"]')
    page.wait_for_function(f"document.body.dataset.session !== '{first}' && document.body.dataset.session !== ''")
    page.wait_for_function("document.querySelectorAll('#diagram circle[data-layer=\"1\"]').length === 4", timeout=15000)
    page.wait_for_function("[...document.querySelectorAll('#diagram canvas[data-layer=\"1\"]')].every((c) => c.dataset.drawn)", timeout=15000)
    assert "x1%5E2" in page.url and "sin_x1" in page.url              # the link keeps the features
    assert page.is_checked('input[data-feature="x1^2"]')
    inputs = page.evaluate(PIXELS, '#diagram canvas[data-layer="1"]')
    assert len(inputs) == 4 and all(p[1] > 0 for p in inputs)
    assert len({p[0] for p in inputs}) == 4                       # four different maps
    page.screenshot(path="/tmp/playground-features.png")
    assert not watch.errors, watch.errors


def test_regularization_shows_the_penalty(lab):
    page, watch = lab
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'")
    assert page.inner_text('[data-role="penalty"]') == ""
    session = page.evaluate("document.body.dataset.session")
    page.select_option('[name="reg_kind"]', "l2")
    page.fill('[name="reg_rate"]', "0.01")
    page.press('[name="reg_rate"]', "Enter")
    page.wait_for_function("location.search.includes('reg=0%3A0.01') || location.search.includes('reg=0:0.01')")
    page.click('circle[data-layer="3"][data-unit="1"]')
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '2'")
    assert page.evaluate("document.body.dataset.session") == session   # the weights were kept (PATCH)
    assert "penalty" in page.inner_text('[data-role="penalty"]')
    assert "l1·sign(w) + 2·l2·w" in page.inner_text("#equations")
    page.screenshot(path="/tmp/playground-regularization.png")
    assert not watch.errors, watch.errors


def test_a_preset_builds_its_network(lab):
    page, watch = lab
    first = page.evaluate("document.body.dataset.session")
    page.click('button[data-preset="lecture_figure"]')
    page.wait_for_function(f"document.body.dataset.session !== '{first}' && document.body.dataset.session !== ''")
    page.wait_for_function("document.querySelectorAll('#builder .layer-list li').length === 4")
    assert page.input_value('[name="dataset"]') == "spiral"
    assert page.locator('#diagram circle[data-layer="4"]').count() == 6
    assert page.locator('#diagram circle[data-layer="5"]').count() == 2
    maps_at(page, 0)
    assert not watch.errors, watch.errors


def test_a_too_large_rate_gets_a_warning_banner(lab):
    page, watch = lab
    page.fill('[name="learning_rate"]', "8")
    page.press('[name="learning_rate"]', "Enter")
    page.wait_for_function("location.search.includes('lr=8')")
    page.click('button[data-action="epoch"]')
    page.wait_for_selector("#health-banner:not([hidden]) li[data-kind]", timeout=20000)
    text = page.inner_text("#health-banner")
    assert "η = 8" in text and "while playing" not in text
    page.click('button[data-action="play"]')                  # playing: the banner says it lags
    page.wait_for_selector('#health-banner [data-role="lag"]', timeout=20000)
    assert "checked again every 3 s" in page.inner_text("#health-banner")
    page.click('button[data-action="play"]')                  # Pause: checked at the last step
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    page.wait_for_function("""() => !document.querySelector('#health-banner [data-role="lag"]')
        && document.querySelector('#health-banner').textContent.includes('at step '
            + document.querySelector('#controls [data-role="step"]').textContent)""", timeout=20000)
    button = page.locator('#health-banner button[data-action="use-suggested"]')
    suggested = float(button.get_attribute("data-rate"))
    assert 0 < suggested < 8
    page.screenshot(path="/tmp/playground-health.png")
    button.click()
    # the rate the button held when clicked (a check that lands after Pause may re-render it with the
    # range test of a later step): the URL, the field and the banner's offer agree, and it is below 8
    page.wait_for_function("new URLSearchParams(location.search).get('lr') !== '8'")
    used = float(page.evaluate("new URLSearchParams(location.search).get('lr')"))
    assert float(page.input_value('[name="learning_rate"]')) == pytest.approx(used)
    assert 0 < used < 8
    page.wait_for_selector("#health-banner", state="hidden")
    assert not watch.errors, watch.errors


def test_dropout_shows_its_mask_in_the_layer_panel(lab):
    page, watch = lab
    first = page.evaluate("document.body.dataset.session")
    page.fill('input[name="dropout"][data-i="0"]', "0.5")
    page.press('input[name="dropout"][data-i="0"]', "Enter")
    page.wait_for_function(f"document.body.dataset.session !== '{first}' && document.body.dataset.session !== ''")
    assert "dropout=0.5" in page.url
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'")
    mask = page.locator('.layer-panel[data-layer="1"] figure[data-key="mask"]')
    page.wait_for_function("document.querySelector('.layer-panel[data-layer=\"1\"] figure[data-key=\"mask\"]').dataset.state === 'filled'")
    assert mask.get_attribute("data-shape") == "[16,8]"
    assert page.locator('.layer-panel[data-layer="2"] figure[data-key="mask"]').count() == 0
    mask.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/playground-dropout.png")
    assert not watch.errors, watch.errors


def test_sliders_noise_resets_and_batch_keeps(lab):
    page, watch = lab
    first = page.evaluate("document.body.dataset.session")
    page.locator('input[type="range"][name="d.noise"]').fill("0.3")
    page.wait_for_function(f"document.body.dataset.session !== '{first}' && document.body.dataset.session !== ''")
    assert "d.noise=0.3" in page.url
    assert "starts again" in page.inner_text("#notice")
    assert "30 %" in page.inner_text("#builder")
    second = page.evaluate("document.body.dataset.session")
    page.locator('input[name="batch_range"]').fill("8")
    page.wait_for_function("location.search.includes('batch=8')")
    assert page.evaluate("document.body.dataset.session") == second    # the weights were kept
    page.screenshot(path="/tmp/playground-sliders.png")
    assert not watch.errors, watch.errors


def test_a_batch_change_at_once_survives_an_older_timeline_answer(page, server_url):
    """The batch size changed before the new session's first timeline came back: that older
    answer (batch 16), arriving while the PATCH is on its way, must not put the builder and the
    URL back to 16 while the server has 8 (it once did, seen as a flaky test under load)."""
    held = {}
    timeline = re.compile(r"/api/sessions/[^/?]+/timeline")
    page.route(timeline, lambda route: held.setdefault("timeline", (route, route.fetch())))
    page.goto(server_url + "/?data=xor&batch=16")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.wait_for_function("document.querySelector('input[name=\"batch_range\"]') !== null")
    page.wait_for_timeout(300)
    assert "timeline" in held, "the page asked for its timeline"
    page.route("**/api/sessions/*", lambda route: held.setdefault("patch", (route, route.fetch()))
               if route.request.method == "PATCH" else route.fallback())
    page.locator('input[name="batch_range"]').fill("8")
    page.wait_for_timeout(300)
    assert "patch" in held and held["patch"][1].status == 200      # the server has batch 8 now
    route, answer = held.pop("timeline")
    route.fulfill(response=answer)                                 # the older answer: batch 16
    page.wait_for_function("document.body.dataset.branches !== undefined")
    route, answer = held.pop("patch")
    route.fulfill(response=answer)
    page.wait_for_timeout(300)
    assert "batch=8" in page.url
    assert page.input_value('input[name="batch_size"]') == "8"
    sid = page.evaluate("document.body.dataset.session")
    assert page.evaluate(f"fetch('/api/sessions/{sid}').then((r) => r.json())")["config"]["batch_size"] == 8


def test_a_wide_layer_shows_its_first_units_and_all_on_demand(page, server_url):
    watch_errors = []
    page.on("pageerror", lambda e: watch_errors.append(str(e)))
    page.goto(server_url + "/?data=xor&layers=12:tanh,2:softmax&loss=categorical_crossentropy&opt=sgd&lr=0.1")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    maps_at(page, 0)
    assert page.locator('#diagram canvas[data-layer="2"]').count() == 8
    page.click("#unit-all")
    page.wait_for_function("document.querySelectorAll('#diagram canvas[data-layer=\"2\"]').length === 12")
    page.wait_for_function("[...document.querySelectorAll('#diagram canvas.unit-map-canvas')].every((c) => c.dataset.drawn)")
    page.locator("#diagram").screenshot(path="/tmp/playground-showall.png")
    page.click("#unit-all")
    page.wait_for_function("document.querySelectorAll('#diagram canvas[data-layer=\"2\"]').length === 8")
    assert not watch_errors, watch_errors
