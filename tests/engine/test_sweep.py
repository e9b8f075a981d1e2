"""Sweeps (engine/sweep.py): grid expansion, validation naming the field, one deterministic run."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from engine import sweep
from engine.compare import build_run, train_run
from engine.runner import Run

SPEC = {"dataset": {"name": "xor", "n_samples": 120, "noise": 0.05, "seed": 0},
        "layers": [{"units": 6, "activation": "tanh"}, {"units": 2, "activation": "softmax"}],
        "loss": "categorical_crossentropy", "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "batch_size": 10, "seed": 0}


def test_grid_is_every_combination_first_axis_slowest():
    runs = sweep.expand(grid={"optimizer": ["sgd", "adam"], "learning_rate": [0.01, 0.1, 1.0]})
    assert runs == [{"optimizer": o, "learning_rate": r} for o in ("sgd", "adam") for r in (0.01, 0.1, 1.0)]
    assert len(sweep.expand(grid={"seed": [0, 1, 2], "batch_size": [4, 8], "activation": ["relu"]})) == 6
    explicit = [{"optimizer": {"name": "sgd", "momentum": 0.9}}, {"batch_size": 4, "seed": 3}]
    assert sweep.expand(runs=explicit) == explicit


@pytest.mark.parametrize("kwargs, field", [
    ({"grid": {"learning_rate": [0.1, 0.0]}}, "grid.learning_rate.1"),
    ({"grid": {"learning_rate": [True]}}, "grid.learning_rate.0"),
    ({"grid": {"optimizer": ["adamw"]}}, "grid.optimizer.0"),
    ({"grid": {"optimizer": [{"name": "sgd", "momentum": 2.0}]}}, "grid.optimizer.0"),
    ({"grid": {"optimizer": ["sgd", {"name": "adam", "learning_rate": 1e9}]}}, "grid.optimizer.1"),
    ({"grid": {"batch_size": [8, 2.5]}}, "grid.batch_size.1"),
    ({"grid": {"colour": [1]}}, "grid.colour"),
    ({"grid": {"seed": []}}, "grid.seed"),
    ({"grid": {"layers": [[8, 0]]}}, "grid.layers.0"),
    ({"runs": [{"seed": 0}, {"activation": "sine"}]}, "runs.1.activation"),
    ({"runs": [{"kernel_initializer": "ones"}, {"kernel_initializer": "golden"}]}, "runs.1.kernel_initializer"),
    ({"runs": []}, "runs"),
    ({}, "grid"),
])
def test_bad_sweeps_name_the_field(kwargs, field):
    with pytest.raises(ValueError) as info:
        sweep.expand(**kwargs)
    assert str(info.value).startswith(field + ":")
    assert ".".join(map(str, info.value.field)) == field


def test_apply_changes_only_the_swept_settings():
    spec = sweep.apply(SPEC, {"optimizer": "adam", "activation": "relu", "layers": [4, 3], "seed": 7})
    assert spec["optimizer"] == {"name": "adam"}
    assert spec["layers"] == [{"units": 4, "activation": "relu"}, {"units": 3, "activation": "relu"},
                              {"units": 2, "activation": "softmax"}]
    assert spec["seed"] == 7 and spec["batch_size"] == 10 and SPEC["optimizer"] == {"name": "sgd", "learning_rate": 0.1}
    both = sweep.apply(SPEC, {"optimizer": {"name": "sgd", "momentum": 0.9}, "learning_rate": 0.5})
    assert both["optimizer"] == {"name": "sgd", "momentum": 0.9, "learning_rate": 0.5}
    assert sweep.learning_rate_of(sweep.apply(SPEC, {"optimizer": "adam"})) == pytest.approx(0.001)


def test_a_run_is_deterministic_and_picklable():
    config = {"spec": SPEC, "settings": {"optimizer": "adam", "learning_rate": 0.05}, "epochs": 2}
    assert pickle.loads(pickle.dumps(sweep.run)) is sweep.run
    seen = []
    first = sweep.run(config, progress=seen.append)
    second = sweep.run(pickle.loads(pickle.dumps(config)))
    assert first["status"] == "done" and first["settings"] == config["settings"]
    assert first["history"]["batch_loss"] == second["history"]["batch_loss"]        # bit for bit
    assert first["history"]["loss"] == second["history"]["loss"]
    assert len(first["history"]["batch_loss"]) == 2 * 6                              # 60 training rows / 10
    streamed = [v for m in seen if m["event"] == "batch_loss" for v in m["values"]]
    assert streamed == first["history"]["batch_loss"]
    assert [m["epoch"] for m in seen if m["event"] == "epoch"] == [1, 2]


def test_the_learning_rate_axis_is_the_old_comparison():
    old = train_run(SPEC, 0.3, 2)
    new = sweep.run({"spec": SPEC, "settings": {"learning_rate": 0.3}, "epochs": 2})
    assert new["history"]["batch_loss"] == old["history"]["batch_loss"] and new["learning_rate"] == 0.3


def test_runs_share_initial_weights_and_batch_order():
    """The seven optimizers: the same first batch loss (same weights, same first rows) and the same
    initial loss; after two updates all seven differ (SGD and SGD + momentum take the same first
    step, m = −η·g). Another seed: other weights. The sweep's losses are those of a Run built
    directly from the applied spec."""
    runs = [sweep.run({"spec": SPEC, "settings": s, "epochs": 1})
            for s in sweep.expand(grid={"optimizer": [o for o in sweep.SEVEN_OPTIMIZERS]})]
    assert len({r["history"]["batch_loss"][0] for r in runs}) == 1
    assert len({r["initial"]["loss"] for r in runs}) == 1
    assert runs[0]["history"]["batch_loss"][1] == runs[1]["history"]["batch_loss"][1]
    assert len({r["history"]["batch_loss"][2] for r in runs}) == 7           # the updates differ
    other = sweep.run({"spec": SPEC, "settings": {"seed": 1}, "epochs": 1})
    assert other["initial"]["loss"] != runs[0]["initial"]["loss"]
    data, model, y_train, _ = build_run(sweep.apply(SPEC, {"learning_rate": 0.2}))
    run = Run(model, data.x_train, y_train, 10)
    losses = [float(run.step().loss) for _ in range(2)]
    swept = sweep.run({"spec": SPEC, "settings": {"learning_rate": 0.2}, "epochs": 1})["history"]["batch_loss"]
    assert losses == swept[:2]
    assert np.isfinite(swept).all()


def test_cancel_stops_at_the_next_batch():
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3
    result = sweep.run({"spec": SPEC, "settings": {}, "epochs": 5}, should_stop=stop)
    assert result["status"] == "cancelled" and len(result["history"]["batch_loss"]) == 3


def test_the_decision_map_of_a_trained_xor_run_follows_the_rule():
    """Class 1 where x1·x2 ≥ 0: the map's predicted classes, on the grid recomputed here from the
    points, agree with the rule over most of the plane (the test accuracy is > 0.9), and the network
    is surer in the quadrants' corners than along the axes, where the classes meet."""
    spec = {**SPEC, "layers": [{"units": 8, "activation": "tanh"}, {"units": 2, "activation": "softmax"}]}
    result = sweep.run({"spec": spec, "settings": {"learning_rate": 0.5}, "epochs": 40})
    assert result["history"]["val_acc"][-1] > 0.9
    data, *_ = build_run(spec)
    points = np.concatenate([data.coords_train, data.coords_test])
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.05 * (hi - lo)
    g1, g2 = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 24), np.linspace(lo[1] - pad[1], hi[1] + pad[1], 24))
    cells = np.array(result["boundary"]["cells"])
    assert result["boundary"]["resolution"] == 24 and cells.shape == (576,) and result["boundary"]["classes"] == 2
    predicted, confidence = cells // 10, cells % 10
    assert np.mean(predicted == (g1 * g2 >= 0).ravel()) > 0.8
    near_axes = (np.minimum(abs(g1), abs(g2)) < 0.5).ravel()
    assert confidence[~near_axes].mean() > confidence[near_axes].mean() + 2
    assert sweep.run({"spec": {**SPEC, "dataset": {"name": "plane", "n_samples": 60, "seed": 0}, "loss": None,
                               "layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "linear"}]},
                      "settings": {}, "epochs": 1})["boundary"] is None          # regression: no map
