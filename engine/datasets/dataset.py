"""The ``DataSet`` container every loader returns: train/test arrays plus what they mean."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..utils import to_categorical

KINDS = ("classification", "regression")


@dataclass
class DataSet:
    """A train/test split: x rows are samples; y holds class indices or (n, 1) regression targets."""

    name: str                                   # registry name, e.g. "circle", "mnist", "csv:iris.csv"
    kind: str                                   # "classification" or "regression"
    x_train: np.ndarray                         # (n_train, d) float32 inputs
    y_train: np.ndarray                         # (n_train,) int64 class indices, or (n_train, 1) float32
    x_test: np.ndarray                          # (n_test, d) float32 inputs
    y_test: np.ndarray                          # (n_test,) int64 class indices, or (n_test, 1) float32
    n_classes: int | None = None                # number of classes K (None for regression)
    feature_names: list[str] = field(default_factory=list)   # one name per input column (length d)
    input_shape: tuple = ()                     # Keras input_shape of one sample: (d,)
    class_names: list[str] | None = None        # readable name of class k (None for regression)
    description: str = ""                       # one sentence about where the data came from
    options: dict = field(default_factory=dict)  # the options that produced it (reproducible with load)
    coords_train: np.ndarray | None = None      # (n_train, 2) raw 2-D points of playground sets, else None
    coords_test: np.ndarray | None = None       # (n_test, 2) raw 2-D points of playground sets, else None
    image_shape: tuple | None = None            # (28, 28) for images flattened into x (MNIST), else None

    def __post_init__(self):
        """Coerce dtypes (x float32, labels int64, targets float32 (n,1)) and check the shapes agree."""
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "classification" and not self.n_classes:
            raise ValueError("a classification DataSet needs n_classes")
        for split in ("train", "test"):
            x = np.ascontiguousarray(getattr(self, f"x_{split}"), dtype=np.float32)
            if x.ndim != 2:
                raise ValueError(f"x_{split} must be 2-D (samples, features), got shape {x.shape}")
            y = np.asarray(getattr(self, f"y_{split}"))
            if self.kind == "classification":
                y = y.reshape(-1).astype(np.int64)
                if y.size and (y.min() < 0 or y.max() >= self.n_classes):
                    raise ValueError(f"y_{split} labels must lie in 0..{self.n_classes - 1}")
            else:
                y = np.ascontiguousarray(y, dtype=np.float32).reshape(len(y), -1)
            if len(x) != len(y):
                raise ValueError(f"x_{split} has {len(x)} rows but y_{split} has {len(y)}")
            setattr(self, f"x_{split}", x)
            setattr(self, f"y_{split}", y)
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise ValueError("x_train and x_test have different numbers of columns")
        if self.kind == "regression":
            self.n_classes = None
        self.input_shape = tuple(self.input_shape) or (self.x_train.shape[1],)
        if not self.feature_names:
            self.feature_names = [f"x{i + 1}" for i in range(self.x_train.shape[1])]

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return len(self.x_train)

    @property
    def n_test(self) -> int:
        """Number of test samples."""
        return len(self.x_test)

    def inputs(self, split: str = "train") -> np.ndarray:
        """x of ``split`` ("train" or "test")."""
        return self.x_train if _split(split) == "train" else self.x_test

    def targets(self, split: str = "train", one_hot: bool = True) -> np.ndarray:
        """y of ``split``: one-hot float32 (n, K) rows for classification (or int labels if not one_hot);
        float32 (n, 1) for regression."""
        y = self.y_train if _split(split) == "train" else self.y_test
        if self.kind == "classification" and one_hot:
            return to_categorical(y, self.n_classes, dtype="float32")
        return y

    def info(self) -> dict:
        """JSON-friendly summary (no arrays): name, kind, sizes, shapes, classes, features, options."""
        return {
            "name": self.name, "kind": self.kind, "n_train": self.n_train, "n_test": self.n_test,
            "input_shape": list(self.input_shape), "n_classes": self.n_classes,
            "class_names": self.class_names, "feature_names": list(self.feature_names),
            "image_shape": list(self.image_shape) if self.image_shape else None,
            "description": self.description, "options": dict(self.options),
        }


def _split(split: str) -> str:
    """Validate a split name: "train" or "test"."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split
