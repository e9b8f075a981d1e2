"""examples/mnist_mlp.py: the lecture's MNIST walk-through, on a subset and as a short end-to-end run.

Uses the MNIST files at ../shared/data/mnist beside the project (the ``mnist_dir`` fixture skips,
naming that folder, when they are absent).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "mnist_mlp.py"


@pytest.fixture(scope="module")
def example():
    """The example script imported as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("mnist_mlp_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data(example, mnist_dir):
    return example.load_mnist(mnist_dir)


def test_defaults_match_the_lecture_setup(example):
    args = example.parse_args([])
    assert (args.epochs, args.batch_size, args.lr, args.momentum) == (12, 128, 0.05, 0.9)
    assert args.hidden == (128, 64)
    assert args.digit_html == "mnist_first_digit.html"
    assert example.parse_args(["--hidden", "512"]).hidden == (512,)
    with pytest.raises(SystemExit):
        example.parse_args(["--hidden", "0"])


def test_preprocess_flattens_scales_and_one_hots(example, data):
    (x_train, y_train), _ = data
    x, y = example.preprocess(x_train[:100], y_train[:100])
    assert x.shape == (100, 784) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.shape == (100, 10) and y.dtype == np.float32
    assert (y.argmax(axis=1) == y_train[:100]).all() and (y.sum(axis=1) == 1).all()


def test_one_epoch_on_a_subset_learns(example, data):
    """1 epoch on 6000 training images: far above chance (10 %) on 2000 test images (seed 0: 87.6 %;
    seeds 0-4 gave 82.8-87.6 %)."""
    (x_train, y_train), (x_test, y_test) = data
    x, y = example.preprocess(x_train[:6000], y_train[:6000])
    xt, yt = example.preprocess(x_test[:2000], y_test[:2000])
    model = example.build_model(seed=0)
    assert [layer.units for layer in model.dense_layers] == [128, 64, 10]
    history = model.fit(x, y, epochs=1, batch_size=32, validation_split=0.1, verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    loss, acc = model.evaluate(xt, yt)
    assert acc > 0.75 and loss < 1.0
    assert model.predict_classes(xt[:1]).tolist() == [y_test[0]] == [7]


def test_digit_html_embeds_plotly_js(example, data, tmp_path):
    (x_train, y_train), _ = data
    page = example.write_digit_html(x_train[0], y_train[0], tmp_path / "digit.html")
    html = page.read_text(encoding="utf-8")
    assert "label 5" in html                       # the first training digit is a 5
    assert len(html) > 1_000_000                   # plotly.js itself is inside the file
    assert "plotly.js v" in html and "<script src=" not in html   # embedded, no CDN


def test_missing_data_prints_the_error_and_exits_1(example, tmp_path, capsys):
    assert example.main(["--data", str(tmp_path), "--digit-html", str(tmp_path / "d.html")]) == 1
    err = capsys.readouterr().err
    assert "MNIST files not found" in err and str(tmp_path) in err and "backprop-lab download mnist" in err
    assert not (tmp_path / "d.html").exists()


def test_script_runs_end_to_end_for_one_epoch(mnist_dir, tmp_path):
    """The whole script, 1 epoch on all 60000 images (one BLAS thread, a few seconds)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                             "MKL_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", "1", "--data", str(mnist_dir),
         "--digit-html", str(tmp_path / "digit.html")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Epoch 1/1" in text and "fit wall time:" in text
    assert "dict_keys(['loss', 'acc', 'val_loss', 'val_acc'])" in text
    assert "first test image: predicted 7, true label 7" in text
    acc = float(text.split("test accuracy:")[1].split()[0])
    assert acc > 0.93
    assert (tmp_path / "digit.html").stat().st_size > 1_000_000
