"""The page in a real browser: it loads cleanly and offline, and the forward / backward / update
panels show exactly the numbers the API returned."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.browser


def heat(page, layer: int, key: str):
    return page.locator(f'section[data-layer="{layer}"] figure.heatmap[data-key="{key}"]')


def shown(page, layer: int, key: str) -> tuple[float, np.ndarray]:
    """(sum, first values) of what a heatmap draws, from its data attributes."""
    fig = heat(page, layer, key)
    return float(fig.get_attribute("data-sum")), np.array(json.loads(fig.get_attribute("data-first")))


def values(tensor: dict) -> np.ndarray:
    return np.asarray(tensor["values"], dtype=np.float64).reshape(tensor["shape"])


def assert_shows(page, layer: int, key: str, arr: np.ndarray):
    total, first = shown(page, layer, key)
    flat = arr.ravel()
    assert total == pytest.approx(flat.sum(), rel=1e-4, abs=1e-4)
    np.testing.assert_allclose(first, flat[: len(first)], rtol=1e-5, atol=1e-6)


def test_page_loads_without_errors_and_offline(lab, artifacts):
    page, watch = lab
    page.wait_for_timeout(500)
    assert watch.errors == []
    assert watch.failed == []
    assert watch.outside() == [], "requests left 127.0.0.1"
    assert any(u.endswith("/vendor/plotly.min.js") for u in watch.requests)
    assert any("favicon" in u for u in watch.requests)
    # Before a forward pass, the stages are shown as not computed (not as zeros).
    assert heat(page, 1, "z").get_attribute("data-state") == "empty"
    assert "not computed yet" in heat(page, 1, "delta").inner_text()
    page.screenshot(path=str(artifacts / "01-loaded.png"))


def test_forward_backward_update_show_the_api_numbers(lab, artifacts):
    page, watch = lab
    with page.expect_response("**/forward") as resp:
        page.click('button[data-action="forward"]')
    fwd = resp.value.json()
    page.wait_for_selector('section[data-layer="1"] figure[data-key="z"][data-state="filled"]')
    for entry in fwd["layers"]:
        l = entry["index"]
        assert entry["z"]["label"] == f"z({l + 1})"
        assert_shows(page, l, "z", values(entry["z"]))
        assert_shows(page, l, "a", values(entry["a"]))
        assert_shows(page, l, "W", values(entry["W"]))
        assert heat(page, l, "delta").get_attribute("data-state") == "empty"
    assert page.locator("#controls [data-role=step]").inner_text() == "0"

    with page.expect_response("**/backward") as resp:
        page.click('button[data-action="backward"]')
    back = resp.value.json()
    page.wait_for_selector('section[data-layer="1"] figure[data-key="delta"][data-state="filled"]')
    for entry in back["layers"]:
        assert_shows(page, entry["index"], "delta", values(entry["delta"]))
        assert_shows(page, entry["index"], "dW", values(entry["dW"]))

    # The equations panel shows the clicked neuron's numbers.
    page.click('circle[data-layer="2"][data-unit="1"]')
    eq = page.locator("#equations").inner_text()
    z0 = values(fwd["layers"][0]["z"])[0, 0]
    assert "z1(2)" in eq and f"{abs(z0):.4g}" in eq
    page.screenshot(path=str(artifacts / "02-backward.png"), full_page=True)

    with page.expect_response("**/update") as resp:
        page.click('button[data-action="update"]')
    upd = resp.value.json()
    page.wait_for_function("document.body.dataset.step === '1'")
    for before, after in zip(fwd["layers"], upd["layers"]):
        l = after["index"]
        w0, w1, dw = values(before["W"]), values(after["W"]), values(after["dW_applied"])
        np.testing.assert_allclose(w1 - w0, dw, atol=1e-9)
        assert np.abs(dw).max() > 0
        assert_shows(page, l, "W", w0 + dw)
        assert_shows(page, l, "dW_applied", dw)
    assert watch.errors == []
    page.screenshot(path=str(artifacts / "03-updated.png"), full_page=True)
