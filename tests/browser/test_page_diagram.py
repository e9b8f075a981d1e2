"""The network diagram's links (drawn on one canvas since 2026-12-02): each link's colour is the sign
of its weight and its thickness |w|, and hovering one names it and shows the weight the API holds."""
from __future__ import annotations

import re

import numpy as np
import pytest

pytestmark = pytest.mark.browser

# Each link's SVG coordinates, turned into client (CSS pixel) coordinates with the SVG's own matrix.
LINKS = """async () => {
  const { ui } = await import('/static/js/page.js');
  const d = ui.diagram;
  const m = d.svg.getScreenCTM();
  const to = (x, y) => { const p = new DOMPoint(x, y).matrixTransform(m); return [p.x, p.y]; };
  return d.links.map((lk) => ({ index: lk.index, j: lk.j, k: lk.k ?? null, bias: lk.bias,
    a: to(lk.x1, lk.y1), b: to(lk.x2, lk.y2) }));
}"""

# The diagram canvas's pixel (r, g, b) under client point (x, y): the point in the SVG's own units
# (its matrix), then in the canvas's pixels (the diagram's own mapping, toCanvas).
PIXEL = """async ([x, y]) => {
  const { ui } = await import('/static/js/page.js');
  const d = ui.diagram, c = d.canvas;
  const p = new DOMPoint(x, y).matrixTransform(d.svg.getScreenCTM().inverse());
  const [px, py] = d.toCanvas(p.x, p.y);
  const data = c.getContext('2d').getImageData(Math.floor(px), Math.floor(py), 1, 1).data;
  return [data[0], data[1], data[2], data[3]];
}"""


def weights(page, server_url) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{l: (W(l) in the API's (units of l+1, units of l) layout, b(l))} from the session's export."""
    sid = page.evaluate("document.body.dataset.session")
    ex = page.request.get(f"{server_url}/api/sessions/{sid}/export").json()
    dense = [layer for layer in ex["model"]["layers"] if layer["class_name"] == "Dense"]
    out, k = {}, 0
    for i, _ in enumerate(dense):
        kernel = np.asarray(ex["weights"][k]["values"], dtype=np.float64)
        bias = np.asarray(ex["weights"][k + 1]["values"], dtype=np.float64)
        out[i + 1] = (kernel.T, bias)
        k += 2
    return out


def distance(x: float, y: float, link: dict) -> float:
    """From client point (x, y) to the link's segment, in CSS pixels."""
    (a1, b1), (a2, b2) = link["a"], link["b"]
    t = np.clip(((x - a1) * (a2 - a1) + (y - b1) * (b2 - b1)) / ((a2 - a1) ** 2 + (b2 - b1) ** 2), 0, 1)
    return float(np.hypot(x - a1 - t * (a2 - a1), y - b1 - t * (b2 - b1)))


def test_hovering_a_link_shows_its_weight_and_its_colour_is_the_sign(lab, server_url, artifacts):
    page, watch = lab
    page.fill('[name="learning_rate"]', "0.5")
    page.press('[name="learning_rate"]', "Enter")
    for k in range(1, 6):                   # weights that moved away from their initial values
        page.click('button[data-action="step"]')
        page.wait_for_function(f"document.body.dataset.step === '{k}'")
    page.wait_for_function("document.querySelector('#diagram canvas.paint').step === 5")
    api = weights(page, server_url)
    links = page.evaluate(LINKS)
    # 2-8-8-2 and a bias unit under every layer but the last: (2+1)·8 + (8+1)·8 + (8+1)·2 links
    assert len(links) == 3 * 8 + 9 * 8 + 9 * 2
    checked = {"named": 0, "blue": 0, "orange": 0}
    for lk in links[::3]:
        (x1, y1), (x2, y2) = lk["a"], lk["b"]
        x, y = x1 + 0.3 * (x2 - x1), y1 + 0.3 * (y2 - y1)          # off the nodes, near its source
        page.mouse.move(x, y)
        tip = page.locator(".tooltip")
        tip.wait_for(state="visible")
        text = tip.inner_text()
        m = re.search(r"(W|b)\((\d+)\)\[(\d+)(?:,(\d+))?\] = (\S+)", text)
        assert m, text
        kind, l, j = m[1], int(m[2]), int(m[3]) - 1
        W, b = api[l]
        expected = b[j] if kind == "b" else W[j, int(m[4]) - 1]
        assert float(m[5].replace("−", "-")) == pytest.approx(expected, rel=1e-4, abs=1e-6), text
        named = [c for c in links if c["index"] == l and c["j"] == j and c["bias"] == (kind == "b")
                 and (kind == "b" or c["k"] == int(m[4]) - 1)]
        assert len(named) == 1
        # the link it names passes under the pointer (within 3 CSS pixels)
        assert distance(x, y, named[0]) < 3, (lk, text)
        checked["named"] += 1
        alone = all(distance(x, y, c) > 6 for c in links if c is not lk)      # no other link drawn here
        if named[0] is lk and alone and abs(expected) > 0.3 * np.abs(np.concatenate([W.ravel(), b])).max():
            r, g, bl, alpha = page.evaluate(PIXEL, [x, y])
            assert alpha > 0
            # the page's diverging scale: blue (20, 110, 190) above 0, orange (232, 121, 22) below
            if expected > 0:
                assert bl > r, (expected, r, g, bl)
                checked["blue"] += 1
            else:
                assert r > bl, (expected, r, g, bl)
                checked["orange"] += 1
    assert checked["named"] == len(links[::3])
    assert checked["blue"] + checked["orange"] >= 2, checked
    page.mouse.move(5, 5)
    page.locator("#diagram").screenshot(path=str(artifacts / "diagram-links.png"))
    assert watch.errors == []
