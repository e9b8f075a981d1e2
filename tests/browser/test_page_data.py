"""The data from the page: every train and test point under the decision boundary, the test-set
confusion matrix after an epoch, a CSV upload, importing an exported session, MNIST downloaded on
request (from a loopback mirror), and the frame rate while playing (printed, not asserted)."""
from __future__ import annotations

import http.server
import json
import threading

import numpy as np
import pytest

pytestmark = pytest.mark.browser
CSV = "x1,x2,label\n" + "\n".join(f"{a:.3f},{b:.3f},{int(a * b > 0)}" for a, b in
                                  np.random.default_rng(1).uniform(-1, 1, size=(80, 2))) + "\n"


def play_fps(page, seconds: float = 4.0) -> float:
    """Play at full speed for ``seconds``; the frames drawn per second. The status line shows the
    server's training rate too, which the steps of the frames drawn must bear out."""
    step0 = int(page.evaluate("document.body.dataset.step"))
    page.evaluate("""() => { const s = document.querySelector('[data-role=speed]');
        s.value = s.max; s.dispatchEvent(new Event('input')); }""")
    page.click('button[data-action="play"]')
    page.wait_for_timeout(int(seconds * 1000))
    fps = float(page.evaluate("document.body.dataset.fps || '0'"))
    rate = float(page.evaluate("document.body.dataset.stepsPerSecond || '0'"))
    status = page.inner_text('[data-role="fps"]')
    step1 = int(page.evaluate("document.body.dataset.step"))
    page.click('button[data-action="play"]')
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    assert fps > 0 and rate >= fps, (fps, rate)          # at full speed it trains more steps than it draws
    assert rate <= 1.5 * (step1 - step0) / (seconds - 1.0)   # no more than the steps actually taken
    assert status.startswith("· training ") and "steps/s · drawing" in status, status
    print(f"\ntraining {rate:.0f} steps/s while drawing {fps:.1f} frames/s ({status.strip()})")
    return fps


def test_points_confusion_and_the_page_at_1920(lab, artifacts, server_url):
    page, watch = lab
    page.set_viewport_size({"width": 1920, "height": 1080})
    boundary = '[data-role="boundary"]'
    page.wait_for_function(f"(document.querySelector('{boundary}').data || []).filter(t => t.meta && t.meta.points).length == 2",
                           timeout=15000)
    sid = page.evaluate("document.body.dataset.session")
    data = page.request.get(f"{server_url}/api/sessions/{sid}/data").json()
    shown = page.evaluate(f"document.querySelector('{boundary}').data.filter(t => t.meta && t.meta.points).map(t => [t.name, t.x.length, t.x[0], t.y[0]])")
    assert [(n, k) for n, k, _, _ in shown] == [("train", data["train"]["n"]), ("test", data["test"]["n"])]
    assert shown[0][2:] == pytest.approx(data["train"]["x"]["values"][0], rel=1e-6)   # the points themselves
    page.click('button[data-action="epoch"]')
    conf = page.locator('[data-role="confusion"]')
    page.wait_for_function("document.querySelector('[data-role=confusion]').dataset.epoch === '1'", timeout=15000)
    expected = page.request.get(f"{server_url}/api/sessions/{sid}/confusion").json()
    assert int(conf.get_attribute("data-total")) == expected["n"] == data["test"]["n"]
    assert page.evaluate("document.querySelector('[data-role=confusion]').data[0].z") == expected["matrix"]
    fps = play_fps(page)
    print(f"\nframes drawn per second while playing at max speed (default network, 1920×1080): {fps:.1f}")
    page.screenshot(path=str(artifacts / "08-1920x1080.png"))
    page.screenshot(path=str(artifacts / "09-1920x1080-full.png"), full_page=True)
    assert watch.errors == [] and watch.outside() == []


def test_csv_upload_and_session_import(lab, artifacts, server_url):
    page, watch = lab
    before = page.evaluate("document.body.dataset.session")
    page.set_input_files('[data-role="csv-file"]', files=[{"name": "quadrants.csv", "mimeType": "text/csv",
                                                          "buffer": CSV.encode()}])
    page.click('button[data-action="upload-csv"]')
    page.wait_for_function(f"document.body.dataset.session && document.body.dataset.session !== '{before}'",
                           timeout=15000)
    assert "64 training and 16 test rows" in page.locator('[data-role="csv-status"]').inner_text()
    assert "data=csv" in page.url
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '1'")
    sid = page.evaluate("document.body.dataset.session")
    exported = page.request.get(f"{server_url}/api/sessions/{sid}/export").json()
    for _ in range(3):
        page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '4'")
    page.set_input_files("#import-file", files=[{"name": "saved.json", "mimeType": "application/json",
                                                 "buffer": json.dumps(exported).encode()}])
    page.wait_for_selector("#notice:has-text('Imported saved.json')")
    assert page.evaluate("document.body.dataset.step") == "1"          # the weights and counters of step 1
    now = page.request.get(f"{server_url}/api/sessions/{sid}/export").json()
    assert [w["values"] for w in now["weights"]] == [w["values"] for w in exported["weights"]]
    assert len(page.request.get(f"{server_url}/api/sessions/{sid}/history").json()["history"]["batch_loss"]) == 1
    page.click('button[data-action="step"]')
    page.wait_for_function("document.body.dataset.step === '2'")
    bad = "x1,x2,label\n1,2,0\n1,oops,1\n3,4,0\n5,6,1\n7,8,0\n"
    page.set_input_files('[data-role="csv-file"]', files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    page.click('button[data-action="upload-csv"]')
    page.wait_for_selector("[data-role=csv-status]:has-text(\"Line 3, column 'x2'\")")
    page.locator("aside").screenshot(path=str(artifacts / "10-sidebar-sources.png"))


class _Mirror(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.files.get(self.path.rsplit("/", 1)[-1])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def offline_lab(mnist_dir, monkeypatch, tmp_path, serve):
    """A server of its own whose MNIST mirror is a loopback HTTP server, with an empty cache folder."""
    from app.settings import Settings
    from engine.datasets import mnist
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("BACKPROP_LAB_DATA", raising=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
    httpd.files = {name: (mnist_dir / name).read_bytes() for name in mnist.FILES}
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield serve(Settings(mnist_mirrors=(f"http://127.0.0.1:{httpd.server_address[1]}/",)))
    httpd.shutdown()
    httpd.server_close()


def test_mnist_downloads_on_request_then_plays(page, offline_lab, artifacts):
    page.goto(offline_lab + "/")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    assert page.locator('#builder option[value="mnist"]').is_disabled()
    page.click('button[data-action="download-mnist"]')
    page.wait_for_selector("#sources[data-mnist=ready]", timeout=60000)
    assert not page.locator('#builder option[value="mnist"]').is_disabled()
    page.goto(offline_lab + "/?data=mnist&d.max_train=2000&d.max_test=500&layers=128:relu,10:softmax"
              "&loss=categorical_crossentropy&opt=sgd&lr=0.1&batch=32")
    page.wait_for_selector("#dataview[data-kind=mnist]", timeout=30000)
    page.click('button[data-action="epoch"]')
    page.wait_for_function("document.querySelector('[data-role=confusion]').dataset.total === '500'", timeout=30000)
    fps = play_fps(page)
    print(f"\nframes drawn per second while playing at max speed (MNIST 784-128-10, batch 32): {fps:.1f}")
    page.screenshot(path=str(artifacts / "11-mnist.png"), full_page=True)
