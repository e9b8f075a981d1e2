"""Shared fixtures: the shared MNIST folder, and Playwright's Chromium launch settings."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def find_mnist() -> Path | None:
    """The folder holding the four MNIST files: ../shared/data/mnist beside the project, else where
    the app itself looks ($BACKPROP_LAB_DATA, the folder or its mnist/ subfolder, then the user cache
    that ``backprop-lab download mnist`` fills)."""
    from engine.datasets import mnist
    return mnist.find_dir(SHARED_MNIST) or mnist.find_dir()


MNIST_DIR = find_mnist()     # looked up once, before any test changes the environment


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The four original MNIST files (see ``find_mnist``); skips, saying how to get them, if absent."""
    if MNIST_DIR is None:
        pytest.skip(f"MNIST files not found in {SHARED_MNIST}, $BACKPROP_LAB_DATA or the user cache: run "
                    "`backprop-lab download mnist` (or set BACKPROP_LAB_DATA to a folder holding the four "
                    "files) to run this test")
    return MNIST_DIR


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser (``playwright install`` is not used)."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}
