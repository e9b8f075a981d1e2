"""The test suite finds MNIST where a user's clone has it, as the app does."""
import importlib
import sys
from pathlib import Path


def test_mnist_is_found_through_backprop_lab_data(mnist_dir, monkeypatch, tmp_path):
    conftest = sys.modules["tests.conftest"] if "tests.conftest" in sys.modules else importlib.import_module("conftest")
    monkeypatch.setattr(conftest, "SHARED_MNIST", tmp_path / "nowhere")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("BACKPROP_LAB_DATA", raising=False)
    assert conftest.find_mnist() is None
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(Path(mnist_dir).parent))     # the folder holding mnist/
    assert conftest.find_mnist() == Path(mnist_dir)
    cache = tmp_path / "cache" / "backprop-lab" / "mnist"
    cache.mkdir(parents=True)
    for f in Path(mnist_dir).iterdir():
        (cache / f.name).symlink_to(f)
    monkeypatch.delenv("BACKPROP_LAB_DATA")
    assert conftest.find_mnist() == cache
