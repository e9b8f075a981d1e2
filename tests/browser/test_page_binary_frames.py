"""The page reads binary WebSocket frames (static/js/wire.js; the default, "encoding": "bin") and
shows the numbers the server's JSON answer has for the same step: after Play and Pause, what the
page holds for z, a, δ, ∂cost/∂W and the updated W equals POST /seek's JSON frame of that step, with
binary frames as with ?wire=json. The decision boundary while playing is an image, after Pause a
heatmap of the step's grid again; the timeline's head while playing is never behind the step."""
from __future__ import annotations

import httpx
import numpy as np
import pytest

pytestmark = pytest.mark.browser

VIEW = """async () => {
    const { app } = await import('/static/js/page.js');
    const mat = (m) => (m ? { shape: [m.rows, m.cols], data: Array.from(m.data) } : null);
    return { step: app.view.step, layers: app.view.layers.map((l) => ({ index: l.index, z: mat(l.z), a: mat(l.a),
        delta: mat(l.delta), dW: mat(l.dW), W: mat(l.W), W_fwd: mat(l.W_fwd) })) };
}"""


def play_pause(page, server_url: str, wire: str) -> tuple[dict, list[str]]:
    """Play the default xor network a while with ``?wire=``, pause: the page's view, the frames' kinds."""
    kinds = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: kinds.append(type(p).__name__)))
    page.goto(f"{server_url}/?data=xor&wire={wire}")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.click('button[data-action="play"]')
    page.wait_for_function("Number(document.body.dataset.step) > 15", timeout=15000)
    page.click('button[data-action="play"]')
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    page.wait_for_timeout(300)
    return page.evaluate(VIEW), kinds


def values(tensor: dict) -> np.ndarray:
    a = np.asarray(tensor["values"], dtype=np.float32)     # the page keeps float32, as the engine
    return a.reshape(a.shape[0], -1)


@pytest.mark.parametrize("wire", ["bin", "json"])
def test_after_pause_the_page_holds_the_json_frame_of_its_step(page, server_url, wire):
    view, kinds = play_pause(page, server_url, wire)
    assert ("bytes" in kinds) == (wire == "bin")              # binary messages only when asked for
    sid = page.evaluate("document.body.dataset.session")
    frame = httpx.post(f"{server_url}/api/sessions/{sid}/seek", json={"step": view["step"]}, timeout=30).json()
    assert frame["step"] == view["step"] > 15
    for mine, theirs in zip(view["layers"], frame["layers"]):
        assert mine["index"] == theirs["index"]
        for key, field in (("z", "z"), ("a", "a"), ("delta", "delta"), ("dW", "dW"), ("W_fwd", "W"),
                           ("W", "W_updated")):
            got = np.asarray(mine[key]["data"], dtype=np.float32).reshape(mine[key]["shape"])
            np.testing.assert_array_equal(got, values(theirs[field]), err_msg=f"{key} of layer {mine['index']}")


def test_the_boundary_is_an_image_while_playing_and_a_heatmap_after_pause(page, server_url):
    page.goto(f"{server_url}/?data=xor")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.locator("#dataview").scroll_into_view_if_needed()
    page.click('button[data-action="play"]')
    page.wait_for_function("Number(document.body.dataset.step) > 30", timeout=15000)
    page.wait_for_timeout(1500)                                # a grid fetched while playing
    playing = page.evaluate("""() => { const el = document.querySelector('[data-role=boundary]');
        return { heatmaps: el.data.filter((t) => t.type === 'heatmap').length, images: el.layout.images.length,
                 src: (el.layout.images[0] || {}).source || '' }; }""")
    assert playing["heatmaps"] == 0 and playing["images"] == 1 and playing["src"].startswith("data:image/png")
    for _ in range(5):     # the timeline's line is redrawn every 250 ms while playing; its "of N" never lags
        head, step = page.evaluate("[+document.querySelector('[data-role=tl-head]').textContent, +document.body.dataset.step]")
        assert head >= step, (head, step)
        page.wait_for_timeout(70)
    page.click('button[data-action="play"]')
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    sid = page.evaluate("document.body.dataset.session")
    grid = httpx.get(f"{server_url}/api/sessions/{sid}/predict-grid?resolution=40", timeout=30).json()
    want = (2 * np.asarray(grid["value"]["values"], dtype=np.float32).astype(np.float64) - 1).tolist()
    page.wait_for_function("""(want) => { const el = document.querySelector('[data-role=boundary]');
        const h = el.data.find((t) => t.type === 'heatmap');
        return h && el.layout.images.length === 0 && JSON.stringify(h.z) === JSON.stringify(want); }""",
                           arg=want, timeout=10000)


INT8_FRAME = """async () => {
  const { decodeFrame } = await import('/static/js/wire.js');
  const { maxAbs } = await import('/static/js/tensor.js');
  // a frame as app/wire.py writes it: one int8q tensor q·scale (q = [3, -127, 0, 64, -5, 127]) and one float32
  const head = JSON.stringify({ type: 'frame', data: {
    q: { shape: [2, 3], label: 'W(1)', dtype: 'int8q', scale: 0.0123, offset: 0 },
    f: { shape: [2], label: 'b(1)', dtype: 'float32le', offset: 8 } } });
  const bytes = new TextEncoder().encode(head);
  const start = 4 + bytes.length + ((4 - ((4 + bytes.length) % 4)) % 4);
  const buffer = new ArrayBuffer(start + 16);
  new DataView(buffer).setUint32(0, bytes.length, true);
  new Uint8Array(buffer, 4, bytes.length).set(bytes);
  new Int8Array(buffer, start, 6).set([3, -127, 0, 64, -5, 127]);
  new Float32Array(buffer, start + 8, 2).set([-2.5, 1.0]);
  const msg = decodeFrame(buffer);
  const scan = (m) => Math.max(...Array.from(m.data, Math.abs));
  return { q: Array.from(msg.data.q.data), known: maxAbs(msg.data.q), scanned: scan(msg.data.q),
           f: maxAbs(msg.data.f), fScanned: scan(msg.data.f) };
}"""


def test_an_int8_tensors_largest_value_is_known_without_a_scan(lab):
    """wire.js records an int8q tensor's max |value| (max |q| · scale) as it dequantizes; tensor.js's
    maxAbs returns it, and it is exactly the largest |value| a scan of the decoded floats finds."""
    page, _ = lab
    out = page.evaluate(INT8_FRAME)
    expected = (np.float64([3, -127, 0, 64, -5, 127]) * 0.0123).astype(np.float32)    # q·scale, as float32
    np.testing.assert_array_equal(np.float32(out["q"]), expected)
    assert out["known"] == out["scanned"] == float(np.abs(expected).max())
    assert out["f"] == out["fScanned"] == 2.5
