"""The enlarged unit map's colour bar (issue 15, item 7; static/js/colorbar.js): a click on a node
enlarges its map with a bar that states the scale in numbers — lo, mid and hi — recomputed here
from GET /unit-maps (tanh: ±max|a| with 0 in the middle; softmax: 0 … 1), painted with the map's
own colours (orange at lo, white at mid, blue at hi). Screenshot in /tmp/colorbar-zoom.png."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
NEG, MID, POS = (232, 121, 22), (247, 247, 247), (20, 110, 190)
ENDS = """() => { const c = document.querySelector('#unit-zoom .colorbar canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, 1).data; const n = c.width;
  const px = (i) => [d[4 * i], d[4 * i + 1], d[4 * i + 2]];
  return [px(0), px(Math.floor((n - 1) / 2)), px(n - 1)]; }"""


def bar(page):
    return page.evaluate("({...document.querySelector('#unit-zoom .colorbar').dataset})")


def ticks(page):
    return page.locator("#unit-zoom .colorbar-ticks span").all_inner_texts()


def near(rgb, want, tol=12):
    return all(abs(a - b) <= tol for a, b in zip(rgb, want))


def test_the_enlarged_map_has_a_colour_bar_with_its_scale(lab):
    page, watch = lab
    page.fill('[name="learning_rate"]', "0.5")
    page.press('[name="learning_rate"]', "Enter")
    for k in range(1, 11):
        page.click('button[data-action="step"]')
        page.wait_for_function(f"document.body.dataset.step === '{k}'")
    page.wait_for_function("document.body.dataset.unitMapsStep === '10'", timeout=15000)
    sid = page.evaluate("document.body.dataset.session")
    maps = page.evaluate(f"fetch('/api/sessions/{sid}/unit-maps?resolution=32').then((r) => r.json())")
    assert maps["step"] == 10

    # a(2), tanh: negative values, so a symmetric scale ±max(|min|, |max|) around 0
    hidden = maps["layers"][0]
    m = max(abs(hidden["min"]), abs(hidden["max"]))
    assert hidden["min"] < 0 < m <= 1
    page.click('circle[data-layer="2"][data-unit="3"]')
    page.wait_for_selector("#unit-zoom:not([hidden]) .colorbar")
    got = bar(page)
    assert float(got["lo"]) == pytest.approx(-m, rel=1e-5)
    assert float(got["mid"]) == 0
    assert float(got["hi"]) == pytest.approx(m, rel=1e-5)
    lo, mid, hi = (float(t.replace("−", "-")) for t in ticks(page))
    assert (lo, mid, hi) == (pytest.approx(-m, abs=5e-3), 0, pytest.approx(m, abs=5e-3))
    left, centre, right = page.evaluate(ENDS)
    assert near(left, NEG) and near(right, POS) and near(centre, MID, tol=25), (left, centre, right)
    page.locator("#unit-zoom").screenshot(path="/tmp/colorbar-zoom.png")

    # a(4), softmax: values in 0 … 1, so the scale is 0 … 1 with 0.5 in the middle
    out = maps["layers"][-1]
    assert 0 <= out["min"] and out["max"] <= 1
    page.click('circle[data-layer="4"][data-unit="1"]')
    page.wait_for_function("document.querySelector('#unit-zoom .colorbar').dataset.hi === '1'")
    assert bar(page) == {"lo": "0", "mid": "0.5", "hi": "1"}
    assert ticks(page) == ["0", "0.5", "1"]
    assert page.locator("#unit-zoom .colorbar").count() == 1        # one bar, redrawn, never a second
    assert not watch.errors, watch.errors
