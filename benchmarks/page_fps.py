"""Does the page keep up with training? Frames drawn per second and training steps per second while
the page plays at full speed, against the same training with nobody drawing (issue 15, item 8).

Not a test (timings never decide a test): ``python3 -m benchmarks.page_fps [--seconds S] [--quick]
[--wire bin|b64|json] [--playwright]``
serves the app in its own process (1 BLAS thread, as ``backprop-lab serve`` runs it), opens it in
Debian's Chromium (/usr/bin/chromium, headless, software rendering as in the browser tests; driven
through the DevTools protocol's Runtime domain only, as a student's browser that nothing watches:
benchmarks/bare_chromium.py says what Playwright's network instrumentation cost; ``--playwright``
drives it with Playwright as before 2026-12-02) and, for
1. the default network on xor (2-8-8-2, batch 16) with every unit's map in the diagram, and
2. MNIST 784-128-64-10 (ReLU, batch 32), when the MNIST files are there,
plays for S seconds and reads what the page itself measured: frames drawn per second
(``data-fps``), the page's script time per frame (``data-frame-ms``, median) and training steps per
second (``data-steps-per-second``). "Alone" is the same network played by a bare WebSocket client
that asks for one frame a second and decodes none: the training rate with no live view. The ratio
page / alone is what drawing costs the training (the target: ≥ 0.9), the median of ``--rounds``
back-to-back pairs (alone, then the page in the same tab) since 2026-12-02 16:00: on this shared
host one pair swung 0.58-0.87 on the same tree. Each pair also plays the network while a bare
WebSocket client takes the page's frames at the page's rate ("frames": the server's and the
transport's share, no browser) and while a bare Chromium tab only changes one number at the
page's frame rate ("floor": what any page drawing that often costs the training here). "Queued"
says why, and is less
noisy on a shared host than steps per second: of the time the server's threads (the player's,
mostly) wanted a CPU, the share they waited for one (runnable, not running; /proc/PID/task/*/schedstat),
from a second into the play to its end (2026-12-01, --quick: xor 29 %, MNIST 37 % with the
page drawing; 0 % alone: the training waits for the browser's CPU, not for our server). The page
asks for what a user's page asks for (binary frames since 2026-12-01; ``--wire b64`` plays with the
base64 JSON frames it used before, ``--wire json`` with plain JSON: the same page otherwise).
Prints a table and, with ``--json PATH``, writes the numbers.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bare_chromium import BareChromium  # noqa: E402
from benchmarks.common import SHARED_MNIST  # noqa: E402
from benchmarks.server_bench import DEFAULT_NET, Server, _session, mnist_net  # noqa: E402

CASES = {
    "xor 2-8-8-2 b16, unit maps": {"url": "/?data=xor", "body": DEFAULT_NET, "target_fps": 30},
    "MNIST 784-128-64-10 b32": {
        "url": "/?data=mnist&layers=128:relu,64:relu,10:softmax&loss=categorical_crossentropy"
               "&opt=sgd&lr=0.05&batch=32",
        "body": mnist_net(60000), "target_fps": 20},
}
LAUNCH = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", "--no-first-run"]


def schedstat(pid: int | None) -> dict[int, tuple[float, float]]:
    """{thread id: (seconds running, seconds runnable but waiting for a CPU)} of process ``pid``
    (Linux /proc; {} elsewhere or without a pid)."""
    out = {}
    if pid is None:
        return out
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            run, wait, _ = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
        except (OSError, ValueError):
            continue
        out[int(tid)] = (int(run) / 1e9, int(wait) / 1e9)
    return out


def queued(first: dict, last: dict) -> float | None:
    """Of the time the threads alive at both snapshots wanted a CPU (running or runnable), the share
    they spent waiting for one."""
    run = sum(last[t][0] - first[t][0] for t in first if t in last)
    wait = sum(last[t][1] - first[t][1] for t in first if t in last)
    return wait / (run + wait) if run + wait > 0 else None


def alone(server, client, body: dict, seconds: float) -> tuple[float, float | None]:
    """Steps per second of a session played with no live view (one frame a second, not decoded),
    and the server's queued share meanwhile."""
    from websockets.sync.client import connect
    sid = _session(client, body)
    with connect(f"{server.ws_base}/ws/sessions/{sid}", max_size=None) as ws:
        ws.send(json.dumps({"command": "options", "encoding": "b64", "max_fps": 1}))
        step0 = client.get(f"/api/sessions/{sid}").json()["state"]["step"]
        ws.send(json.dumps({"command": "play"}))
        start = time.perf_counter()
        first = None
        while time.perf_counter() - start < seconds:
            try:
                ws.recv(timeout=0.2)
            except TimeoutError:
                pass
            if first is None and time.perf_counter() - start > 1.0:    # the player is running by now
                first = schedstat(server.pid)
        elapsed = time.perf_counter() - start
        last = schedstat(server.pid)
        step1 = client.get(f"/api/sessions/{sid}").json()["state"]["step"]
        ws.send(json.dumps({"command": "pause"}))
    client.delete(f"/api/sessions/{sid}")
    return (step1 - step0) / elapsed, queued(first or {}, last)


def frames_only(server, client, body: dict, seconds: float, fps: float, rows: int | None = None) -> float:
    """Steps per second of a session played while a bare WebSocket client takes the page's frames
    (binary, paced, lean and cut to ``rows`` as the page asks them: its data-play-rows) at ``fps`` a
    second and decodes none: what building and sending the frames costs the training, without a
    browser. (Before 2026-12-03 19:00 it asked for no rows: MNIST's frames were 450 KB, the page's 300.)"""
    from websockets.sync.client import connect
    sid = _session(client, body)
    lean = client.get("/api/options").json()["limits"]["play_lean_weights"]
    with connect(f"{server.ws_base}/ws/sessions/{sid}", max_size=None) as ws:
        ws.send(json.dumps({"command": "options", "encoding": "bin", "fields": None, "big": lean, "rows": rows, "ack": True,
                            "max_fps": max(1.0, fps)}))
        step0 = client.get(f"/api/sessions/{sid}").json()["state"]["step"]
        ws.send(json.dumps({"command": "play"}))
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            try:
                message = ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            if isinstance(message, bytes):                # a frame: "drawn" at once (max_fps paces them)
                ws.send(json.dumps({"command": "drawn"}))
        elapsed = time.perf_counter() - start
        step1 = client.get(f"/api/sessions/{sid}").json()["state"]["step"]
        ws.send(json.dumps({"command": "pause"}))
    client.delete(f"/api/sessions/{sid}")
    return (step1 - step0) / elapsed


REFERENCE_PAGE = """<!doctype html><title>reference</title><p id="n">0</p><script>
let n = 0, last = 0;
const every = 1000 / FPS;
function tick(t) {
  if (t - last >= every - 2) { last = t; document.getElementById('n').textContent = String(++n); }
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);
</script>"""


def reference(server, client, open_tab, body: dict, seconds: float, fps: float) -> float:
    """Steps per second of the network played with no live view (as ``alone``) while the browser
    shows a page that only changes one number ``fps`` times a second: what any page drawing at
    that rate costs the training on this machine, the floor under the page's own ratio."""
    import base64
    page = REFERENCE_PAGE.replace("FPS", f"{max(1.0, fps):.1f}")
    tab = open_tab("data:text/html;base64," + base64.b64encode(page.encode()).decode())
    try:
        time.sleep(1.0)
        rate, _ = alone(server, client, body, seconds)
        return rate
    finally:
        tab.close()


SPEED_MAX = """(() => { const r = document.querySelector('#controls [data-role=speed]');
  r.value = r.max; r.dispatchEvent(new Event('input')); return true; })()"""
PLAY_BUTTON = "document.querySelector('button[data-action=\"play\"]').click()"
READ = """({ fps: +document.body.dataset.fps || 0, steps: +document.body.dataset.stepsPerSecond || 0,
  ms: +document.body.dataset.frameMs || 0, rows: +document.body.dataset.playRows || null })"""


class PlaywrightTab:
    """A Playwright page with BareChromium's Tab interface (``--playwright``)."""

    def __init__(self, page):
        self.page = page

    def evaluate(self, expression: str):
        return self.page.evaluate(expression)

    def wait_for(self, expression: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout      # polled: wait_for_function's eval breaks the page's CSP
        while not self.page.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(expression)
            self.page.wait_for_timeout(100)

    def close(self) -> None:
        self.page.close()


def page_ready(tab) -> None:
    """Wait for the page's session and its first views; set the speed slider to max."""
    tab.wait_for("document.body && document.body.dataset.session && document.body.dataset.session !== ''")
    time.sleep(1.5)                                   # the first views, weights, unit maps
    tab.evaluate(SPEED_MAX)


def on_page(tab, seconds: float, pid: int | None = None) -> dict:
    """Play at full speed on the page in ``tab`` (a Tab: ``evaluate``, ``wait_for``; ready, paused) for
    ``seconds``, then Pause; what the page measured meanwhile, and the queued share of server ``pid``."""
    tab.evaluate(PLAY_BUTTON)
    time.sleep(1.0)                                   # warm-up: the meter covers the last 2 s
    samples, first = [], schedstat(pid)
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        time.sleep(1.0)
        samples.append(tab.evaluate(READ))
    last = schedstat(pid)
    tab.evaluate(PLAY_BUTTON)                         # Pause
    tab.wait_for("document.querySelector('button[data-action=\"play\"]').textContent.includes('Play')", 20)
    time.sleep(0.5)                                   # the last frame and the views after Pause
    mid = lambda k: median([s[k] for s in samples])   # noqa: E731
    return {"fps": mid("fps"), "steps_per_s": mid("steps"), "frame_ms": mid("ms"), "samples": samples,
            "rows": samples[-1].get("rows") if samples else None,
            "queued": queued(first, last)}


def paired(server, client, tab, body: dict, seconds: float, rounds: int, open_tab=None) -> dict:
    """``rounds`` back-to-back pairs: the network played alone, then on the page (the same tab, Play
    and Pause). The ratio is the median of the pairs' ratios: on a shared host the machine's speed
    drifts by more than the effect between two measurements a minute apart (2026-12-02: the same
    tree gave 0.58-0.87 from single pairs)."""
    pairs = []
    for _ in range(rounds):
        base_rate, base_queued = alone(server, client, body, seconds)
        seen = on_page(tab, seconds, server.pid)
        served = frames_only(server, client, body, seconds, seen["fps"], seen["rows"])
        floor = reference(server, client, open_tab, body, seconds, seen["fps"]) if open_tab else None
        pairs.append({**seen, "alone_steps_per_s": base_rate, "alone_queued": base_queued,
                      "ratio": seen["steps_per_s"] / base_rate if base_rate else None,
                      "frames_only_ratio": served / base_rate if base_rate else None,
                      "reference_ratio": floor / base_rate if base_rate and floor is not None else None})
    ratios = [p["ratio"] for p in pairs if p["ratio"] is not None]
    pick = lambda k: median([p[k] for p in pairs if p[k] is not None]) if any(p[k] is not None for p in pairs) else None  # noqa: E731
    return {"fps": pick("fps"), "steps_per_s": pick("steps_per_s"), "frame_ms": pick("frame_ms"),
            "alone_steps_per_s": pick("alone_steps_per_s"), "queued": pick("queued"),
            "alone_queued": pick("alone_queued"), "ratio": median(ratios) if ratios else None,
            "ratios": ratios, "frames_only_ratio": pick("frames_only_ratio"),
            "reference_ratio": pick("reference_ratio"), "pairs": pairs}


@contextlib.contextmanager
def browser(playwright: bool):
    """A function url → Tab, in Debian's Chromium (bare, or through Playwright), closed after."""
    if playwright:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH)
            try:
                def open_tab(url):
                    page = chromium.new_page(viewport={"width": 1280, "height": 900})
                    page.goto(url)
                    return PlaywrightTab(page)
                yield open_tab
            finally:
                chromium.close()
    else:
        with BareChromium(LAUNCH) as chromium:
            yield chromium.open


def pct(v) -> str:
    return "—" if v is None else f"{v:.0%}"


def ratio_text(v) -> str:
    return "—" if v is None else f"{v:.2f}"


def spread(ratios) -> str:
    """The pairs' ratios as "n: lowest-highest" ("" without)."""
    return f"{len(ratios)}: {min(ratios):.2f}-{max(ratios):.2f}" if ratios else ""


def table(rows: dict, indent: str = "") -> list[str]:
    """The rows as lines of text (also the benchmark suite's section 6)."""
    head = (f"{'case':30} {'frames/s':>9} {'target':>7} {'ms/frame':>9} {'steps/s':>9} {'alone':>9} {'ratio':>6} "
            f"{'frames':>7} {'floor':>7} {'queued':>7} {'(alone)':>7}  pairs")
    out = [indent + head]
    for name, r in rows.items():
        if "skipped" in r:
            out.append(f"{indent}{name:30} skipped: {r['skipped']}")
            continue
        out.append(f"{indent}{name:30} {r['fps']:9.1f} {r['target_fps']:7} {r['frame_ms']:9.1f} "
                   f"{r['steps_per_s']:9.0f} {r['alone_steps_per_s']:9.0f} "
                   f"{'—' if r['ratio'] is None else format(r['ratio'], '6.2f'):>6} "
                   f"{ratio_text(r.get('frames_only_ratio')):>7} {ratio_text(r.get('reference_ratio')):>7} "
                   f"{pct(r.get('queued')):>7} {pct(r.get('alone_queued')):>7}  {spread(r.get('ratios'))}")
    out.append(f"{indent}frames/s: drawn by the page (data-fps); ms/frame: the page's script time per frame "
               f"(median);\n{indent}alone: the same network played with no live view; ratio ≥ 0.9 is the target, the\n"
               f"{indent}median of back-to-back pairs (alone, then the page; 'pairs': how many, lowest-highest);\n"
               f"{indent}frames: the same ratio with a bare WebSocket client taking the page's frames at its rate\n"
               f"{indent}(no browser: what building and sending them costs); floor: the same ratio with, instead,\n"
               f"{indent}a page that only changes one number at the page's frame rate (what any page drawing that\n"
               f"{indent}often costs the training on this machine);\n"
               f"{indent}queued: of the time the server's threads wanted a CPU, the share they waited for one, with\n"
               f"{indent}the page drawing and (alone) with no page (what the browser's CPU use costs the training).")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--quick", action="store_true", help="4 s per measurement, 2 pairs")
    p.add_argument("--rounds", type=int, default=None, help="pairs (alone, then the page) per case (default 3)")
    p.add_argument("--case", action="append", default=None,
                   help="only the cases whose name contains this (case-insensitive; repeatable)")
    p.add_argument("--json", type=Path)
    p.add_argument("--wire", choices=("bin", "b64", "json"),
                   help="the page's WebSocket encoding (default: its own, bin)")
    p.add_argument("--playwright", action="store_true",
                   help="drive the page with Playwright (its Network domain mirrors every frame: costs CPU)")
    args = p.parse_args(argv)
    seconds = 4.0 if args.quick else args.seconds
    args.rounds = args.rounds or (2 if args.quick else 3)
    rows = {}
    import httpx
    with (Server() as server, httpx.Client(base_url=server.base, timeout=120) as client,
          browser(args.playwright) as open_tab):
        for name, case in CASES.items():
            if args.case and not any(c.lower() in name.lower() for c in args.case):
                continue
            if "mnist" in case["url"] and not SHARED_MNIST.is_dir():
                rows[name] = {"skipped": f"no MNIST files in {SHARED_MNIST}"}
                continue
            url = server.base + case["url"] + (f"&wire={args.wire}" if args.wire else "")
            tab = open_tab(url)
            try:
                page_ready(tab)
                rows[name] = {**paired(server, client, tab, case["body"], seconds, args.rounds, open_tab),
                              "target_fps": case["target_fps"]}
            finally:
                tab.close()
    print(f"the page's frames: {args.wire or 'bin (its default)'}; the browser: "
          f"{'Playwright' if args.playwright else 'bare Chromium (DevTools Runtime only)'}")
    for line in table(rows):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
