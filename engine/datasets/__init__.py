"""Data sets, as ``keras.datasets``: MNIST, Playground-style 2-D sets, and CSV files.

    from engine.datasets import mnist, list_datasets, load
    (x_train, y_train), (x_test, y_test) = mnist.load_data()    # uint8, exactly like Keras
    ds = load("circle", noise=0.1, seed=3)                       # a DataSet: float32 x, int labels
    ds.x_train, ds.targets("train")                              # one-hot float32 rows for training

``list_datasets()`` is the single source of data set names, options and availability.
"""
from __future__ import annotations

from . import csv_data, mnist, playground
from .csv_data import load_csv
from .dataset import DataSet
from .fetch import DownloadError
from .mnist import MnistError, MnistNotFoundError
from .registry import list_datasets, load, names

__all__ = [
    "DataSet", "DownloadError", "MnistError", "MnistNotFoundError", "csv_data", "list_datasets", "load",
    "load_csv", "mnist", "names", "playground",
]
