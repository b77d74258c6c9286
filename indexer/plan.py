"""Deciding, per file, whether it needs decoding at all: the incremental part of indexing.

A file whose size and mtime match the catalog is skipped without being read. A file whose mtime
changed but whose content fingerprint did not is skipped too (its mtime is updated). A new path
whose fingerprint matches an indexed video that is no longer on disk is a move: the catalog row
is re-pointed and nothing is re-embedded. Files that failed before are skipped unless retrying
was asked for, so a broken file is not decoded again on every run. Everything else is to do.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from core.library import Library

from .fingerprint import fingerprint
from .report import FileOutcome
from .subtitle_sources import signature as sidecar_signature

log = logging.getLogger(__name__)


def _same_stat(video, stat: os.stat_result) -> bool:
    return video.size == stat.st_size and abs(video.mtime - stat.st_mtime) < 1e-3


def plan_files(library: Library, files: list[Path], *, force: bool = False, retry_failed: bool = False,
               segmentation: str | None = None,
               subtitles: bool = False) -> tuple[list[tuple[Path, str]], list[FileOutcome]]:
    """([(path, fingerprint) to index], outcomes of the files that need no indexing).

    ``segmentation``: the current segmenter's signature; an indexed file cut by another one is
    indexed again (its segment borders, and so its vectors, would differ). ``subtitles``: files
    may be transcribed from subtitle files beside them, so one whose sidecars appeared, changed
    or went is indexed again, though the video did not change.
    """
    todo, done = [], []
    recut = resub = 0
    listings: dict[Path, list[str]] = {}  # each folder listed once, not once per file in it
    for path in files:
        try:
            stat = path.stat()
            known = library.known_file(str(path))
            if known is not None and known.status == "indexed" and segmentation is not None \
                    and known.segmentation != segmentation:
                recut += 1
                todo.append((path, fingerprint(path)))
                continue
            if known is not None and known.status == "indexed" and subtitles and not force \
                    and known.sidecars != sidecar_signature(path, _listing(listings, path.parent)):
                resub += 1
                todo.append((path, fingerprint(path)))
                continue
            if known is not None and not force and _same_stat(known, stat):
                if known.status == "indexed":
                    done.append(FileOutcome(str(path), "skipped", reason="unchanged since last index"))
                    continue
                if not retry_failed:
                    done.append(FileOutcome(str(path), "skipped", known.error_stage,
                                            f"failed before ({known.error}); use --retry-failed"))
                    continue
            digest = fingerprint(path)
        except OSError as exc:
            done.append(FileOutcome(str(path), "failed", "scan", f"cannot read: {exc.strerror or exc}"))
            library.record_failure(str(path), 0, 0.0, "scan", f"cannot read: {exc.strerror or exc}")
            continue
        if not force and known is not None and known.status == "indexed" and known.fingerprint == digest:
            library.touch(known.id, stat.st_size, stat.st_mtime)
            done.append(FileOutcome(str(path), "skipped", reason="content unchanged (new mtime)"))
            continue
        if not force and known is None:
            moved = library.moved_video(digest)
            if moved is not None:
                old = moved.path
                library.repoint(moved.id, str(path), stat.st_size, stat.st_mtime)
                done.append(FileOutcome(str(path), "moved", reason=f"moved from {old}", video_id=moved.id))
                continue
        todo.append((path, digest))
    if resub:
        log.warning("the subtitle files beside %d indexed file(s) appeared, changed or went: indexing them "
                    "again", resub)
    if recut:
        log.warning("%d indexed file(s) were cut into segments by an older segmenter or other segment "
                    "settings: indexing them again", recut)
    return todo, done


def _listing(listings: dict[Path, list[str]], folder: Path) -> list[str]:
    if folder not in listings:
        try:
            listings[folder] = sorted(os.listdir(folder))
        except OSError:
            listings[folder] = []
    return listings[folder]


def prune_missing(library: Library, roots: list[Path]) -> list[FileOutcome]:
    """Remove from the catalog the videos under ``roots`` whose files are gone."""
    outcomes = []
    prefixes = [str(root.resolve()) + os.sep for root in roots if root.is_dir()]
    prefixes += [str(root.resolve()) for root in roots if not root.is_dir()]
    for video in library.videos():
        inside = any(video.path.startswith(p) or video.path == p.rstrip(os.sep) for p in prefixes)
        if inside and not os.path.exists(video.path):
            library.remove_video(video.id)
            outcomes.append(FileOutcome(video.path, "pruned", reason="the file is gone"))
    return outcomes
