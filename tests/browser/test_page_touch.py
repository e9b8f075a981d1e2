"""The page on a tablet (issue 15, item 9): a 768×1024 touch screen (its own browser context with
``has_touch`` and ``is_mobile``). Step is tapped, the timeline strip is dragged back with a finger
(real touch events through the DevTools protocol) and every panel follows, a tap on a diagram node
shows its values above the finger and enlarges its map, a tap on a heatmap cell shows that cell's
value, every button is at least 40 px high and the page never scrolls sideways. Screenshots in
/tmp/touch-*.png (viewport shots: a full-page shot drops the touch emulation)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
WIDTH = 768
IDLE = "document.querySelector('#timeline').dataset.busy !== '1'"


@pytest.fixture
def tablet(browser, server_url, request):
    """A tablet held upright (768×1024 CSS pixels; or the size given as the fixture's param), touch and
    no mouse, with the default session opened."""
    width, height = getattr(request, "param", (WIDTH, 1024))
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True, is_mobile=True,
                                  device_scale_factor=1, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.goto(server_url + "/")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.wait_for_function("document.body.dataset.unitMapsStep === '0'", timeout=15000)
    yield page, errors, context
    context.close()


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def centre(page, selector):
    box = page.locator(selector).first.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def finger_drag(context, page, x_from, x_to, y, moves=12):
    """One finger from x_from to x_to at height y: touchStart, ``moves`` touchMoves, touchEnd."""
    cdp = context.new_cdp_session(page)
    point = lambda x: [{"x": x, "y": y, "id": 1}]  # noqa: E731
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point(x_from)})
    for k in range(1, moves + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                              "touchPoints": point(x_from + (x_to - x_from) * k / moves)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def finger_swipe_up(context, page, x, y, distance=300, moves=15):
    """One finger pushing the page up by ``distance`` px from (x, y), as a student scrolls down."""
    cdp = context.new_cdp_session(page)
    point = lambda yy: [{"x": x, "y": yy, "id": 1}]  # noqa: E731
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point(y)})
    for k in range(1, moves + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": point(y - distance * k / moves)})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.mark.parametrize("tablet", [(768, 1024), (1024, 768)], indirect=True, ids=["upright", "on-its-side"])
def test_the_page_fits_a_tablet_and_its_buttons_fit_a_finger(tablet):
    page, errors, _ = tablet
    assert page.evaluate("matchMedia('(pointer: coarse)').matches"), "the context emulates a touch screen"
    width = page.evaluate("innerWidth")
    assert width in (768, 1024)
    assert scroll_width(page) <= width
    heights = page.evaluate("""[...document.querySelectorAll('button')].filter((b) => b.offsetParent !== null)
      .map((b) => [b.textContent.trim() || b.getAttribute('aria-label'), b.getBoundingClientRect().height])""")
    assert len(heights) >= 15
    assert [h for h in heights if h[1] < 40] == [], "every visible button is at least 40 px high"
    # panels stack: the diagram, the data and the equations each take the whole width of the page
    widths = page.evaluate("[...document.querySelectorAll('.row.three > .card')].map((c) => c.getBoundingClientRect().width)")
    assert all(w > width - 40 for w in widths), widths
    diagram = page.locator("#diagram svg").bounding_box()
    assert diagram["x"] >= 0 and diagram["x"] + diagram["width"] <= width
    radius = page.evaluate("document.querySelector('#diagram circle.neuron').getBoundingClientRect().width / 2")
    assert radius >= 15, f"a node is a finger's size ({radius:.1f} px radius)"
    page.screenshot(path=f"/tmp/touch-top-{width}.png")
    page.locator('button[data-action="step"]').tap()               # the layer panels filled: still no sideways scroll
    page.wait_for_function("document.body.dataset.step === '1'")
    page.locator('section[data-layer="1"]').scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    assert scroll_width(page) <= width
    assert not errors, errors


def test_tap_step_drag_the_timeline_back_and_tap_a_node(tablet):
    page, errors, context = tablet
    page.locator('circle[data-layer="3"][data-unit="2"]').tap()
    page.wait_for_selector(".tooltip", state="visible")
    tip = page.inner_text(".tooltip")
    assert "layer 3, unit 2" in tip
    assert "not computed yet" in tip                          # before any step: nothing to show yet
    page.wait_for_selector("#unit-zoom:not([hidden])")
    assert "a(3) unit 2" in page.inner_text("#unit-zoom")

    seen = {}
    for k in range(1, 7):
        page.locator('button[data-action="step"]').tap()
        page.wait_for_function(f"document.body.dataset.step === '{k}' && {IDLE}")
        seen[k] = (page.inner_text("#equations"), page.inner_text('#controls [data-role="loss"]'),
                   page.get_attribute('.layer-panel[data-layer="1"] figure[data-key="W"]', "data-sum"))
    assert len({s[1] for s in seen.values()}) > 1, "the loss changes from step to step"
    page.wait_for_function("document.querySelector('#timeline').dataset.head === '6'")

    # a finger on the strip: from the thumb (step 6) back to step 2
    page.evaluate("""window.touchDown = []; document.querySelector('[data-role="tl-slider"]')
      .addEventListener('pointerdown', (ev) => window.touchDown.push(ev.pointerType))""")
    page.locator('[data-role="tl-slider"]').scroll_into_view_if_needed()
    box = page.locator('[data-role="tl-slider"]').bounding_box()
    x = lambda k: box["x"] + 8 + (box["width"] - 16) * k / 6  # noqa: E731 - the lane is inset by 8 px
    finger_drag(context, page, x(6), x(2), box["y"] + box["height"] / 2)
    page.wait_for_function(f"document.body.dataset.step === '2' && document.body.dataset.phase === 'ready' && {IDLE}",
                           timeout=15000)
    page.wait_for_timeout(300)
    assert page.evaluate("window.touchDown") == ["touch"]
    assert page.inner_text('[data-role="tl-step"]') == "step 2"
    assert page.inner_text("#equations") == seen[2][0], "the equations show step 2 as it was"
    assert page.inner_text('#controls [data-role="loss"]') == seen[2][1]
    assert page.get_attribute('.layer-panel[data-layer="1"] figure[data-key="W"]', "data-sum") == seen[2][2]
    page.wait_for_function("document.body.dataset.unitMapsStep === '2'", timeout=15000)
    page.screenshot(path="/tmp/touch-timeline.png")

    # a tap on a node at step 2: its values above the finger, and its map enlarged
    page.locator('circle[data-layer="2"][data-unit="1"]').scroll_into_view_if_needed()
    cx, cy = centre(page, 'circle[data-layer="2"][data-unit="1"]')
    page.touchscreen.tap(cx, cy)
    page.wait_for_selector(".tooltip", state="visible")
    tip = page.inner_text(".tooltip")
    assert "layer 2, unit 1" in tip and "z(2) = " in tip and "a(2) = " in tip
    tip_box = page.locator(".tooltip").bounding_box()
    assert tip_box["y"] + tip_box["height"] < cy, "the tip is above the finger, not under it"
    page.wait_for_selector('#unit-zoom:has-text("a(2) unit 1")', timeout=10000)   # redrawn after the tap
    assert "a(2) unit 1" in page.inner_text("#unit-zoom") and "(step 2)" in page.inner_text("#unit-zoom")
    page.screenshot(path="/tmp/touch-diagram.png")

    # a tap on a heatmap cell: that cell's value; a tap elsewhere hides it
    cell = '.layer-panel[data-layer="1"] figure[data-key="W"] canvas'
    page.locator(cell).scroll_into_view_if_needed()
    box = page.locator(cell).bounding_box()
    page.touchscreen.tap(box["x"] + 2, box["y"] + 2)              # row 1, column 1: W(1)[1,1]
    page.wait_for_selector(".tooltip", state="visible")
    first = page.evaluate(f"JSON.parse(document.querySelector('{cell}').closest('figure').dataset.first)[0]")
    tip = page.inner_text(".tooltip")
    assert "to unit 1, from unit 1" in tip
    shown = float(tip.split("\n")[-1].replace("−", "-"))
    assert shown == pytest.approx(first, rel=1e-5, abs=1e-9)
    page.screenshot(path="/tmp/touch-heatmap.png")
    page.touchscreen.tap(WIDTH - 6, box["y"] + box["height"] + 30)
    page.wait_for_selector(".tooltip", state="hidden")
    assert scroll_width(page) <= WIDTH, "nothing on the page is wider than the screen"
    assert not errors, errors


def test_a_finger_scrolls_the_page_over_every_chart(tablet):
    """Plotly's zoom-box drag took a finger's swipe over a chart, so the page stopped scrolling
    under the loss, health and decision-boundary charts (most of the screen's width at 768 px)."""
    page, errors, context = tablet
    page.locator('button[data-action="epoch"]').tap()
    page.wait_for_function("Number(document.querySelector('#chart-epoch').dataset.points || 0) >= 1", timeout=20000)
    for chart in ('[data-role="boundary"]', "#chart-epoch", "#chart-health", "#chart-branches"):
        page.locator(chart).scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -150)")
        page.wait_for_timeout(200)
        box = page.locator(chart).bounding_box()
        y = min(900, max(350, box["y"] + box["height"] / 2))
        before = page.evaluate("scrollY")
        finger_swipe_up(context, page, box["x"] + box["width"] / 2, y)
        page.wait_for_timeout(400)
        assert page.evaluate("scrollY") - before > 150, f"a swipe over {chart} scrolls the page"
    assert not errors, errors



def test_a_finger_lifted_on_a_node_picks_it_without_a_click(tablet):
    """On a busy page Chromium sometimes sends a tap's pointerdown and pointerup but no click (seen in
    a CI run, and 2 in 10 runs here with the CPU loaded): the node was not picked and its map not
    enlarged. The page picks on the finger's pointerup, and a real tap (which also clicks) picks once."""
    page, errors, context = tablet
    page.locator('button[data-action="step"]').tap()
    page.wait_for_function(f"document.body.dataset.step === '1' && {IDLE}")
    page.wait_for_function("document.body.dataset.unitMapsStep === '1'", timeout=15000)
    node = 'circle[data-layer="2"][data-unit="1"]'
    page.locator(node).scroll_into_view_if_needed()
    page.evaluate(f"""(() => {{ const c = document.querySelector('{node}');
      const at = {{ bubbles: true, pointerType: 'touch', isPrimary: true, pointerId: 7 }};
      c.dispatchEvent(new PointerEvent('pointerdown', at)); c.dispatchEvent(new PointerEvent('pointerup', at)); }})()""")
    page.wait_for_selector('#unit-zoom:has-text("a(2) unit 1")', timeout=5000)
    assert page.evaluate(f"document.querySelector('{node}').classList.contains('selected')")

    page.evaluate("""window.zoomTitles = 0; new MutationObserver((records) => { window.zoomTitles += records.length; })
      .observe(document.querySelector('#unit-zoom [data-role="zoom-title"]'), { childList: true })""")
    page.locator('circle[data-layer="3"][data-unit="2"]').tap()
    page.wait_for_selector('#unit-zoom:has-text("a(3) unit 2")', timeout=5000)
    page.wait_for_timeout(600)                                    # a click after the pointerup would come by now
    assert page.evaluate("window.zoomTitles") == 1, "one tap, one pick"
    assert page.evaluate("document.querySelectorAll('#diagram circle.selected').length") == 1
    assert not errors, errors
