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


def printable(path: str | os.PathLike) -> str:
    """A file name that is not UTF-8 (os gives it to us with surrogates) made safe to print and store."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _usable(path: Path, problems: list[tuple[str, str]]) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        problems.append((printable(path), "the file name is not valid UTF-8; rename the file to index it"))
        return False
    if path.is_symlink() and not path.exists():
        problems.append((printable(path), f"a broken symbolic link (to {printable(os.readlink(path))})"))
        return False
    return True


def scan(paths: list[str | os.PathLike], extensions=MEDIA_EXTENSIONS) -> tuple[list[Path], list[tuple[str, str]]]:
    """(media files, sorted and unique; [(path, why it was skipped)] for paths that are not usable)."""
    found: dict[Path, None] = {}
    problems: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            problems.append((printable(raw), "does not exist"))
        elif path.is_file():
            if _usable(path, problems):
                found[path.resolve()] = None
        elif path.is_dir():
            onerror = lambda e: problems.append((printable(e.filename), e.strerror))  # noqa: E731
            for root, dirs, files in os.walk(path, onerror=onerror):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and Path(name).suffix.lower() in extensions:
                        candidate = Path(root) / name
                        if _usable(candidate, problems):
                            found[candidate.resolve()] = None
        else:
            problems.append((printable(raw), "not a regular file or folder"))
    return sorted(found), problems
