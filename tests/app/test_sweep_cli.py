"""backprop-lab sweep (issue 17): every combination × seeds in local worker processes, a table, JSON
with the curves (the engine's run function's numbers) and CSV with one row per run."""
from __future__ import annotations

import csv
import json

import pytest

from app import cli
from engine import sweep


def test_sweep_prints_a_table_and_writes_json_and_csv(tmp_path, capsys):
    prefix = tmp_path / "out" / "xor"
    code = cli.main(["sweep", "--dataset", "xor", "--layers", "4", "--lr", "0.1,0.5", "--optimizer", "sgd,adam",
                     "--seeds", "2", "--epochs", "2", "--workers", "2", "--out", str(prefix)])
    assert code == 0
    out, err = capsys.readouterr()
    assert "8 runs of 2 epochs in 2 local worker processes" in out and "8/8 runs" in err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("#  settings"))
    assert "val_acc" in lines[header] and len(lines[header + 1:header + 9]) == 8
    saved = json.loads((prefix.with_suffix(".json")).read_text())
    assert [r["settings"] for r in saved["runs"]] == sweep.expand(
        grid={"optimizer": ["sgd", "adam"], "learning_rate": [0.1, 0.5], "seed": [0, 1]})
    for run in saved["runs"][:3]:       # the engine's numbers, recomputed here
        expected = sweep.run({"spec": saved["spec"], "settings": run["settings"], "epochs": 2})
        assert run["history"]["loss"] == [float(v) for v in expected["history"]["loss"]]
        assert run["loss"] == run["history"]["loss"][-1] and run["worker"].startswith("local:")
    rows = list(csv.DictReader(open(prefix.with_suffix(".csv"))))
    assert len(rows) == 8 and rows[2]["optimizer"] == "sgd" and rows[2]["learning_rate"] == "0.5"
    assert float(rows[0]["val_loss"]) == pytest.approx(saved["runs"][0]["val_loss"], rel=1e-3)   # 4 digits


def test_sweep_refuses_a_bad_value_naming_it(capsys):
    assert cli.main(["sweep", "--optimizer", "sgd,adamw", "--epochs", "1"]) == 2
    assert "grid.optimizer.1" in capsys.readouterr().err


def test_a_diverged_run_is_named_with_its_step_and_reason(tmp_path, capsys):
    prefix = tmp_path / "big"
    code = cli.main(["sweep", "--dataset", "xor", "--layers", "8", "--lr", "0.1,100", "--epochs", "2",
                     "--workers", "1", "--out", str(prefix)])
    assert code == 0
    out = capsys.readouterr().out
    saved = json.loads(prefix.with_suffix(".json").read_text())["runs"]
    assert [r["status"] for r in saved] == ["done", "diverged"]
    step, reason = saved[1]["diverged_step"], saved[1]["diverged"]
    assert isinstance(step, int) and reason
    assert f"#1 diverged at step {step}: {reason}" in out.splitlines()
    assert not any(line.startswith("#0 diverged") for line in out.splitlines())
