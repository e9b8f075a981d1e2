"""engine.datasets.mnist: reading the real IDX files, folder lookup, and clear errors for bad files."""
from __future__ import annotations

import gzip
import shutil
import struct

import numpy as np
import pytest

from engine.datasets import mnist
from engine.datasets.mnist import MnistError, MnistNotFoundError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]   # digits 0..9
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def real(mnist_dir):
    """The real MNIST arrays, read once for this module."""
    return mnist.load_data(mnist_dir)


def test_load_data_matches_keras_shapes_dtypes_and_labels(real):
    (x_train, y_train), (x_test, y_test) = real
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert x_train.min() == 0 and x_train.max() == 255 and x_test.max() == 255
    assert 33.0 < x_train.mean() < 33.7            # the well-known mean pixel of MNIST, 33.32
    assert x_train[0, :4].sum() == 0 and x_train[0, 14].sum() > 0   # blank border, ink in the middle
    assert x_train.flags.writeable                 # Keras returns ordinary arrays


def test_verify_checksums_on_real_and_modified_files(mnist_dir, tmp_path):
    assert mnist.verify_checksums(mnist_dir) == {name: True for name in mnist.FILES}
    for name in mnist.FILES:
        shutil.copy(mnist_dir / name, tmp_path / name)
    data = bytearray((tmp_path / mnist.TEST_LABELS).read_bytes())
    data[100] ^= 0xFF
    (tmp_path / mnist.TEST_LABELS).write_bytes(bytes(data))
    result = mnist.verify_checksums(tmp_path)
    assert result[mnist.TEST_LABELS] is False
    assert [result[n] for n in mnist.FILES if n != mnist.TEST_LABELS] == [True, True, True]


def test_lookup_order_path_env_and_cache(mnist_dir, tmp_path, monkeypatch):
    assert mnist.find_dir() is None and not mnist.is_available()
    assert mnist.find_dir(mnist_dir) == mnist_dir
    assert mnist.find_dir(mnist_dir.parent) == mnist_dir          # the mnist/ subfolder is accepted
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(mnist_dir))
    assert mnist.find_dir() == mnist_dir and mnist.is_available()
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(mnist_dir.parent))
    assert mnist.find_dir() == mnist_dir
    assert mnist.find_dir(tmp_path) is None                       # an explicit path is not second-guessed
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(tmp_path))
    cache = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert mnist.default_cache_dir() == cache / "backprop-lab" / "mnist"
    assert mnist.find_dir() is None
    cache.joinpath("backprop-lab").mkdir(parents=True)
    cache.joinpath("backprop-lab", "mnist").symlink_to(mnist_dir, target_is_directory=True)
    assert mnist.find_dir() == cache / "backprop-lab" / "mnist"   # env folder empty → cache used


def test_default_cache_dir_without_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist.default_cache_dir() == tmp_path / ".cache" / "backprop-lab" / "mnist"


def _folder_with(tmp_path, mnist_dir, replace: dict[str, bytes | None]):
    """A folder of links to the real files, with some replaced by given bytes (or left out if None)."""
    folder = tmp_path / "m"
    folder.mkdir()
    for name in mnist.FILES:
        if name not in replace:
            (folder / name).symlink_to(mnist_dir / name)
        elif replace[name] is not None:
            (folder / name).write_bytes(replace[name])
    return folder


def test_missing_file_names_it_and_says_how_to_get_it(tmp_path, mnist_dir):
    folder = _folder_with(tmp_path, mnist_dir, {mnist.TRAIN_LABELS: None})
    assert not mnist.is_available(folder)
    with pytest.raises(MnistNotFoundError) as info:
        mnist.load_data(folder)
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    assert mnist.TRAIN_LABELS in msg and str(folder) in msg and "backprop-lab download mnist" in msg
    assert mnist.TRAIN_IMAGES not in msg.split(":")[0]            # only the missing one is named first


def test_nothing_found_lists_where_it_looked(tmp_path):
    with pytest.raises(MnistNotFoundError, match="not found") as info:
        mnist.load_data()
    msg = str(info.value)
    assert str(mnist.default_cache_dir()) in msg and "backprop-lab download mnist" in msg
    assert "BACKPROP_LAB_DATA" in msg


def _idx(magic: int, dims: tuple, payload: bytes) -> bytes:
    """A gzipped IDX file: big-endian magic, dims, payload."""
    return gzip.compress(struct.pack(f">{1 + len(dims)}I", magic, *dims) + payload)


def _labels(mnist_dir, name=mnist.TEST_LABELS) -> bytes:
    """The real gzip bytes of a labels file."""
    return (mnist_dir / name).read_bytes()


BAD_FILES = {
    "truncated gzip": (mnist.TEST_LABELS, lambda d: _labels(d)[: len(_labels(d)) // 2], "not a valid gzip"),
    "not gzip at all": (mnist.TEST_LABELS, lambda d: b"<html>404 Not Found</html>", "not a valid gzip"),
    "flipped byte (CRC)": (mnist.TEST_LABELS,
                           lambda d: _labels(d)[:2000] + bytes([_labels(d)[2000] ^ 0xFF]) + _labels(d)[2001:],
                           "not a valid gzip"),
    "wrong magic": (mnist.TEST_LABELS, lambda d: _idx(2051, (10,), bytes(10)),
                    "wrong magic number 2051 (expected 2049"),
    "images with label magic": (mnist.TEST_IMAGES, lambda d: _idx(2049, (10, 28, 28), bytes(7840)),
                                "wrong magic number"),
    "header says more than it holds": (mnist.TEST_LABELS, lambda d: _idx(2049, (10000,), bytes(100)),
                                       "wrong size: its header says 10000 = 10000 bytes of data but it holds 100"),
    "too short for a header": (mnist.TRAIN_LABELS, lambda d: gzip.compress(b"\x00\x00"), "too short"),
    "images and labels disagree": (mnist.TEST_LABELS,
                                   lambda d: _idx(2049, (9999,), gzip.decompress(_labels(d))[8:8 + 9999]),
                                   "10000 images) and t10k-labels-idx1-ubyte.gz (9999 labels"),
    "label out of range": (mnist.TEST_LABELS, lambda d: _idx(2049, (10000,), bytes([12]) * 10000),
                           "label 12 outside 0..9"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_raises_mnist_error_naming_file_and_problem(case, tmp_path, mnist_dir):
    name, make, problem = BAD_FILES[case]
    folder = _folder_with(tmp_path, mnist_dir, {name: make(mnist_dir)})
    assert mnist.is_available(folder)                              # present, so found ...
    with pytest.raises(MnistError) as info:                        # ... but refused when read
        mnist.load_data(folder)
    msg = str(info.value)
    assert not isinstance(info.value, FileNotFoundError)
    assert name in msg and problem in msg, msg
    assert "backprop-lab download mnist" in msg
