"""MNIST handwritten digits, as ``keras.datasets.mnist``: read the four original IDX gzip files.

Folder lookup (``find_dir``): an explicit ``path`` argument (that folder or its ``mnist/`` subfolder,
nothing else); otherwise ``$BACKPROP_LAB_DATA`` (the folder itself or its ``mnist/`` subfolder), then
the per-user cache ``$XDG_CACHE_HOME/backprop-lab/mnist`` (default ``~/.cache/backprop-lab/mnist``).
The first folder holding all four files wins. ``download()`` fills the cache folder.
"""
from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .fetch import DownloadError, fetch_from_mirrors, sha256_of

ENV_VAR = "BACKPROP_LAB_DATA"
DOWNLOAD_COMMAND = "backprop-lab download mnist"
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
# Published SHA-256 and size in bytes of each gzip file.
CHECKSUMS = {
    TRAIN_IMAGES: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    TRAIN_LABELS: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    TEST_IMAGES: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    TEST_LABELS: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
SIZES = {TRAIN_IMAGES: 9_912_422, TRAIN_LABELS: 28_881, TEST_IMAGES: 1_648_877, TEST_LABELS: 4_542}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049      # IDX magic: 0x00000803 (ubyte, 3 dims), 0x00000801 (1 dim)
N_TRAIN, N_TEST, ROWS, COLS = 60_000, 10_000, 28, 28

__all__ = ["load_data", "find_dir", "default_cache_dir", "is_available", "verify_checksums", "download",
           "MnistError", "MnistNotFoundError", "DownloadError", "FILES", "MIRRORS", "CHECKSUMS"]


class MnistError(ValueError):
    """An MNIST file is unreadable: bad gzip, wrong magic number, or a size that disagrees with its header."""


class MnistNotFoundError(MnistError, FileNotFoundError):
    """The MNIST files are not where we looked."""


def default_cache_dir() -> Path:
    """Per-user cache folder: $XDG_CACHE_HOME/backprop-lab/mnist, default ~/.cache/backprop-lab/mnist."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "backprop-lab" / "mnist"


def _candidates(path=None) -> list[Path]:
    """Folders to search, in order: path (and path/mnist) if given, else $BACKPROP_LAB_DATA(/mnist), cache."""
    if path is not None:
        p = Path(path).expanduser()
        return [p, p / "mnist"]
    out = []
    env = os.environ.get(ENV_VAR, "")
    if env:
        out += [Path(env).expanduser(), Path(env).expanduser() / "mnist"]
    return out + [default_cache_dir()]


def find_dir(path=None) -> Path | None:
    """The first folder (see module docstring) holding all four MNIST files, or None."""
    for folder in _candidates(path):
        if all((folder / name).is_file() for name in FILES):
            return folder
    return None


def is_available(path=None) -> bool:
    """True when find_dir(path) finds the four files (existence only; load_data checks contents)."""
    return find_dir(path) is not None


def _how_to_get(folder: Path) -> str:
    """The standard advice: run the download command, or put the files in ``folder`` by hand."""
    return (f"run `{DOWNLOAD_COMMAND}`, or put the four files ({', '.join(FILES)}) in {folder} "
            f"(or point {ENV_VAR} at the folder that holds them)")


def not_found_message(path=None) -> str:
    """Why find_dir(path) found nothing, naming the missing files and how to get them."""
    candidates = _candidates(path)
    target = candidates[0] if path is not None else default_cache_dir()
    for folder in candidates:
        missing = [name for name in FILES if not (folder / name).is_file()]
        if len(missing) < len(FILES):
            return (f"MNIST file{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing from "
                    f"{folder}: {_how_to_get(folder)}")
    looked = ", ".join(str(c) for c in candidates)
    return f"MNIST files not found (looked in {looked}): {_how_to_get(target)}"


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """Parse one gzipped IDX file: big-endian uint32 magic, ``ndim`` uint32 dims, then uint8 data."""
    def fail(problem: str):
        """The MnistError to raise: names the file, the problem and the fix."""
        return MnistError(f"MNIST file {path} {problem}; delete it and {_how_to_get(path.parent)}")

    try:
        raw = gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise MnistNotFoundError(f"MNIST file {path} is missing: {_how_to_get(path.parent)}") from None
    except (OSError, EOFError, zlib.error) as exc:   # BadGzipFile is an OSError; truncation is EOFError
        raise fail(f"is not a valid gzip file ({exc})") from None
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise fail(f"is too short: {len(raw)} bytes after gunzip, an IDX header alone needs {header}")
    found, *dims = struct.unpack(f">{1 + ndim}I", raw[:header])
    if found != magic:
        kind = "image" if magic == IMAGE_MAGIC else "label"
        raise fail(f"has the wrong magic number {found} (expected {magic} for an IDX {kind} file)")
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        shape = "×".join(map(str, dims))
        raise fail(f"has the wrong size: its header says {shape} = {expected} bytes of data "
                   f"but it holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def _load_pair(folder: Path, images_name: str, labels_name: str):
    """(images (n, 28, 28), labels (n,)) uint8 from one images file and one labels file."""
    images = _read_idx(folder / images_name, IMAGE_MAGIC, 3)
    labels = _read_idx(folder / labels_name, LABEL_MAGIC, 1)
    if images.shape[1:] != (ROWS, COLS):
        raise MnistError(f"MNIST file {folder / images_name} holds {images.shape[1]}×{images.shape[2]} "
                         f"images, expected {ROWS}×{COLS}; {_how_to_get(folder)}")
    if len(images) != len(labels):
        raise MnistError(f"MNIST files {images_name} ({len(images)} images) and {labels_name} "
                         f"({len(labels)} labels) in {folder} disagree; {_how_to_get(folder)}")
    if labels.size and labels.max() > 9:
        raise MnistError(f"MNIST file {folder / labels_name} has a label {labels.max()} outside 0..9; "
                         f"{_how_to_get(folder)}")
    return images, labels


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays (60000,28,28), (60000,), (10000,28,28),
    (10000,) like keras.datasets.mnist.load_data. Checks gzip, magic and sizes, not SHA-256."""
    folder = find_dir(path)
    if folder is None:
        raise MnistNotFoundError(not_found_message(path))
    return _load_pair(folder, TRAIN_IMAGES, TRAIN_LABELS), _load_pair(folder, TEST_IMAGES, TEST_LABELS)


def verify_checksums(dir=None) -> dict[str, bool]:
    """{file name: size and SHA-256 match the published ones} for ``dir`` (default: find_dir())."""
    folder = Path(dir).expanduser() if dir is not None else find_dir()
    if folder is None:
        raise MnistNotFoundError(not_found_message())
    result = {}
    for name in FILES:
        p = folder / name
        result[name] = p.is_file() and p.stat().st_size == SIZES[name] and sha256_of(p) == CHECKSUMS[name]
    return result


def download(dest=None, mirrors=MIRRORS, progress=print, timeout=30) -> Path:
    """Fetch the four files into ``dest`` (default default_cache_dir()), trying each mirror in turn.

    A file already present with the right SHA-256 is skipped. Each download goes to a temp file in
    ``dest`` and is renamed (os.replace) only when its SHA-256 matches. Returns ``dest``.
    Raises DownloadError (one sentence: failed, offline?, where to put the files) if all mirrors fail.
    """
    dest = Path(dest).expanduser() if dest is not None else default_cache_dir()
    dest.mkdir(parents=True, exist_ok=True)
    hint = (f"put the four MNIST files ({', '.join(FILES)}) in {dest} by hand, "
            f"or set {ENV_VAR} to another folder that holds them.")
    for name in FILES:
        fetch_from_mirrors(name, dest, CHECKSUMS[name], SIZES[name], mirrors, timeout, progress, hint)
    if progress:
        progress(f"MNIST is ready in {dest}")
    return dest
