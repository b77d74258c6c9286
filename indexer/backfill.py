"""What every ``vidsearch index --only KIND`` walk shares: the indexed videos under some paths.

A file that cannot be scanned is a failure, one that is not an indexed video is skipped with the
reason; the rest come back with their catalog rows, for the kind to add what it adds.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from core.catalog import Video
from core.library import Library

from .report import FileOutcome
from .scan import scan


def indexed_under(library: Library, paths: list, outcomes: list[FileOutcome]) -> Iterator[tuple[Path, Video]]:
    """(file, its video) for every indexed video under ``paths``; other files are written to
    ``outcomes`` as they are met."""
    files, problems = scan(paths)
    outcomes.extend(FileOutcome(path, "failed", "scan", why) for path, why in problems)
    for path in files:
        video = library.known_file(str(path))
        if video is None or video.status != "indexed":
            outcomes.append(FileOutcome(str(path), "skipped", reason="not indexed (run vidsearch index first)"))
            continue
        yield path, video
