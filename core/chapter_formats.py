"""A video's chapters in the formats players and tools read, and which chapters a video shows.

- WebVTT: a chapters track (``<track kind="chapters">``), one cue a chapter, its title the text;
- FFmpeg metadata: ``ffmpeg -i video -i chapters.txt -map_metadata 1 -codec copy out.mp4`` writes
  the chapters into the file (MP4 chapter atoms, Matroska chapters);
- YouTube: ``0:00 Title`` lines, as a video description lists them.
"""
from __future__ import annotations

from .errors import InvalidInput
from .rows import ChapterMark
from .subtitles import Cue, to_vtt

EXPORTS = ("vtt", "ffmetadata", "youtube")


def shown_chapters(marks: list[ChapterMark], prefer: str = "file") -> list[ChapterMark]:
    """The chapters a video shows: its file's own marks when it has some and ``prefer`` is
    ``file``, else those vidsearch computed; by start."""
    own = [m for m in marks if m.source == "file"]
    chosen = own if own and prefer == "file" else [m for m in marks if m.source == "computed"]
    return sorted(chosen, key=lambda m: m.start)


def chapter_at(marks: list[ChapterMark], at: float) -> ChapterMark | None:
    """The chapter of ``marks`` (by start) that second ``at`` lies in."""
    inside = [m for m in marks if m.start <= at + 1e-6]
    return inside[-1] if inside else None


def to_ffmetadata(marks: list[ChapterMark]) -> str:
    body = "".join(f"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART={round(m.start * 1000)}\nEND={round(m.end * 1000)}\n"
                   f"title={_escape_ffmetadata(m.title)}\n" for m in marks)
    return ";FFMETADATA1\n" + body


def _escape_ffmetadata(text: str) -> str:
    # FFmpeg's metadata file escapes '=', ';', '#', '\' and newlines with a backslash.
    for char in ("\\", "=", ";", "#", "\n"):
        text = text.replace(char, "\\" + char)
    return text


def youtube_stamp(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def to_youtube(marks: list[ChapterMark]) -> str:
    """``0:00 Title`` lines. The first chapter is stamped 0:00 as YouTube requires."""
    return "".join(f"{youtube_stamp(0 if n == 0 else m.start)} {' '.join(m.title.split())}\n"
                   for n, m in enumerate(marks))


def render_chapters(marks: list[ChapterMark], fmt: str) -> tuple[str, str]:
    """(document, media type) of ``marks`` in ``fmt``: vtt, ffmetadata or youtube."""
    writers = {"vtt": (lambda ms: to_vtt([Cue(m.start, m.end, m.title) for m in ms]), "text/vtt; charset=utf-8"),
               "ffmetadata": (to_ffmetadata, "text/plain; charset=utf-8"),
               "youtube": (to_youtube, "text/plain; charset=utf-8")}
    if fmt not in writers:
        raise InvalidInput(f"unknown chapters format {fmt!r}; use {', '.join(EXPORTS)}")
    write, media_type = writers[fmt]
    return write(marks), media_type
