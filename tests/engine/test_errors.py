"""The engine's errors carry the parameter they concern (ConfigError.param), so the server names the
field without reading messages; they stay ValueErrors for plain Python users."""
import pytest

from engine.builder import OUTPUT_UNITS, build_model, check_output
from engine.errors import ConfigError
from engine.optimizers import SGD, Adam


@pytest.mark.parametrize("make, param", [
    (lambda: SGD(momentum=1.5), ("optimizer", "momentum")),
    (lambda: Adam(beta_1=-0.1), ("optimizer", "beta_1")),
    (lambda: SGD(learning_rate=float("nan")), ("optimizer", "learning_rate")),
    (lambda: SGD(bogus=1), ("optimizer", "bogus")),
    (lambda: build_model(2, [], "mse", "sgd"), ("layers",)),
])
def test_bad_settings_name_their_parameter(make, param):
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.param == param and isinstance(info.value, ValueError)


def test_an_output_layer_that_does_not_fit_names_its_units():
    model = build_model(2, [{"units": 4, "activation": "tanh"}, {"units": 3, "activation": "softmax"}],
                        "categorical_crossentropy", "sgd")
    with pytest.raises(ConfigError, match="has 3 units but the data set has 2 classes") as info:
        check_output(model, "classification", 2)
    assert info.value.param == OUTPUT_UNITS == ("layers", -1, "units")
    with pytest.raises(ConfigError) as info:
        check_output(build_model(2, [{"units": 1}], "sparse_categorical_crossentropy", "sgd"), "regression", None)
    assert info.value.param == ("loss",)
