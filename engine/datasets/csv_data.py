"""Load a small numeric CSV (header row, one sample per row, a named target column) as a DataSet."""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

from .dataset import DataSet
from .options import choice_option, float_option, int_option, seed_option, text_option, validate

MIN_ROWS = 4                    # fewer data rows cannot give a train and a test split worth the name
MAX_AUTO_CLASSES = 20           # auto-detect: integers with at most this many distinct values are labels
MAX_CLASSES = 100               # a classification target may have at most this many distinct values
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}   # cells read as "missing value"
OPTIONS = {
    "path": text_option(None, "The CSV file (header row, comma-separated numbers).", True, "path"),
    "target": text_option(None, "Name of the column to predict.", True),
    "kind": choice_option(None, [None, "classification", "regression"],
                          "Task; None detects it: integers with at most 20 distinct values or text "
                          "labels mean classification, other numbers regression."),
    "test_fraction": float_option(0.2, 0.05, 0.5, "Share of the rows held out for testing."),
    "seed": seed_option(),
    "max_rows": int_option(100_000, MIN_ROWS, 10_000_000, "Refuse files with more data rows than this."),
    "max_columns": int_option(10_000, 2, 10_000_000, "Refuse files with more columns than this."),
    "max_bytes": int_option(20_000_000, 1, 2**40, "Refuse files larger than this many bytes."),
}


def _read_bytes(path_or_file, max_bytes: int) -> tuple[bytes, str]:
    """(at most max_bytes + 1 bytes of content, a label for messages) from a path, bytes or file object."""
    if isinstance(path_or_file, (bytes, bytearray)):
        return bytes(path_or_file[:max_bytes + 1]), "uploaded data"
    if hasattr(path_or_file, "read"):
        data = path_or_file.read(max_bytes + 1)
        label = Path(str(getattr(path_or_file, "name", "") or "uploaded file")).name
        return (data.encode("utf-8") if isinstance(data, str) else data), label
    path = Path(path_or_file)
    if not path.is_file():
        raise ValueError(f"CSV file {path} not found")
    with open(path, "rb") as f:
        return f.read(max_bytes + 1), path.name


def _number(cell: str, line: int, column: str) -> float:
    """float(cell), or ValueError naming the line and column of a missing or non-numeric cell."""
    text = cell.strip()
    if text.lower() in MISSING:
        raise ValueError(f"Line {line}, column {column!r}: missing value ({cell!r}); fill or drop the row")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"Line {line}, column {column!r}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"Line {line}, column {column!r}: {cell!r} is not a finite number")
    return value


def _rows(text: str):
    """A csv reader over ``text`` (newlines already \\n) with the delimiter of its first line."""
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    delimiter = next((d for d in ",;\t" if d in first), ",")
    return csv.reader(io.StringIO(text), delimiter=delimiter)


def header_names(text: str) -> list[str]:
    """The column names of the first non-empty row of the CSV ``text`` ([] if none or unreadable)."""
    try:
        rows = _rows(text.replace("\r\n", "\n"))
        return [c.strip() for c in next((r for r in rows if any(c.strip() for c in r)), [])]
    except csv.Error:
        return []


def _parse(text: str, target: str, max_rows: int, max_columns: int = 10_000):
    """(feature names, feature rows, target cells, line numbers) from the CSV text; checks the layout.
    Linear in the size of the text."""
    rows = _rows(text)
    try:
        return _parse_rows(rows, target, max_rows, max_columns)
    except csv.Error as exc:
        raise ValueError(f"Line {rows.line_num}: not readable as CSV ({exc})") from None


def _parse_rows(rows, target: str, max_rows: int, max_columns: int):
    header = next((r for r in rows if any(c.strip() for c in r)), None)
    if header is None:
        raise ValueError("The CSV file is empty: expected a header row of column names, then data rows")
    if len(header) > max_columns:
        raise ValueError(f"The CSV file has {len(header)} columns, more than max_csv_columns = {max_columns}")
    names = [c.strip() for c in header]
    seen = set()
    for i, name in enumerate(names):
        if not name:
            raise ValueError(f"Column {i + 1} has no name in the header row")
        if name in seen:
            raise ValueError(f"Column name {name!r} appears twice in the header row")
        seen.add(name)
    if target not in names:
        raise ValueError(f"Target column {target!r} not found; the columns are: {', '.join(names)}")
    if len(names) < 2:
        raise ValueError(f"The CSV file has only the target column {target!r}; it needs input columns too")
    t = names.index(target)
    features = [n for i, n in enumerate(names) if i != t]
    x, y, lines = [], [], []
    for row in rows:
        if not any(c.strip() for c in row):
            continue
        if len(lines) >= max_rows:
            raise ValueError(f"The CSV file has more than max_rows = {max_rows} data rows")
        line = rows.line_num
        if len(row) != len(names):
            raise ValueError(f"Line {line} has {len(row)} cells but the header has {len(names)} columns")
        x.append([_number(c, line, names[i]) for i, c in enumerate(row) if i != t])
        y.append(row[t].strip())
        lines.append(line)
    if len(lines) < MIN_ROWS:
        raise ValueError(f"The CSV file has {len(lines)} data rows; at least {MIN_ROWS} are needed")
    return features, np.array(x, dtype=np.float64), y, lines


def _targets(cells: list[str], lines: list[int], target: str, kind: str | None):
    """(kind, y, class names): y = class indices (sorted distinct values) or floats (n, 1)."""
    for cell, line in zip(cells, lines):
        if cell.lower() in MISSING:
            _number(cell, line, target)          # raises "missing value" with line and column
    try:
        values = np.array([float(c) for c in cells])
        numeric = bool(np.isfinite(values).all())
    except ValueError:
        numeric = False
    if kind == "regression" or kind is None and numeric and not (
            (values == np.round(values)).all() and len(np.unique(values)) <= MAX_AUTO_CLASSES):
        for cell, line in zip(cells, lines):
            _number(cell, line, target)          # raises at the first non-numeric cell, if any
        return "regression", values.reshape(-1, 1), None
    if numeric:
        classes, y = np.unique(values, return_inverse=True)
        names = [str(int(c)) if c == int(c) else repr(float(c)) for c in classes]
    else:
        classes, y = np.unique(np.array(cells), return_inverse=True)
        names = [str(c) for c in classes]
    if len(classes) > MAX_CLASSES:
        raise ValueError(f"Target column {target!r} has {len(classes)} distinct values; classification "
                         f"allows at most {MAX_CLASSES} (use kind='regression' for a numeric target)")
    if len(classes) < 2:
        raise ValueError(f"Target column {target!r} holds a single value ({names[0]}); a class label needs "
                         f"at least 2 distinct values")
    return "classification", y.reshape(-1), names


def load_csv(path_or_file, target: str, max_rows: int = 100_000, max_bytes: int = 20_000_000,
             kind: str | None = None, test_fraction: float = 0.2, seed: int = 0, name: str | None = None,
             max_columns: int = 10_000):
    """DataSet from a CSV (path, bytes or file object): every column but ``target`` is an input; rows are
    shuffled with ``seed`` and the last ⌊test_fraction·n⌉ (at least 1) become the test split."""
    opts = validate("csv", {k: v for k, v in OPTIONS.items() if k != "path"},
                    dict(target=target, max_rows=max_rows, max_bytes=max_bytes, kind=kind,
                         test_fraction=test_fraction, seed=seed, max_columns=max_columns))
    data, label = _read_bytes(path_or_file, opts["max_bytes"])
    if len(data) > opts["max_bytes"]:
        raise ValueError(f"CSV file {label} is larger than the limit of max_bytes = {opts['max_bytes']} "
                         "bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"CSV file {label} is not UTF-8 text (byte {exc.start})") from None
    features, x, cells, lines = _parse(text.replace("\r\n", "\n"), opts["target"].strip(), opts["max_rows"],
                                       opts["max_columns"])
    task, y, class_names = _targets(cells, lines, opts["target"].strip(), opts["kind"])
    n = len(x)
    order = np.random.default_rng(opts["seed"]).permutation(n)
    n_test = min(n - 1, max(1, int(round(opts["test_fraction"] * n))))
    train, test = order[:n - n_test], order[n - n_test:]
    if isinstance(path_or_file, (str, os.PathLike)):
        opts["path"] = os.fspath(path_or_file)
    return DataSet(
        name=name or f"csv:{label}", kind=task, x_train=x[train], y_train=y[train], x_test=x[test],
        y_test=y[test], n_classes=len(class_names) if class_names else None, feature_names=features,
        class_names=class_names, options=opts,
        description=f"{n} rows of {label}: predict {opts['target']!r} from {len(features)} columns.",
        # two input columns are points of a plane, drawn with the decision boundary like the 2-D sets
        coords_train=x[train] if x.shape[1] == 2 else None, coords_test=x[test] if x.shape[1] == 2 else None,
    )
