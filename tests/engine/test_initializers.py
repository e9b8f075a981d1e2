"""Initializers: bounds, variances from the scale rules, truncation, determinism, lookup."""
import math
import os

import numpy as np
import pytest

from engine import initializers
from engine.initializers import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Ones,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    compute_fans,
)

SHAPE = (400, 300)            # a Dense kernel: fan_in 400, fan_out 300; 120 000 draws
FAN_IN, FAN_OUT = SHAPE
TRUNC = 0.87962566103423978   # std of N(0, 1) cut at ±2


def draw(init, shape=SHAPE, seed=0, dtype=None):
    return init(shape, dtype=dtype, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((5, 3), (5, 3)), ((3, 3, 4, 8), (36, 72)),
])
def test_compute_fans_like_keras(shape, fans):
    assert compute_fans(shape) == fans


# name → (expected variance, |w| bound or None): the Keras 3 scale rules for SHAPE
RULES = {
    "glorot_uniform": (2 / (FAN_IN + FAN_OUT), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "glorot_normal": (2 / (FAN_IN + FAN_OUT), 2 * math.sqrt(2 / (FAN_IN + FAN_OUT)) / TRUNC),
    "he_uniform": (2 / FAN_IN, math.sqrt(6 / FAN_IN)),
    "he_normal": (2 / FAN_IN, 2 * math.sqrt(2 / FAN_IN) / TRUNC),
    "lecun_uniform": (1 / FAN_IN, math.sqrt(3 / FAN_IN)),
    "lecun_normal": (1 / FAN_IN, 2 * math.sqrt(1 / FAN_IN) / TRUNC),
    "random_uniform": (0.1 ** 2 / 12, 0.05),
    "random_normal": (0.05 ** 2, None),
    "truncated_normal": ((0.05 * TRUNC) ** 2, 2 * 0.05),
}


@pytest.mark.parametrize("name", RULES)
def test_variance_and_bounds_follow_the_scale_rule(name):
    var, bound = RULES[name]
    w = draw(initializers.get(name))
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.mean()) < 0.02 * math.sqrt(var)
    assert w.var() == pytest.approx(var, rel=0.03)
    if bound is not None:
        assert np.abs(w).max() <= np.float32(bound)           # never beyond the limit / 2σ cut
        assert np.abs(w).max() > 0.99 * bound                 # ... but reaching close to it


def test_untruncated_normal_exceeds_two_sigma_and_truncated_does_not():
    plain = draw(RandomNormal(stddev=1.0), dtype="float64")
    cut = draw(TruncatedNormal(stddev=1.0), dtype="float64")
    assert np.abs(plain).max() > 3.5
    assert np.abs(cut).max() <= 2.0
    assert cut.std() == pytest.approx(TRUNC, rel=0.01)


def test_uniform_limits_are_exact():
    w = draw(RandomUniform(minval=-0.5, maxval=2.0), dtype="float64")
    assert w.min() >= -0.5 and w.max() < 2.0
    assert w.min() < -0.499 and w.max() > 1.999
    assert w.mean() == pytest.approx(0.75, abs=0.01)


@pytest.mark.parametrize("mode, distribution, var", [
    ("fan_out", "untruncated_normal", 3.0 / FAN_OUT),
    ("fan_avg", "uniform", 3.0 / ((FAN_IN + FAN_OUT) / 2)),
    ("fan_in", "normal", 3.0 / FAN_IN),                      # "normal" means truncated, as in Keras
])
def test_variance_scaling_modes(mode, distribution, var):
    init = VarianceScaling(scale=3.0, mode=mode, distribution=distribution)
    assert draw(init).var() == pytest.approx(var, rel=0.03)
    assert init.variance(SHAPE) == pytest.approx(var)


def test_bias_shape_uses_units_as_both_fans():
    assert draw(GlorotUniform(), shape=(50,)).shape == (50,)
    assert np.abs(draw(GlorotUniform(), shape=(50,))).max() <= np.float32(math.sqrt(6 / 100))
    assert VarianceScaling(mode="fan_avg").variance((50,)) == pytest.approx(1 / 50)


def test_small_fans_are_clamped_to_one():
    assert VarianceScaling(scale=2.0).variance(()) == 2.0


@pytest.mark.parametrize("init", [GlorotUniform(), HeNormal(), RandomNormal(), TruncatedNormal(),
                                  RandomUniform(), LecunUniform(), GlorotNormal(), LecunNormal()], ids=repr)
def test_same_seeded_generator_gives_same_weights(init):
    a, b, c = draw(init, (20, 10), seed=5), draw(init, (20, 10), seed=5), draw(init, (20, 10), seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_seed_argument_is_used_without_rng():
    assert np.array_equal(HeUniform(seed=3)((4, 4)), HeUniform(seed=3)((4, 4)))
    assert not np.array_equal(HeUniform(seed=3)((4, 4)), HeUniform(seed=4)((4, 4)))
    with pytest.raises(ValueError, match="seed"):
        HeUniform(seed="x")


def test_rng_draws_advance_the_generator():
    rng = np.random.default_rng(0)
    assert not np.array_equal(GlorotUniform()((3, 3), rng=rng), GlorotUniform()((3, 3), rng=rng))


def test_dtype_argument_and_floatx_default():
    assert draw(HeNormal(), (3, 2), dtype="float64").dtype == np.float64
    assert Zeros()((2,)).dtype == np.float32


def test_zeros_ones_constant():
    assert np.array_equal(Zeros()((2, 3)), np.zeros((2, 3)))
    assert np.array_equal(Ones()((4,), dtype="float64"), np.ones(4))
    w = Constant(0.25)((2, 2))
    assert w.dtype == np.float32 and np.all(w == 0.25)
    assert np.all(initializers.get("constant", value=-3)((3,)) == -3.0)


@pytest.mark.parametrize("alias, cls", [
    ("uniform", RandomUniform), ("normal", RandomNormal), ("zero", Zeros), ("one", Ones),
    ("GlorotUniform", GlorotUniform), ("HE_NORMAL", HeNormal), ("variance_scaling", VarianceScaling),
    ("truncated_normal", TruncatedNormal), ("lecun_normal", LecunNormal),
])
def test_names_and_aliases(alias, cls):
    assert type(initializers.get(alias)) is cls


def test_keras3_defaults():
    assert RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert TruncatedNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert VarianceScaling().get_config() == {"scale": 1.0, "mode": "fan_in",
                                              "distribution": "truncated_normal", "seed": None}
    assert Constant().get_config() == {"value": 0.0}


def test_get_none_unknown_and_bad_arguments():
    assert initializers.get(None) is None
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("xavier")
    with pytest.raises(ValueError, match="mode"):
        VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="scale"):
        VarianceScaling(scale=0.0)


def test_serialize_round_trip():
    for init in (GlorotUniform(seed=7), VarianceScaling(2.0, "fan_out", "uniform"), Constant(1.5)):
        data = initializers.serialize(init)
        assert data["class_name"] == type(init).__name__
        back = initializers.deserialize(data)
        assert type(back) is type(init) and back.get_config() == init.get_config()
    assert initializers.serialize(None) is None


def test_describe_states_the_formula_and_numbers():
    assert "√(6/(fan_in+fan_out))" in GlorotUniform().describe()
    text = GlorotUniform().describe((64, 32))
    assert f"{math.sqrt(6 / 96):.4g}" in text
    assert "0.8796" in HeNormal().describe() and "fan_in" in HeNormal().describe()


@pytest.mark.keras
def test_fans_match_keras3():
    os.environ["KERAS_BACKEND"] = "torch"
    pytest.importorskip("keras")
    from keras.src.initializers.random_initializers import compute_fans as keras_fans
    for shape in [(), (7,), (5, 3), (3, 3, 4, 8)]:
        assert compute_fans(shape) == keras_fans(shape)
