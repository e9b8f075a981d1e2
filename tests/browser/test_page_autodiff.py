"""The automatic-differentiation section in a real browser: a clicked neuron's computation graph, its
node values and adjoints recomputed here from the step's tensors; the gradient check's heatmaps; the
find-the-bug controls. Screenshots in /tmp/autodiff-*.png."""
from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def values(tensor: dict) -> np.ndarray:
    return np.asarray(tensor["values"], dtype=np.float64).reshape(tensor["shape"])


def shot(page, selector: str, path: str) -> None:
    """The section as a student sees it: scrolled just below the sticky controls, the viewport."""
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.evaluate(f"(() => {{ const e = document.querySelector('{selector}'); window.scrollTo(0, e.getBoundingClientRect().top "
                  "+ window.scrollY - document.querySelector('#controls').getBoundingClientRect().height - 60); })()")
    page.wait_for_timeout(200)
    page.screenshot(path=path)


def nodes(page) -> dict:
    return page.eval_on_selector_all("#autodiff .gnode", "els => Object.fromEntries(els.map(e => "
                                     "[e.dataset.id, [Number(e.dataset.value), e.dataset.grad === '' ? null : Number(e.dataset.grad)]]))")


def test_the_graph_of_a_hidden_neuron_is_the_chain_rule_with_the_steps_numbers(lab):
    page, watch = lab
    with page.expect_response("**/forward") as resp:
        page.click('button[data-action="forward"]')
    fwd = resp.value.json()
    with page.expect_response("**/backward") as resp:
        page.click('button[data-action="backward"]')
    back = resp.value.json()
    page.click('circle[data-layer="3"][data-unit="2"]')          # unit 2 of layer 3 (z(3) = W(2)·a(2) + b(2))
    page.wait_for_selector("#autodiff svg.graph")
    l, j, s = (int(v) for v in page.get_attribute("#autodiff", "data-unit").split(":"))
    assert (l, j, s) == (3, 1, 0)
    got = nodes(page)
    a2 = values(fwd["layers"][0]["a"])[s]                        # a(2) of sample s
    W2, b2 = values(fwd["layers"][1]["W"]), values(fwd["layers"][1]["b"])
    z3 = values(fwd["layers"][1]["z"])[s, j]
    d3 = values(back["layers"][1]["delta"])[s, j]
    W3, d4 = values(fwd["layers"][2]["W"]), values(back["layers"][2]["delta"])[s]
    # the products w·a (largest 6 drawn, the others summed), the sum, z, a = tanh(z): forward values
    products = W2[j] * a2
    for k in range(8):
        if f"p{k}" in got:
            assert got[f"p{k}"][0] == pytest.approx(products[k], rel=1e-5, abs=1e-7)
            assert got[f"w{k}"] == pytest.approx([W2[j, k], d3 * a2[k]], rel=1e-4, abs=1e-7)   # ∂cost/∂w = δ·a
            assert got[f"a{k}"][0] == pytest.approx(a2[k], rel=1e-5, abs=1e-7)
    assert got["sum"][0] == pytest.approx(products.sum(), rel=1e-5, abs=1e-6)
    assert got["z"][0] == pytest.approx(products.sum() + b2[j], rel=1e-5, abs=1e-6) == pytest.approx(z3, abs=1e-5)
    assert got["a"][0] == pytest.approx(np.tanh(z3), rel=1e-5, abs=1e-6)
    # adjoints: ∂cost/∂a(3)_j = Σ_m W(3)_mj δ(4)_m, δ(3)_j = that ⊙ f′(z) = the backward pass's δ
    dA = W3[:, j] @ d4
    assert got["a"][1] == pytest.approx(dA, rel=1e-4, abs=1e-7)
    assert got["z"][1] == pytest.approx(d3, rel=1e-4, abs=1e-7)
    assert dA * (1 - np.tanh(z3) ** 2) == pytest.approx(d3, rel=1e-4, abs=1e-7)
    assert float(page.inner_text('#autodiff [data-role="path-sum"]').replace("−", "-")) == pytest.approx(d3, rel=1e-3, abs=1e-4)
    page.hover('#autodiff .gnode[data-id="w0"]')
    assert "W(2)[2, 1]" in page.inner_text('#autodiff [data-role="hover"]')
    marker = page.locator(".panel-marker")
    assert marker.get_attribute("data-address") == "2:W:1:0" and marker.is_visible()
    cell = page.locator('#layers section[data-layer="2"] figure.heatmap[data-key="W"] canvas').bounding_box()
    box = marker.bounding_box()                  # on W(2)'s heatmap: row 2 (unit 2 of layer 3), column 1
    assert cell["x"] - 3 <= box["x"] <= cell["x"] + cell["width"] / 8
    assert cell["y"] + cell["height"] / 8 - 3 <= box["y"] <= cell["y"] + 2 * cell["height"] / 8
    page.set_viewport_size({"width": 1280, "height": 2400})     # the graph and the layer panels on one screen
    page.evaluate("window.scrollTo(0, document.querySelector('#autodiff').getBoundingClientRect().top + window.scrollY - 130)")
    page.hover('#autodiff .gnode[data-id="w0"]')
    page.wait_for_timeout(200)
    page.screenshot(path="/tmp/autodiff-hover.png")
    page.hover('#autodiff h2')
    shot(page, "#autodiff", "/tmp/autodiff-graph.png")
    page.click('circle[data-layer="4"][data-unit="1"]')          # the softmax output: δ = ŷ − y
    page.wait_for_function("document.querySelector('#autodiff').dataset.unit === '4:0:0'")
    y = values(fwd["batch"]["y"])[0, 0]
    yhat = values(fwd["layers"][2]["a"])[0, 0]
    assert nodes(page)["z"][1] == pytest.approx(yhat - y, rel=1e-4, abs=1e-6)
    assert "ŷ − y" in page.inner_text("#autodiff")
    shot(page, "#autodiff", "/tmp/autodiff-output.png")
    assert watch.errors == []


def test_the_gradient_check_and_find_the_bug(lab):
    page, watch = lab
    for _ in range(3):
        with page.expect_response("**/step"):
            page.click('button[data-action="step"]')
    with page.expect_response("**/gradient-check") as resp:
        page.click('#autodiff button[data-action="check"]')
    check = resp.value.json()
    page.wait_for_selector('#autodiff .gc-layer[data-layer="3"] .main-svg')
    page.wait_for_function("document.querySelector('#autodiff [data-role=check]').dataset.worst !== undefined")
    assert check["max_relative_error"] < 1e-6
    assert float(page.get_attribute("#autodiff [data-role=check]", "data-worst")) == pytest.approx(check["max_relative_error"])
    text = page.inner_text("#autodiff [data-role=result]")
    assert "float64" in text and "h = 0.00001" in text.replace("1e-05", "0.00001") and "the backward pass is right" in text
    shot(page, "#autodiff [data-role=check]", "/tmp/autodiff-check.png")
    with page.expect_response("**/bug"):
        page.click('#autodiff button[data-action="plant"]')
    expect(page.locator("#autodiff [data-role=bug-status]")).to_contain_text("hidden")
    for _ in range(3):
        with page.expect_response("**/step"):
            page.click('button[data-action="step"]')
    with page.expect_response("**/gradient-check") as resp:
        page.click('#autodiff button[data-action="check"]')
    assert resp.value.json()["max_relative_error"] > 1e-2
    page.wait_for_function("document.querySelector('#autodiff [data-role=summary]').innerText.includes('WRONG')")
    shot(page, "#autodiff [data-role=check]", "/tmp/autodiff-bug.png")
    with page.expect_response("**/bug/give-up") as resp:
        page.click('#autodiff button[data-action="give-up"]')
    revealed = resp.value.json()["revealed"]
    page.select_option("#autodiff [data-role=guess]", revealed["bug"])
    with page.expect_response("**/bug/guess") as resp:
        page.click('#autodiff button[data-action="guess"]')
    assert resp.value.json()["right"] is True
    expect(page.locator("#autodiff [data-role=bug-status]")).to_contain_text(revealed["title"])
    expect(page.locator("#autodiff [data-role=bug-status]")).to_contain_text("Right!")
    shot(page, "#autodiff [data-role=bug]", "/tmp/autodiff-revealed.png")
    assert watch.errors == []


def test_softmax_with_another_loss_is_not_called_fused(lab):
    page, watch = lab
    old = page.get_attribute("body", "data-session")
    page.locator("#builder select").filter(has_text="categorical_crossentropy").first.select_option("mean_squared_error")
    page.wait_for_function(f"document.body.dataset.session && document.body.dataset.session !== '{old}'")
    with page.expect_response("**/step") as resp:
        page.click('button[data-action="step"]')
    step = resp.value.json()
    page.click('circle[data-layer="4"][data-unit="2"]')
    text = page.inner_text("#autodiff [data-role=delta]")
    delta = np.asarray(step["layers"][2]["delta"]["values"])[0, 1]
    y, yhat = np.asarray(step["batch"]["y"]["values"])[0, 1], np.asarray(step["layers"][2]["a"]["values"])[0, 1]
    assert abs(delta - (yhat - y)) > 1e-3                        # MSE through softmax: not ŷ − y
    assert "Jacobian" not in text and "every output depends on every z(4)" in text and "ŷ − y =" not in text
    assert watch.errors == []


def test_a_teacher_plants_a_chosen_bug_in_a_chosen_layer(lab):
    """The teacher's choice (bug and layer) is planted hidden; the check points at that layer:
    over 1e-2 in ∂cost/∂W(2), under 1e-6 in W(3) above it; giving up names it."""
    page, watch = lab
    page.click('#autodiff [data-role=teacher] summary')
    page.select_option("#autodiff [data-role=plant-bug]", "missing_f_prime")
    page.fill("#autodiff [data-role=plant-layer]", "2")
    shot(page, "#autodiff [data-role=bug]", "/tmp/autodiff-teacher.png")
    with page.expect_response(lambda r: r.url.endswith("/bug") and r.request.method == "POST") as resp:
        page.click('#autodiff button[data-action="plant-chosen"]')
    assert resp.value.request.post_data_json == {"bug": "missing_f_prime", "layer": 2}
    planted = resp.value.json()
    assert planted["planted"] is True and planted["revealed"] is None      # hidden: only the list of five
    expect(page.locator("#autodiff [data-role=bug-status]")).to_contain_text("hidden")
    assert not page.locator("#autodiff [data-role=teacher]").evaluate("d => d.open")     # the choice closed
    with page.expect_response("**/step"):
        page.click('button[data-action="step"]')
    with page.expect_response("**/gradient-check") as resp:
        page.click('#autodiff button[data-action="check"]')
    errors = {e["index"]: e["W"]["max_relative_error"] for e in resp.value.json()["layers"]}
    assert errors[2] > 1e-2 and errors[3] < 1e-6, errors
    with page.expect_response("**/bug/give-up") as resp:
        page.click('#autodiff button[data-action="give-up"]')
    assert resp.value.json()["revealed"]["bug"] == "missing_f_prime" and resp.value.json()["revealed"]["layer"] == 2
    assert watch.errors == []
