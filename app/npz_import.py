""".npz imports read safely: nothing is inflated before its size is known to fit.

An .npz is a zip of .npy files. Before any member is inflated, the archive's end record must list at
most MAX_MEMBERS members and the zip's directory must declare at most ``max_upload_bytes`` inflated
in all; a member is read only after its .npy header (a few hundred bytes) has been checked against
what the model expects (shape and dtype) and against the member's declared size. Every refusal is
a 422 naming the member (loc body.weights.<i> for w<i>.npy, as for a JSON import, else body.<member>;
the message starts with the member's name). Never pickle (object dtypes are refused from the header).
"""
from __future__ import annotations

import io
import json
import re
import struct
import zipfile

import numpy as np

from .errors import Unprocessable

MAX_MEMBERS = 256       # an export holds 2 per layer, 2 per optimizer slot and layer, config, schedule
MAX_HEADER = 10_000     # bytes of an .npy header (numpy's own limit)
EOCD = b"PK\x05\x06"


def _loc(filename: str) -> list:
    stem = filename[:-4] if filename.endswith(".npy") else filename
    return ["body", "weights", int(stem[1:])] if re.fullmatch(r"w\d+", stem) else ["body", filename]


def _member_count(raw: bytes) -> int:
    """Members listed by the zip's end-of-central-directory record, read before zipfile parses the
    directory (whose entries would each cost memory); 422 if there is no such record."""
    at = raw.rfind(EOCD, max(0, len(raw) - 22 - 65535))
    if at < 0 or at + 22 > len(raw):
        raise Unprocessable(["body"], "not a Backprop Lab .npz export: not a zip archive")
    return struct.unpack("<H", raw[at + 10:at + 12])[0]


class NpzMembers:
    """The .npy members of an uploaded .npz by name (without ".npy"), each read on demand."""

    def __init__(self, raw: bytes, limit: int):
        count = _member_count(raw)
        if count > MAX_MEMBERS:
            raise Unprocessable(["body"], f"the archive has {count} members; an export has at most {MAX_MEMBERS}")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(raw))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise Unprocessable(["body"], f"not a Backprop Lab .npz export: {exc}") from None
        if len(infos) > MAX_MEMBERS:
            raise Unprocessable(["body"], f"the archive has {len(infos)} members; an export has at most {MAX_MEMBERS}")
        total = sum(i.file_size for i in infos)
        if total > limit:
            biggest = max(infos, key=lambda i: i.file_size)
            raise Unprocessable(_loc(biggest.filename), f"{biggest.filename} declares {biggest.file_size} bytes "
                                f"inflated (the archive {total}); an import may hold at most max_upload_bytes = "
                                f"{limit}")
        self.infos = {i.filename[:-4]: i for i in infos if i.filename.endswith(".npy")}

    def names(self) -> list[str]:
        return list(self.infos)

    def header(self, name: str) -> tuple[tuple, np.dtype, bool, int]:
        """(shape, dtype, fortran_order, header length) of member ``name``, inflating only its header."""
        info = self.infos[name]
        try:
            with self.zip.open(info) as stream:
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=MAX_HEADER)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=MAX_HEADER)
                else:
                    raise ValueError(f".npy format version {version} is not supported")
                return tuple(shape), dtype, fortran, stream.tell()
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, SyntaxError) as exc:
            raise Unprocessable(_loc(info.filename), f"{info.filename}: not an .npy array: {exc}") from None

    def load(self, name: str, shape: tuple | None, kinds: str) -> np.ndarray:
        """Member ``name`` as an array, after its header said it has ``shape`` (None: any of at most
        ``limit`` bytes, already checked) and a dtype of one of the numpy ``kinds``."""
        info = self.infos[name]
        loc, member = _loc(info.filename), info.filename
        found, dtype, fortran, offset = self.header(name)
        if dtype.hasobject or dtype.kind not in kinds:
            raise Unprocessable(loc, f"{member}: must hold {_KINDS.get(kinds, kinds)}, got dtype {dtype}")
        if shape is not None and found != tuple(shape):
            raise Unprocessable(loc, f"{member}: shape {list(found)} does not match {list(shape)}")
        nbytes = int(np.prod(found, dtype=np.int64)) * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise Unprocessable(loc, f"{member}: its header says {nbytes} bytes of data, the archive "
                                f"{info.file_size - offset}")
        try:
            with self.zip.open(info) as stream:
                stream.read(offset)
                data = stream.read(nbytes)
        except (OSError, EOFError, zipfile.BadZipFile, ValueError) as exc:
            raise Unprocessable(loc, f"{member}: cannot be read: {exc}") from None
        if len(data) != nbytes:
            raise Unprocessable(loc, f"{member}: holds {len(data)} bytes of data, its header says {nbytes}")
        return np.frombuffer(data, dtype=dtype).reshape(found, order="F" if fortran else "C").copy()


_KINDS = {"iuf": "real numbers", "iu": "integers", "U": "text"}


def read(raw: bytes, limit: int) -> tuple[dict, NpzMembers]:
    """(the export's meta: format, config, state; its members) from ``export_npz`` bytes."""
    members = NpzMembers(raw, limit)
    if "config" not in members.infos:
        raise Unprocessable(["body"], "not a Backprop Lab .npz export: no config entry")
    text = members.load("config", (), "U")
    try:
        meta = json.loads(str(text))
    except RecursionError:
        raise Unprocessable(["body", "config"], "its JSON is nested too deeply") from None
    except ValueError as exc:
        raise Unprocessable(["body", "config"], f"not JSON: {exc}") from None
    return meta, members


def weights(members: NpzMembers, model) -> list[np.ndarray]:
    """w0, w1, ... (Keras layout) checked against ``model``'s parameters, each from its header first."""
    expected = [p.shape for dense in model.dense_layers for p in dense.params()]
    found = sorted(int(n[1:]) for n in members.names() if re.fullmatch(r"w\d+", n))
    if found != list(range(len(expected))):
        raise Unprocessable(["body", "weights"], f"expected {len(expected)} arrays w0.npy.."
                            f"w{len(expected) - 1}.npy, got {len(found)}")
    return [members.load(f"w{i}", shape, "iuf") for i, shape in enumerate(expected)]


def state_arrays(members: NpzMembers, model, n_train: int) -> dict[str, np.ndarray]:
    """schedule_order (n_train,) and the optimizer's slots opt_<slot>_<i> (the shape of parameter i);
    the same with a ``tl_`` prefix for the timeline's first state, and its weights tl_w<i>."""
    shapes = [p.shape for dense in model.dense_layers for p in dense.params()]
    out = {}
    for name in members.names():
        bare = name[3:] if name.startswith("tl_") else name
        if bare == "schedule_order":
            out[name] = members.load(name, (n_train,), "iu")
        elif bare.startswith("opt_") or (bare != name and re.fullmatch(r"w\d+", bare)):
            index = bare.rsplit("_", 1)[-1] if bare.startswith("opt_") else bare[1:]
            if not index.isdigit() or int(index) >= len(shapes):
                raise Unprocessable(["body", f"{name}.npy"], f"not an optimizer slot or weight of the "
                                    f"{len(shapes)} parameters")
            out[name] = members.load(name, shapes[int(index)], "iuf")
    return out
