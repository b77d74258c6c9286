"""Small files written whole or not at all: a reader finds the old content or the new, never half.

Profiles and the bench's labels are rewritten while other processes may read them; a temp file
in the same folder, flushed to disk and renamed over the target, is the usual way to get that.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write(out)`` into a temp file beside ``path``, then rename it over ``path``."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: Path, content: bytes) -> None:
    write_atomically(path, lambda out: out.write(content))


def write_text_atomically(path: Path, text: str) -> None:
    write_bytes_atomically(path, text.encode("utf-8"))
