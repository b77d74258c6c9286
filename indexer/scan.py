"""Finding the media files under the paths a user gives.

Folders are walked recursively without following symlinked folders (so a symlink loop cannot
trap the walk); hidden files and folders are skipped; inside folders only known media
extensions count. A file named explicitly is always taken: the user asked for it.
"""
from __future__ import annotations

import os
from pathlib import Path

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mpg", ".mpeg", ".ts",
    ".mts", ".m2ts", ".3gp", ".ogv", ".vob", ".mxf",
})
AUDIO_EXTENSIONS = frozenset({".mp3", ".wav", ".flac", ".m4a", ".ogg", ".opus", ".aac"})
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"})


def scan(paths: list[str | os.PathLike], extensions=MEDIA_EXTENSIONS) -> tuple[list[Path], list[tuple[str, str]]]:
    """(media files, sorted and unique; [(path, why it was skipped)] for paths that are not usable)."""
    found: dict[Path, None] = {}
    problems: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            problems.append((str(raw), "does not exist"))
        elif path.is_file():
            found[path.resolve()] = None
        elif path.is_dir():
            for root, dirs, files in os.walk(path, onerror=lambda e: problems.append((e.filename, e.strerror))):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and Path(name).suffix.lower() in extensions:
                        found[(Path(root) / name).resolve()] = None
        else:
            problems.append((str(raw), "not a regular file or folder"))
    return sorted(found), problems
