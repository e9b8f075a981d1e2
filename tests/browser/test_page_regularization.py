"""L1 and L2 with their own rates on the page (issue 15, item 3; static/js/playground.js): L1 + L2
shows two rate fields, the session's config (GET /api/sessions/{id}) and the link keep both, the
weights are kept (PATCH), the penalty a step reports is l1·Σ|W| + l2·ΣW² recomputed here from the
step's own weights, a reload shows both rates again, and a rate outside [0, 1] is refused at the
field. Screenshot in /tmp/regularization-l1l2.png."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.browser


def config_of(page, sid):
    return page.evaluate(f"fetch('/api/sessions/{sid}').then((r) => r.json())")["config"]


def test_l1_and_l2_rates_set_separately(lab):
    page, watch = lab
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'")
    sid = page.evaluate("document.body.dataset.session")
    assert page.locator('[name="reg_l2"]').count() == 0            # None: one (disabled) rate field
    page.select_option('[name="reg_kind"]', "l1l2")
    page.wait_for_selector('[name="reg_l2"]')
    assert "L1 rate" in page.inner_text('label:has([name="reg_rate"])')
    assert "L2 rate" in page.inner_text('label:has([name="reg_l2"])')
    page.fill('[name="reg_rate"]', "0.001")
    page.press('[name="reg_rate"]', "Enter")
    page.fill('[name="reg_l2"]', "0.01")
    page.press('[name="reg_l2"]', "Enter")
    page.wait_for_function("decodeURIComponent(location.search).includes('reg=0.001:0.01')")
    page.wait_for_function(f"fetch('/api/sessions/{sid}').then((r) => r.json())"
                           ".then((s) => s.config.regularization && s.config.regularization.l2 === 0.01)")
    assert config_of(page, sid)["regularization"] == {"l1": 0.001, "l2": 0.01}
    assert page.evaluate("document.body.dataset.session") == sid      # the weights were kept (PATCH)

    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '2'")
    assert "penalty" in page.inner_text('[data-role="penalty"]')
    page.screenshot(path="/tmp/regularization-l1l2.png")

    # the penalty of a step, from that step's own weights W(l) (as used by its forward pass)
    frame = page.evaluate(f"fetch('/api/sessions/{sid}/step', {{method: 'POST'}}).then((r) => r.json())")
    kernels = [np.asarray(e["W"]["values"], dtype=np.float64) for e in frame["layers"]]
    l1_sum = sum(np.abs(w).sum() for w in kernels)
    l2_sum = sum((w ** 2).sum() for w in kernels)
    assert frame["penalty"] == pytest.approx(0.001 * l1_sum + 0.01 * l2_sum, rel=1e-5)
    assert abs(frame["penalty"] - 0.01 * (l1_sum + l2_sum)) > 1e-3     # not one rate for both

    page.reload()
    page.wait_for_selector('[name="reg_l2"]', timeout=15000)
    assert page.input_value('[name="reg_kind"]') == "l1l2"
    assert float(page.input_value('[name="reg_rate"]')) == 0.001
    assert float(page.input_value('[name="reg_l2"]')) == 0.01

    page.fill('[name="reg_l2"]', "2")
    page.press('[name="reg_l2"]', "Enter")
    page.wait_for_selector("#field-error-reg_l2")
    assert "L2 rate must be in [0, 1]" in page.inner_text("#field-error-reg_l2")
    page.wait_for_timeout(300)
    assert config_of(page, sid)["regularization"] == {"l1": 0.001, "l2": 0.01}
    assert not watch.errors, watch.errors
