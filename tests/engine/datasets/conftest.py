"""Fixtures for the data set tests: the shared MNIST folder beside the project, and an isolated env."""
from __future__ import annotations

from pathlib import Path

import pytest


def project_root() -> Path:
    """The folder holding pyproject.toml, found by walking up from this file."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError("pyproject.toml not found above the tests")


SHARED_MNIST = project_root().parent / "shared" / "data" / "mnist"
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """../shared/data/mnist beside the project root; skips the test when the four files are absent."""
    missing = [f for f in MNIST_FILES if not (SHARED_MNIST / f).is_file()]
    if missing:
        pytest.skip(f"real MNIST files not found in {SHARED_MNIST} (missing {', '.join(missing)})")
    return SHARED_MNIST


@pytest.fixture(autouse=True)
def isolated_data_env(monkeypatch, tmp_path_factory):
    """No BACKPROP_LAB_DATA, an empty per-user cache, and no HTTP proxy, so results never depend on
    the machine's own MNIST copy or network settings."""
    monkeypatch.delenv("BACKPROP_LAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg_cache")))
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
