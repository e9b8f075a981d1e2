"""The backprop-lab command line: train on each kind of data set, clear errors for bad input."""
import numpy as np

from app import cli


def test_train_default_learns_xor(capsys):
    assert cli.main(["train", "--epochs", "30"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.strip().splitlines()[-1].split("test accuracy ")[1].split()[0])
    assert accuracy >= 0.95, out[-300:]
    assert "Epoch 30/30" in out


def test_train_on_a_csv_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    rows = "".join(f"{a:.4f},{b:.4f},{int(a + b > 0)}\n" for a, b in x)
    path = tmp_path / "data.csv"
    path.write_text("x1,x2,label\n" + rows)
    assert cli.main(["train", "--dataset", "csv", "--csv", str(path), "--target", "label",
                     "--layers", "4", "--epochs", "40"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert float(last.split("test accuracy ")[1].split()[0]) >= 0.9


def test_csv_without_file_is_a_clear_error(capsys):
    assert cli.main(["train", "--dataset", "csv"]) == 2
    assert "--csv FILE and --target COLUMN" in capsys.readouterr().err


def test_mnist_on_a_subset(mnist_dir, monkeypatch, capsys):
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(mnist_dir))
    assert cli.main(["train", "--dataset", "mnist", "--max-train", "3000", "--layers", "32",
                     "--activation", "relu", "--epochs", "1", "--lr", "0.1"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert float(last.split("test accuracy ")[1].split()[0]) > 0.8


def test_diverging_rate_exits_with_the_diverged_message(capsys):
    code = cli.main(["train", "--dataset", "plane", "--layers", "16", "--activation", "relu",
                     "--lr", "90", "--epochs", "20"])
    err = capsys.readouterr().err
    assert code == 1 and "diverged" in err and "lower learning rate" in err
