"""Uploaded CSV data sets: parsed by ``engine.datasets.load_csv``, kept (a few, newest first) under an id.

A session uses one with ``{"dataset": {"name": "csv", "upload_id": ..., "target": ..., ...}}``; options
that differ from the upload's re-read the stored file with them. Comparisons run in worker processes,
which read the stored file by path (``worker_spec``).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from engine.datasets import load_csv
from engine.datasets.csv_data import header_names

from .errors import Unprocessable
from .sessions import new_id
from .settings import Settings

OPTION_NAMES = ("target", "kind", "test_fraction", "seed")


def multipart_file(raw: bytes, content_type: str) -> tuple[bytes, str | None]:
    """The first file of a multipart/form-data body (``curl -F file=@data.csv``) and its file name,
    parsed with the standard library's email parser; 422 if the form holds no file."""
    from email.parser import BytesParser
    from email.policy import HTTP
    head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    for part in message.iter_parts() if message.is_multipart() else []:
        if part.get_filename():
            return part.get_payload(decode=True) or b"", part.get_filename()
    raise Unprocessable(["body"], "a multipart form without a file: send the CSV file as a form field "
                        "(curl -F file=@data.csv) or as the whole body (curl --data-binary @data.csv)")


def header_of(raw: bytes) -> list[str]:
    """The column names of the first non-empty row, however long (for the default target: the last
    column), read as ``load_csv`` reads them; the file is at most max_csv_bytes."""
    return header_names(raw.decode("utf-8-sig", errors="replace"))


class Uploads:
    """Thread-safe table upload id → stored file, its default options and the data sets built from it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = Path(tempfile.mkdtemp(prefix="backprop-lab-uploads-"))
        self._items: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def _load(self, source, options: dict, filename: str, loc: list):
        try:
            return load_csv(source, target=options["target"], kind=options.get("kind"),
                            test_fraction=options.get("test_fraction", 0.2), seed=options.get("seed", 0),
                            max_rows=self.settings.max_csv_rows, max_bytes=self.settings.max_csv_bytes,
                            max_columns=self.settings.max_csv_columns,
                            name=f"csv:{filename}")
        except (ValueError, TypeError) as exc:
            raise Unprocessable(loc, str(exc)) from None

    def add(self, raw: bytes, filename: str, options: dict) -> dict:
        """Parse ``raw`` (422 naming the line and column of a bad cell), store it, answer its summary."""
        columns = header_of(raw)
        options = {k: v for k, v in options.items() if v is not None}
        options.setdefault("target", columns[-1] if columns else "")
        data = self._load(raw, options, filename, ["body"])
        upload_id = new_id()
        path = self.dir / f"{upload_id}.csv"
        self.dir.mkdir(parents=True, exist_ok=True)     # again, if cleanup removed it (a restarted lifespan)
        path.write_bytes(raw)
        entry = {"id": upload_id, "filename": filename, "path": path, "columns": columns,
                 "options": options, "data": {json.dumps(options, sort_keys=True): data}}
        with self._lock:
            self._items[upload_id] = entry
            while len(self._items) > self.settings.max_uploads:
                _, old = self._items.popitem(last=False)
                old["path"].unlink(missing_ok=True)
        return {"upload_id": upload_id, "filename": filename, "columns": columns, "options": options,
                "dataset": data.info()}

    def _entry(self, spec: dict) -> dict:
        upload_id = spec.get("upload_id")
        with self._lock:
            entry = self._items.get(upload_id) if isinstance(upload_id, str) else None
        if entry is None:
            raise Unprocessable(["body", "dataset", "upload_id"], "no such uploaded CSV (upload one with "
                                "POST /api/datasets/csv; old uploads are forgotten)")
        limits = {"max_rows", "max_bytes", "max_columns"}                # Settings decide these
        unknown = set(spec) - {"name", "upload_id", *limits, *OPTION_NAMES}
        if unknown:
            raise Unprocessable(["body", "dataset", sorted(unknown)[0]],
                                f"not an option of an uploaded CSV; valid: upload_id, {', '.join(OPTION_NAMES)}")
        return entry

    def _options(self, entry: dict, spec: dict) -> dict:
        return {**entry["options"], **{k: spec[k] for k in OPTION_NAMES if spec.get(k) not in (None, "")}}

    def dataset(self, spec: dict):
        """The DataSet of ``spec`` ({"name": "csv", "upload_id", options...}); 422 naming the field."""
        entry = self._entry(spec)
        options = self._options(entry, spec)
        key = json.dumps(options, sort_keys=True)
        cached = entry["data"].get(key)
        if cached is None:
            cached = self._load(entry["path"], options, entry["filename"], ["body", "dataset"])
            cached.options.pop("path", None)
            entry["data"][key] = cached
        return cached

    def worker_spec(self, spec: dict) -> dict:
        """``spec`` for engine.datasets.load in a worker process: the stored file by path."""
        entry = self._entry(spec)
        return {"name": "csv", "path": str(entry["path"]), **self._options(entry, spec),
                "max_rows": self.settings.max_csv_rows, "max_bytes": self.settings.max_csv_bytes,
                "max_columns": self.settings.max_csv_columns}

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        with self._lock:
            self._items.clear()
