"""engine/fast/rules.py: Adam's rule into kept scratch vectors is Adam.update, bit for bit."""
from types import SimpleNamespace

import numpy as np
import pytest

from engine.fast import rules
from engine.optimizers import SGD, Adam


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_kept_adam_rule_equals_adam_update(dtype, amsgrad):
    rng = np.random.default_rng(0)
    opt = Adam(0.01, beta_1=0.8, beta_2=0.99, amsgrad=amsgrad, decay=0.1)
    n = 1000
    w1 = rng.standard_normal(n).astype(dtype)
    w2 = w1.copy()
    names = ("m", "v", "v_hat") if amsgrad else ("m", "v")
    s1 = SimpleNamespace(**{k: np.zeros(n, dtype) for k in names})
    s2 = SimpleNamespace(**{k: np.zeros(n, dtype) for k in names})
    scratch = rules.Scratch()
    for it in range(12):
        g = (rng.standard_normal(n) * 10.0 ** rng.integers(-6, 2, n)).astype(dtype)
        g[:3] = 0.0
        opt.iterations = it
        lr = opt.current_learning_rate()
        opt.update(w1, g, s1, lr)
        rules.adam_update(opt, w2, g, s2, lr, scratch)
        assert w1.tobytes() == w2.tobytes()
        for k in names:
            assert getattr(s1, k).tobytes() == getattr(s2, k).tobytes()


def test_only_adams_own_update_is_kept():
    class ClippedAdam(Adam):
        def update(self, w, g, s, lr):
            super().update(w, np.clip(g, -1.0, 1.0), s, lr)

    class NamedAdam(Adam):
        pass

    assert rules.kept_rule(Adam()) is rules.adam_update
    assert rules.kept_rule(NamedAdam()) is rules.adam_update
    assert rules.kept_rule(ClippedAdam()) is None
    assert rules.kept_rule(SGD()) is None


def test_scratch_follows_the_weights_size_and_dtype():
    scratch = rules.Scratch()
    a, b = scratch.get(np.zeros(5, np.float32))
    assert a.shape == b.shape == (5,) and a.dtype == np.float32 and a is not b
    assert scratch.get(np.zeros(5, np.float32))[0] is a
    assert scratch.get(np.zeros(7, np.float32))[0].shape == (7,)
    assert scratch.get(np.zeros(7, np.float64))[0].dtype == np.float64
