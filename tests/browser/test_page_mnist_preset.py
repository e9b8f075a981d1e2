"""The lecture's MNIST preset on the page (issue 15, item 7): with MNIST available (the test server
reads $BACKPROP_LAB_DATA; skipped, saying how to get the files, when they are not found), one click
builds 784-128-64-10 ReLU + softmax, SGD η 0.05 with momentum 0.9, batch 128 — in the session's
config and in the builder — and one Step fills the panels: W(1) 128×784, z and a for all 128
samples, the batch's digits, and a first loss near ln 10 (ten classes, nothing learnt yet).
Screenshot in /tmp/preset-mnist.png."""
from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def mnist_env(mnist_dir, monkeypatch):
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(mnist_dir))     # the test server runs in this process


def shape(page, layer, key):
    return page.get_attribute(f'section[data-layer="{layer}"] figure.heatmap[data-key="{key}"]', "data-shape")


def test_the_mnist_preset_builds_the_lecture_network_and_steps(lab, mnist_env):
    page, watch = lab
    page.reload()                                           # the options again, now with MNIST available
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    first = page.evaluate("document.body.dataset.session")
    page.click('button[data-preset="lecture_mnist"]')
    page.wait_for_function(f"document.body.dataset.session !== '{first}' && document.body.dataset.session !== ''",
                           timeout=60000)
    page.wait_for_selector("#dataview[data-kind=mnist]", timeout=60000)
    sid = page.evaluate("document.body.dataset.session")
    config = page.evaluate(f"fetch('/api/sessions/{sid}').then((r) => r.json())")["config"]
    assert config["dataset"]["name"] == "mnist"
    assert [(x["units"], x["activation"]) for x in config["layers"]] == [(128, "relu"), (64, "relu"), (10, "softmax")]
    assert config["optimizer"]["name"] == "sgd"
    assert config["optimizer"]["learning_rate"] == 0.05 and config["optimizer"]["momentum"] == 0.9
    assert config["batch_size"] == 128
    assert config["loss"] == "categorical_crossentropy"
    # the builder shows the same network
    assert [page.input_value(f'#builder [name="units"][data-i="{i}"]') for i in range(3)] == ["128", "64", "10"]
    assert [page.input_value(f'#builder [name="activation"][data-i="{i}"]') for i in range(3)] == ["relu", "relu", "softmax"]
    assert float(page.input_value('[name="learning_rate"]')) == 0.05
    assert float(page.input_value('[name="o.momentum"]')) == 0.9
    assert page.input_value('[name="batch_size"]') == "128"
    assert "data=mnist" in page.url and "batch=128" in page.url

    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'", timeout=30000)
    loss = float(page.inner_text('#controls [data-role="loss"]'))
    assert abs(loss - math.log(10)) < 0.5, f"a first loss near ln 10 = 2.303, not {loss}"
    assert int(page.get_attribute("#dataview canvas.batch", "data-samples")) == 12
    assert "sample 1 of 128" in page.inner_text("#sample-label")
    for layer in (1, 2, 3):
        page.locator(f'section[data-layer="{layer}"]').scroll_into_view_if_needed()   # big panels draw on screen
        page.wait_for_function(f"document.querySelector('section[data-layer=\"{layer}\"] figure.heatmap[data-key=\"dW\"]')"
                               ".dataset.state === 'filled'", timeout=15000)
    assert shape(page, 1, "W") == "[128,784]"
    assert shape(page, 1, "z") == "[128,128]" and shape(page, 1, "a") == "[128,128]"
    assert shape(page, 2, "W") == "[64,128]" and shape(page, 2, "delta") == "[128,64]"
    assert shape(page, 3, "a") == "[128,10]" and shape(page, 3, "dW_applied") == "[10,64]"
    page.locator("#dataview").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/preset-mnist.png")
    assert_units_show_w1(page, sid)
    assert_bars_show_the_output(page)
    assert not watch.errors, watch.errors


# The batch canvas, cell by cell (its geometry in CSS pixels, times the backing store's scale): bar
# heights, the image's pixels at its 28×28 grid's centres, and the labels it drew, beside the
# view's x, y and a(L).
BARS = """async () => {
  const { app } = await import('/static/js/page.js');
  const v = app.view, out = v.layers[v.layers.length - 1].a, x = v.batch.x, y = v.batch.y;
  const c = document.querySelector('#dataview canvas.batch'), g = c.geometry, k = c.width / g.width;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const at = (px, py) => { const o = (Math.floor(py * k) * c.width + Math.floor(px * k)) * 4; return [d[o], d[o + 1], d[o + 2], d[o + 3]]; };
  const argmax = (m, i) => { let b = 0; for (let j = 1; j < m.cols; j += 1) if (m.data[i * m.cols + j] > m.data[i * m.cols + b]) b = j; return b; };
  return Array.from({ length: g.n }, (_, i) => {
    const x0 = (i % g.cols) * (g.cellW + g.gap), y0 = Math.floor(i / g.cols) * (g.cellH + g.gap);
    const n = out.cols, w = (g.cellW - (n - 1)) / n, top = y0 + g.imageH + g.captionH;
    const heights = Array.from({ length: n }, (_, j) => {
      let h = 0;
      for (let yy = 0; yy < g.barH; yy += 1) if (at(x0 + j * (w + 1) + w / 2, top + yy + 0.5)[3] > 128) h += 1;
      return h;
    });
    const grey = [], want = [];
    for (let r = 0; r < 28; r += 3) for (let q = 0; q < 28; q += 3) {
      grey.push(at(x0 + 1 + 2 * q + 1, y0 + 1 + 2 * r + 1)[0]);
      want.push(255 - 255 * x.data[i * 784 + r * 28 + q]);
    }
    return { heights, p: Array.from(out.data.subarray(i * n, (i + 1) * n)), height: g.barH, grey, want,
      drawn: c.cells[i], t: argmax(y, i), predicted: argmax(out, i) };
  });
}"""


def assert_bars_show_the_output(page):
    """Each cell of the batch canvas: the digit's pixels are its 784 values (0 white … 1 black), its
    labels are argmax y and argmax a(L), and bar k is p(k) = a(L)[sample, k] tall (at least a pixel)."""
    cells = page.evaluate(BARS)
    assert len(cells) == 12
    for cell in cells:
        expected = [max(1, round(p * cell["height"])) for p in cell["p"]]
        assert all(abs(h - e) <= 1 for h, e in zip(cell["heights"], expected)), cell["heights"]
        assert all(abs(g - w) <= 1.5 for g, w in zip(cell["grey"], cell["want"])), (cell["grey"], cell["want"])
        assert cell["drawn"]["t"] == cell["t"] and cell["drawn"]["p"] == cell["predicted"]


# Every pixel of the "W(1) as images" canvas: 32 tiles of 28×28, 10 a row, 31 canvas pixels apart.
TILES = """() => {
  const c = document.querySelector('#dataview [data-role="units"] canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const out = [];
  for (let k = 0; k < Number(c.dataset.units); k += 1) {
    const x0 = (k % 10) * 31, y0 = Math.floor(k / 10) * 31, tile = [];
    for (let i = 0; i < 28; i += 1) for (let j = 0; j < 28; j += 1) {
      const o = ((y0 + i) * c.width + x0 + j) * 4;
      tile.push([d[o], d[o + 2]]);
    }
    out.push(tile);
  }
  return out;
}"""


def assert_units_show_w1(page, sid):
    """Unit k's image is row k of W(1) (after the step), blue where w > 0 and orange where w < 0."""
    import numpy as np
    ex = page.evaluate(f"fetch('/api/sessions/{sid}/export').then((r) => r.json())")
    W1 = np.asarray(ex["weights"][0]["values"], dtype=np.float64).T      # (128, 784): the API layout
    tiles = np.asarray(page.evaluate(TILES), dtype=np.float64)          # (32, 784, [red, blue])
    assert tiles.shape == (32, 784, 2)
    for k in (0, 7, 31):
        row = W1[k]
        strong = np.abs(row) > 0.5 * np.abs(row).max()                  # colours far from white
        blue_over_red = tiles[k, :, 1] - tiles[k, :, 0]
        assert strong.sum() > 0
        assert np.all(np.sign(blue_over_red[strong]) == np.sign(row[strong])), k


def test_mnist_page_says_what_it_draws_and_how_old_the_confusion_matrix_is(lab, mnist_env):
    """The diagram's help speaks of the unit maps only where there are some (a 2-D plane); while
    playing, the confusion matrix's note says it is counted only every few seconds, after Pause not."""
    page, watch = lab
    page.reload()
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    assert page.is_visible("#maps-help")                    # xor: every unit draws its map
    first = page.evaluate("document.body.dataset.session")
    page.click('button[data-preset="lecture_mnist"]')
    page.wait_for_function(f"document.body.dataset.session !== '{first}' && document.body.dataset.session !== ''",
                           timeout=60000)
    page.wait_for_selector("#dataview[data-kind=mnist]", timeout=60000)
    assert not page.is_visible("#maps-help")
    assert "Click a unit to see its equations" in page.inner_text(".card:has(#diagram) .help")
    page.evaluate("window.scrollTo(0, 0)")
    page.click('button[data-action="play"]')
    note = '#dataview [data-role="confusion-note"]'
    page.wait_for_function(f"document.querySelector('{note}').textContent.includes('while playing')", timeout=60000)
    assert "after epoch" in page.inner_text(note)
    page.click('button[data-action="play"]')
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    page.wait_for_function(f"!document.querySelector('{note}').textContent.includes('while playing')", timeout=30000)
    epoch = page.inner_text('#controls [data-role="epoch"]')
    page.wait_for_function(f"document.querySelector('{note}').textContent.includes('after epoch {epoch},')",
                           timeout=30000)                  # after Pause: the matrix of the epoch shown
    assert not watch.errors, watch.errors
