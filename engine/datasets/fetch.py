"""Download one checksummed file from a list of mirrors, atomically (temp file + os.replace)."""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import Callable

CHUNK = 1 << 16                 # bytes read per network call
USER_AGENT = "backprop-lab/0.1 (+python-urllib)"


class _BadDownload(Exception):
    """A transfer finished but is unusable: fewer bytes than announced, or the wrong checksum."""


class DownloadError(RuntimeError):
    """Every mirror failed for a file; ``errors`` lists (url, what went wrong) per attempt."""

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None):
        """Keep the one-sentence ``message`` and the per-mirror ``errors``."""
        super().__init__(message)
        self.errors = list(errors or [])


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _human(n: int) -> str:
    """Bytes as a short string: 1.6 MB, 28.9 kB, 512 B."""
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.1f} kB" if n >= 1000 else f"{n} B"


def fetch(url: str, target: Path, sha256: str, size: int | None, timeout: float,
          progress: Callable[[str], object] | None) -> None:
    """Stream ``url`` into a temp file beside ``target``; os.replace it into place only when its
    SHA-256 equals ``sha256``. Raises OSError/HTTPException/_BadDownload (temp file removed)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        h, done, next_report = hashlib.sha256(), 0, 0.1
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            announced = int(resp.headers.get("Content-Length") or 0)
            total = announced or size
            while block := resp.read(CHUNK):
                out.write(block)
                h.update(block)
                done += len(block)
                if progress and total and done / total >= next_report:
                    progress(f"  {target.name}: {_human(done)} / {_human(total)} ({100 * done // total}%)")
                    next_report = min(1.0, done / total + 0.1)
        if announced and done != announced:
            raise _BadDownload(f"connection closed after {done} of {announced} bytes")
        if h.hexdigest() != sha256:
            raise _BadDownload(f"checksum mismatch ({done} bytes, SHA-256 {h.hexdigest()[:12]}…, "
                             f"expected {sha256[:12]}…)")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def fetch_from_mirrors(name: str, dest: Path, sha256: str, size: int | None, mirrors,
                       timeout: float, progress, manual_hint: str) -> str:
    """Fetch ``name`` into ``dest`` from the first mirror that delivers the right checksum.

    Returns "present" (already there, checksum OK) or the URL used. Raises DownloadError otherwise.
    """
    target, mirrors = dest / name, list(mirrors)
    if not os.access(dest, os.W_OK):
        raise PermissionError(f"Cannot write to {dest}: {manual_hint}")
    if target.is_file() and (size is None or target.stat().st_size == size) and sha256_of(target) == sha256:
        if progress:
            progress(f"{name}: already present, checksum OK")
        return "present"
    errors = []
    for i, mirror in enumerate(mirrors):
        url = mirror.rstrip("/") + "/" + name
        if progress:
            progress(f"{name}: downloading from {url}")
        try:
            fetch(url, target, sha256, size, timeout, progress)
        except urllib.error.HTTPError as exc:
            errors.append((url, f"HTTP {exc.code} {exc.reason}"))
        except _BadDownload as exc:
            errors.append((url, str(exc)))
        except (OSError, HTTPException, ValueError) as exc:       # ValueError: a malformed mirror URL
            reason = getattr(exc, "reason", None) or exc
            errors.append((url, f"connection failed ({reason})"))
        else:
            if progress:
                progress(f"{name}: done, checksum OK")
            return url
        if progress:
            more = "; trying the next mirror" if i + 1 < len(mirrors) else ""
            progress(f"{name}: {errors[-1][1]} from {url}{more}")
    raise DownloadError(f"Download of {name} failed from every mirror (are you offline?): {manual_hint}",
                        errors)
