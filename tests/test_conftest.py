"""The test suite finds MNIST where a user's clone has it, as the app does."""
import importlib.util
from pathlib import Path


def _conftest():
    """tests/conftest.py itself (pytest registers several modules named "conftest")."""
    spec = importlib.util.spec_from_file_location("tests_root_conftest", Path(__file__).with_name("conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mnist_is_found_through_backprop_lab_data(mnist_dir, monkeypatch, tmp_path):
    conftest = _conftest()
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
