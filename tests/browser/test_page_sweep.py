"""The sweep panel (issue 17): the seven optimizers in one click, two axes with seeds as small
multiples and an overlay with bands, diverged runs marked, and a cell opened as a stepping session
that starts from that run's weights (its first step's loss is the run's first batch loss)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
SWEEP = "#sweep"


def wait_done(page, timeout=90000):
    page.wait_for_function("['done', 'cancelled', 'error'].includes(document.querySelector('#sweep').dataset.status)",
                           timeout=timeout)
    return page.evaluate("document.querySelector('#sweep').dataset.status")


def job_runs(page) -> list[dict]:
    """The sweep's runs as the server answers them (whole curves)."""
    return page.evaluate("fetch('/api/compare/' + document.querySelector('#sweep').dataset.job)"
                         ".then((r) => r.json()).then((j) => j.runs)")


def cells(page) -> list[dict]:
    return page.evaluate("""[...document.querySelectorAll('#sweep .sweep-cell')].map((c) => ({
        label: c.querySelector('.sweep-label').textContent, final: c.dataset.final, status: c.dataset.status,
        diverged: c.classList.contains('diverged'), text: c.querySelector('.sweep-final').textContent,
        background: c.style.background, map: !c.querySelector('.sweep-map').hidden}))""")


def test_all_seven_optimizers_from_the_same_weights(lab, artifacts):
    page, watch = lab
    page.fill('[data-role="sweep-epochs"]', "2")
    page.click('button[data-action="seven"]')
    assert wait_done(page) == "done"
    got = cells(page)
    assert [c["label"] for c in got] == ["sgd", "sgd + momentum 0.9", "sgd + momentum 0.9 + Nesterov", "adam",
                                         "adagrad", "rmsprop", "adadelta"]
    assert all(c["status"] == "done" and float(c["final"]) > 0 for c in got)
    assert len({c["background"] for c in got}) >= 4            # coloured by their final losses
    assert all(c["map"] for c in got)                          # XOR is 2-D: each run's decision boundary
    finals = sorted(float(c["final"]) for c in got)
    scale = page.locator('[data-role="sweep-scale"]').inner_text()
    assert f"from {finals[0]:.3g} (dark purple) to {finals[-1]:.3g} (yellow)" in scale
    runs = job_runs(page)
    assert len({r["history"]["batch_loss"][0] for r in runs}) == 1        # the same first batch, same weights
    assert int(page.locator('[data-role="sweep-overlay"]').get_attribute("data-groups")) == 7
    page.locator(SWEEP).screenshot(path=str(artifacts / "sweep-seven.png"))
    assert watch.errors == []


def test_two_axes_with_seeds_bands_and_a_diverged_run(lab, artifacts):
    page, watch = lab
    page.select_option('[data-role="axis1"]', "learning_rate")
    page.fill('[data-role="values1"]', "0.1, 100")
    page.select_option('[data-role="axis2"]', "batch_size")
    page.fill('[data-role="values2"]', "8, 16")
    page.fill('[data-role="seeds"]', "2")
    page.fill('[data-role="sweep-epochs"]', "2")
    page.click('button[data-action="sweep"]')
    assert wait_done(page) == "done"
    got = cells(page)
    assert len(got) == 8
    assert got[0]["label"] == "η 0.1, batch 8, seed 0" and got[1]["label"] == "η 0.1, batch 8, seed 1"
    diverged = [c for c in got if c["diverged"]]
    assert diverged and all(c["label"].startswith("η 100") and "diverged at step" in c["text"] for c in diverged)
    assert all(not c["diverged"] and c["map"] for c in got if c["label"].startswith("η 0.1"))
    bands = page.evaluate("document.querySelector('[data-role=sweep-overlay]').data.filter((t) => t.meta && t.meta.band).length")
    assert bands == 4                                           # one band per setting over its 2 seeds
    status = page.locator('[data-role="sweep-status"]').inner_text()
    steps = sorted(int(c["text"].split("step ")[1]) for c in diverged)
    at = f"at step {steps[0]}" if steps[0] == steps[-1] else f"at steps {steps[0]}–{steps[-1]}"
    assert f"✕ {len(diverged)} diverged" in status and "η 100, batch 8 (2 seeds)" in status and at in status
    page.locator(SWEEP).screenshot(path=str(artifacts / "sweep-two-axes.png"))
    assert watch.errors == []


def test_a_cell_opens_that_run_as_a_stepping_session(lab, artifacts):
    page, watch = lab
    page.fill('[data-role="values1"]', "sgd, adam")
    page.fill('[data-role="seeds"]', "2")
    page.fill('[data-role="sweep-epochs"]', "1")
    page.click('button[data-action="sweep"]')
    assert wait_done(page) == "done"
    first_loss = job_runs(page)[3]["history"]["batch_loss"][0]
    with page.context.expect_page() as opened:
        page.click('#sweep .sweep-cell[data-index="3"]')          # adam, seed 1
    run = opened.value
    run.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    assert "opt=adam" in run.url and "seed=1" in run.url and "lr=0.001" in run.url
    assert run.evaluate("document.body.dataset.session") != page.evaluate("document.body.dataset.session")
    assert run.evaluate("document.body.dataset.step") == "0"
    run.click('button[data-action="step"]')
    run.wait_for_function("document.body.dataset.step === '1'")
    loss = run.evaluate("fetch('/api/sessions/' + document.body.dataset.session + '/history').then((r) => r.json())"
                        ".then((h) => h.history.batch_loss[0])")
    assert loss == first_loss                                   # the same weights and the same first batch
    run.screenshot(path=str(artifacts / "sweep-opened-run.png"))
    run.close()
    assert watch.errors == []


def test_the_range_test_over_seeds_draws_a_band_and_says_its_rule(lab, artifacts):
    page, watch = lab
    page.fill('[data-role="range-seeds"]', "3")
    page.click('button[data-action="range-test"]')
    page.wait_for_function("/range test done/.test(document.querySelector('[data-role=compare-status]').textContent)",
                           timeout=60000)
    status = page.locator('[data-role="compare-status"]').inner_text()
    assert "over 3 seeds" in status and "rule: minimum / 10" in status and "mean over 3 seeds" in status
    traces = page.evaluate("""document.querySelector('[data-role=range-chart]').data.map((t) => ({
        band: Boolean(t.meta && t.meta.band), mean: Boolean(t.meta && t.meta.mean), n: t.y.length}))""")
    assert sum(t["band"] for t in traces) == 1 and sum(t["mean"] for t in traces) == 1
    assert len(traces) == 3 + 2                                 # each seed's curve, the band, the mean
    suggested = float(status.split("suggested rate ")[1].split(" ")[0])
    assert 1e-5 <= suggested <= 10
    page.locator("#compare .charts-pair").screenshot(path=str(artifacts / "sweep-range-seeds.png"))
    assert watch.errors == []
