"""How instant scrubbing feels in the browser: from an input on the timeline strip (a click, ←, a drag)
to that step's panels on screen (static/js/travel.js measures it up to the next animation frame:
``data-seek-ms``; ``data-seek-full-ms`` also waits for the cut curves and the decision boundary).

Not a test (timings never decide a test): ``python3 benchmarks/page_seek.py [seconds of Play]``
serves the app on a free port, opens the default network in Debian's Chromium (/usr/bin/chromium,
headless, software rendering as in the browser tests), plays at full speed for a few seconds, then
1. clicks 40 random steps on the strip, one at a time;
2. presses ← 30 times (one phase back each), one at a time;
3. drags the thumb across the strip for 2 s at about 60 moves per second,
and prints p50 / p90 / max in ms for each (for the drag: how many of the positions it passed were
drawn, and the lag from the newest move to its step on screen).
"""
from __future__ import annotations

import os
import random
import socket
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

IDLE = "document.querySelector('#timeline').dataset.busy === '0'"


def serve():
    import uvicorn

    from app.main import create_app
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def stats(name: str, values: list[float]) -> None:
    v = sorted(values)
    if not v:
        print(f"{name}: no samples")
        return
    p50, p90 = v[len(v) // 2], v[int(0.9 * (len(v) - 1))]
    print(f"{name}: n={len(v)}  p50 {p50:.1f} ms  p90 {p90:.1f} ms  max {v[-1]:.1f} ms")


def main(play_seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    server, url = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
            page.goto(url + "/")
            page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
            page.evaluate("""() => { const r = document.querySelector('#controls [data-role=speed]');
                r.value = r.max; r.dispatchEvent(new Event('input')); }""")
            page.click('button[data-action="play"]')
            page.wait_for_timeout(play_seconds * 1000)
            page.click('button[data-action="play"]')
            page.wait_for_selector('button[data-action="play"]:has-text("Play")')
            page.wait_for_timeout(1500)
            head = int(page.locator("#timeline").get_attribute("data-head"))
            print(f"default network (xor 2-8-8-2, batch 16), {head} steps on the line")
            box = page.locator('[data-role="tl-slider"]').bounding_box()
            x = lambda k: box["x"] + 8 + (box["width"] - 16) * k / head  # noqa: E731
            y = box["y"] + box["height"] / 2

            def read(key):
                return float(page.evaluate(f"document.body.dataset.{key} || 'NaN'"))

            panels, full = [], []
            rng = random.Random(0)
            for _ in range(40):
                k = rng.randrange(1, head)
                page.mouse.click(x(k), y)
                page.wait_for_function(f"{IDLE} && document.body.dataset.seekFullMs !== undefined")
                page.wait_for_timeout(50)
                panels.append(read("seekMs"))
                full.append(read("seekFullMs"))
            stats("click a step: its panels on screen", panels)
            stats("click a step: with the cut curves and the decision boundary", full)

            keys = []
            for _ in range(30):
                page.keyboard.press("ArrowLeft")
                page.wait_for_function(IDLE)
                page.wait_for_timeout(50)
                keys.append(read("seekMs"))
            stats("← one phase back: its panels on screen", keys)

            before = len((page.evaluate("document.body.dataset.seekLog") or "").split())
            page.mouse.move(x(head), y)
            page.mouse.down()
            moves, start = 0, time.monotonic()
            while time.monotonic() - start < 2.0:
                t = (time.monotonic() - start) / 2.0
                page.mouse.move(x(round(head * (1 - 0.9 * t))), y)
                moves += 1
                time.sleep(1 / 60)
            page.mouse.up()
            page.wait_for_function(IDLE)
            page.wait_for_timeout(300)
            log = [float(v) for v in (page.evaluate("document.body.dataset.seekLog") or "").split()]
            drawn = log[before:] if len(log) < 200 else log[-min(len(log), moves):]
            print(f"drag for 2 s: {moves} pointer moves, {len(drawn)} positions drawn")
            stats("drag: lag from the newest move to its step on screen", drawn)
            browser.close()
    finally:
        server.should_exit = True


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
