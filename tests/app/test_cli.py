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


def test_base_install_brings_a_websocket_library():
    """The page's Play needs uvicorn's WebSocket support from the base install, not from [test]."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)     # no tomllib on 3.10
    base = {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower() for d in re.findall(r'"([^"]+)"', block)}
    assert base & {"websockets", "wsproto"} or '"uvicorn[standard]' in block, base


def test_serve_help_explains_every_option_and_the_caps(capsys):
    import pytest
    serve = cli.make_parser()._subparsers._group_actions[0].choices["serve"]
    for action in serve._actions:
        assert action.help, f"{action.option_strings} has no help text"
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "For a class, raise --max-sessions" in out and "--max-total-params" in out


def test_serve_options_become_the_servers_settings():
    args = cli.make_parser().parse_args(["serve", "--max-sessions", "90", "--max-total-params", "5000",
                                         "--idle-expiry", "60"])
    settings = cli.serve_settings(args)
    assert (settings.max_sessions, settings.max_total_params, settings.idle_expiry_seconds) == (90, 5000, 60.0)
