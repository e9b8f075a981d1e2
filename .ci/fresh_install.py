"""Fresh-install check: does the page work for a user who ran only the README's install step?

The test suite runs with the [test] extra installed, which can hide a missing runtime dependency
(it once did: without the websockets package uvicorn could not accept the page's WebSocket, so Play
was dead while every test passed). This script installs the app alone, with no extras, into a
brand-new virtual environment, starts `backprop-lab serve` from it and drives Debian's Chromium
against it:

  1. Play on the default data set: the step counter (body[data-step]) rises above 0;
  2. where the MNIST files are found in ../shared/data/mnist beside the repo: switch the data set
     to mnist (default hidden layers), Play for about 5 s, Pause; the step moved, the page shows a
     sample of the batch, and there were no page errors or console errors.

It fails if the server logs "No supported WebSocket library detected". It prints one line, exits
non-zero with the reason on any failure, and always stops the server and removes the venv.

Usage: python3 .ci/fresh_install.py [REPO_ROOT]   (default: the repo holding this script)
Needs the system python's playwright and /usr/bin/chromium (never `playwright install`).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
NO_WS_LIBRARY = "No supported WebSocket library detected"
PLAY = '#controls button[data-action="play"]'


class Failed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Failed(f"the server exited with code {server.returncode} before /api/health answered")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise Failed(f"/api/health did not answer within {timeout:.0f} s")


def step(page) -> int:
    return int(page.evaluate("Number(document.body.dataset.step || 0)"))


def wait_until(page, expression: str, timeout: float) -> None:
    """Poll ``expression`` in the page until it is true; TimeoutError after ``timeout`` seconds. (Not
    page.wait_for_function, which evaluates a string with eval: the page's CSP forbids that, as it
    should, and this check runs the page with the CSP a user gets.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {expression}")
        time.sleep(0.05)


def play_for(page, seconds: float, what: str) -> int:
    """Press Play, wait for the step counter to move, let it train `seconds` more, press Pause; steps taken."""
    start = step(page)
    page.click(PLAY)
    try:
        wait_until(page, f"Number(document.body.dataset.step || 0) > {start}", 8)
    except TimeoutError:
        raise Failed(f"{what}: Play did not train (data-step stayed at {step(page)} for 8 s)") from None
    time.sleep(max(0.0, seconds))
    page.click(PLAY)                                          # the same button now reads ‖ Pause
    wait_until(page, f"document.querySelector('{PLAY}').getAttribute('aria-pressed') !== 'true'", 5)
    page.wait_for_timeout(300)                                # the last frame's redraw
    return step(page) - start


def drive_page(url: str, mnist: bool) -> str:
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda e: errors.append(f"page error: {e.name}: {e.message}"))
            page.on("console", lambda m: errors.append(f"console error: {m.text}") if m.type == "error" else None)
            page.goto(url)
            wait_until(page, "!!document.body.dataset.session", 15)
            default = page.input_value('#builder select[name="dataset"]')
            steps = play_for(page, 0.5, f"Play on {default}")
            done = f"{default}: {steps} steps"
            if mnist:
                session = page.evaluate("document.body.dataset.session")
                page.select_option('#builder select[name="dataset"]', "mnist")
                wait_until(page, f"(document.body.dataset.session || '{session}') !== '{session}'", 30)
                steps = play_for(page, 5, "Play on mnist")
                label = page.text_content("#sample-label") or ""
                if "no batch yet" in label:
                    raise Failed(f"mnist: #sample-label still says {label!r} after {steps} steps")
                done += f", mnist: {steps} steps ({label.strip()})"
            if errors:
                raise Failed(f"{len(errors)} error(s) in the page, first: {errors[0]}")
            return done
        except Failed as e:
            if errors and "error(s) in the page" not in str(e):
                raise Failed(f"{e}; {len(errors)} error(s) in the page, first: {errors[0]}") from None
            raise
        finally:
            browser.close()


def main() -> int:
    repo = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]).resolve()
    data = repo.parent / "shared" / "data" / "mnist"
    mnist = all((data / f).is_file() for f in MNIST_FILES)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bpl-fresh-"))
    server = None
    log = tmp / "server.log"
    try:
        venv = tmp / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # The README's install step alone, no extras (pip's cache is reused).
        pip = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                              "-e", str(repo)], capture_output=True, text=True, timeout=300)
        if pip.returncode:
            raise Failed(f"pip install -e . failed:\n{pip.stdout}{pip.stderr}")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "BACKPROP_LAB_DATA")}
        if mnist:
            env["BACKPROP_LAB_DATA"] = str(data)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(log, "wb") as out:
            server = subprocess.Popen([str(venv / "bin/backprop-lab"), "serve", "--host", "127.0.0.1",
                                       "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                      cwd=tmp, env=env, start_new_session=True)
        wait_for_health(url, server)
        try:
            done, problem = drive_page(url, mnist), ""
        except (Failed, PlaywrightError, TimeoutError) as e:
            done, problem = "", str(e)
        if NO_WS_LIBRARY in log.read_text(errors="replace"):   # the symptom in the page, then its cause
            problem += (f"{'; ' if problem else ''}the server logged {NO_WS_LIBRARY!r}: uvicorn has no "
                        f"WebSocket library, a runtime dependency is missing from pyproject.toml's dependencies")
        if problem:
            raise Failed(problem)
        skipped = "" if mnist else f" (mnist skipped: no MNIST files in {data})"
        print(f"fresh install OK in {time.monotonic() - started:.0f} s: {done}{skipped}")
        return 0
    except (Failed, PlaywrightError, TimeoutError, subprocess.SubprocessError) as e:
        print(f"fresh install FAILED after {time.monotonic() - started:.0f} s: {e}", file=sys.stderr)
        if log.exists() and log.stat().st_size:             # each distinct line once
            lines = dict.fromkeys(log.read_text(errors="replace").splitlines())
            print("server output:\n  " + "\n  ".join(list(lines)[-20:]), file=sys.stderr)
        return 1
    finally:
        if server is not None:                        # its own process group: any workers go too
            try:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            try:
                os.killpg(server.pid, signal.SIGKILL)     # whatever is left of the group
            except ProcessLookupError:
                pass
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
