"""What a newcomer hits in the first minutes (issue 11): Enter in a field applies that field only;
MNIST plays and draws with any network size; a reload returns to the same session."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def wait_session(page, other: str = "") -> str:
    page.wait_for_function(f"document.body.dataset.session && document.body.dataset.session !== '{other}'",
                           timeout=30000)
    return page.evaluate("document.body.dataset.session")


def test_enter_in_a_field_applies_that_field_and_keeps_the_layers(lab, server_url):
    page, watch = lab
    sid = wait_session(page)
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'")
    field = page.locator('#builder input[name="learning_rate"]')
    field.fill("0.3")
    field.press("Enter")
    page.wait_for_timeout(500)
    assert page.locator("#builder .layer-list li").count() == 3          # 8-8-2 is still 8-8-2
    assert page.evaluate("document.body.dataset.session") == sid and page.evaluate("document.body.dataset.step") == "1"
    state = page.request.get(f"{server_url}/api/sessions/{sid}").json()
    assert state["config"]["optimizer"]["learning_rate"] == 0.3 and state["state"]["step"] == 1
    units = page.locator('#builder input[name="units"]').first
    units.fill("5")
    units.press("Enter")                                                 # a layer change: a new network
    new = wait_session(page, sid)
    assert page.request.get(f"{server_url}/api/sessions/{new}").json()["config"]["layers"][0]["units"] == 5
    assert page.locator("#builder .layer-list li").count() == 3
    assert not watch.errors, watch.errors


@pytest.fixture
def mnist_env(mnist_dir, monkeypatch):
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(mnist_dir))     # the test server runs in this process


@pytest.mark.parametrize("layers", ["8:tanh,8:tanh,10:softmax", "16:relu,10:softmax"])
def test_mnist_plays_and_draws_with_a_small_network(page, server_url, mnist_env, layers, artifacts):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server_url}/?data=mnist&d.max_train=2000&d.max_test=500&layers={layers}&batch=32&lr=0.1")
    page.wait_for_selector("#dataview[data-kind=mnist]", timeout=60000)
    wait_session(page)
    page.click('button[data-action="play"]')
    page.wait_for_function("Number(document.body.dataset.step) > 50", timeout=30000)
    page.wait_for_timeout(1500)
    page.click('button[data-action="play"]')                             # Pause
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    page.wait_for_timeout(500)
    assert not errors, errors[:3]
    assert "no batch yet" not in page.locator("#sample-label").inner_text()
    page.locator('section[data-layer="1"]').scroll_into_view_if_needed()    # big panels draw on screen
    page.wait_for_timeout(300)
    for key in ("W", "dW", "dW_applied"):
        fig = page.locator(f'section[data-layer="1"] figure.heatmap[data-key="{key}"]')
        assert fig.get_attribute("data-state") == "filled", key
    page.screenshot(path=str(artifacts / f"first-run-mnist-{layers.split(':')[0]}.png"), full_page=True)


def test_a_reload_returns_to_the_same_session_and_a_new_tab_offers_it(lab, server_url):
    page, watch = lab
    sid = wait_session(page)
    for _ in range(3):
        page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '3'")
    page.reload()
    page.wait_for_function("document.body.dataset.step === '3'", timeout=15000)
    assert page.evaluate("document.body.dataset.session") == sid
    assert "Back to your session at step 3" in page.locator("#notice").inner_text()
    mine = page.request.get(f"{server_url}/api/sessions").json()["sessions"]
    assert [s["id"] for s in mine] == [sid]                  # the reload made no second session
    second = page.context.new_page()
    second.goto(server_url + "/")
    other = wait_session(second)
    assert other != sid
    second.wait_for_selector("#notice button[data-offer]")
    assert "1 other session" in second.locator("#notice").inner_text()
    second.click("#notice button[data-offer]")
    second.wait_for_function(f"document.body.dataset.session === '{sid}'")
    second.wait_for_function("document.body.dataset.step === '3'")
    ids = [s["id"] for s in second.request.get(f"{server_url}/api/sessions").json()["sessions"]]
    assert ids == [sid]                                       # the tab's own new session was given back
    second.close()
    assert not watch.errors, watch.errors


def test_a_reload_with_another_learning_rate_keeps_the_session_and_applies_the_rate(lab, server_url):
    page, watch = lab
    sid = wait_session(page)
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'")
    page.goto(page.url.replace("lr=0.1", "lr=0.03"))
    page.wait_for_function("document.body.dataset.step === '1'", timeout=15000)
    assert page.evaluate("document.body.dataset.session") == sid
    page.wait_for_function(f"""async () => (await (await fetch('/api/sessions/{sid}')).json())
                               .config.optimizer.learning_rate === 0.03""", timeout=10000)
    assert page.locator('#builder input[name="learning_rate"]').input_value() == "0.03"
    assert not watch.errors, watch.errors


@pytest.fixture
def small_budget_server(serve):
    """A server of its own whose answers may hold at most 400 kB (the real limit is 48 MB)."""
    from app.settings import Settings
    return serve(Settings(max_answer_bytes=400_000))


def test_tensors_too_large_to_send_say_so_with_their_summary(page, small_budget_server):
    page.goto(small_budget_server + "/?data=xor&layers=256:relu,256:relu,2:softmax&batch=128&lr=0.1")
    wait_session(page)
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'")
    notice = page.locator("#notice")
    assert "Too large to send in one answer" in notice.inner_text() and "W(2) (256×256)" in notice.inner_text()
    panel = page.locator('section[data-layer="2"]')
    panel.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    text = panel.locator('figure.heatmap[data-key="W"]').inner_text()
    assert "too large to send in one answer: min" in text
    assert page.locator('section[data-layer="3"] figure.heatmap[data-key="W"]').get_attribute("data-state") == "filled"
