"""Chapters for videos indexed before vidsearch made them (``vidsearch index --only chapters``).

Everything chapters need is in the catalog already (segments, their speech vectors, the screen
text), so nothing is decoded or transcribed, and only candidate titles are
embedded; the file's own chapter marks are read from its container, in a child process as always
(a damaged file fails alone).
"""
from __future__ import annotations

from core.encoders import Encoders
from core.library import Library
from core.settings import Settings

from .backfill import indexed_under
from .chapters import CHAPTERS_VERSION, Part, video_chapters
from .isolate import IsolatedFailure, run_isolated
from .probe import probe
from .report import FileOutcome


def file_marks(path: str) -> list[tuple[float, float, str]]:
    """The chapter marks a file carries. Runs in a child process."""
    return probe(path).chapters


def stored_parts(library: Library, video_id: int) -> list[Part]:
    """A video's segments as chapters read them, from the catalog."""
    segments = sorted(library.video_detail(video_id).segments, key=lambda s: s.start)
    found, vectors = library.exact_vectors("speech", [s.id for s in segments])
    speech = dict(zip((int(i) for i in found), vectors))
    return [Part(s.start, s.end, s.transcript or "", speech.get(s.id), s.border or 0.0) for s in segments]


def add_chapters(library: Library, encoders: Encoders, settings: Settings, paths: list,
                 force: bool = False) -> list[FileOutcome]:
    """Chapters and a summary for the indexed videos under ``paths`` that have none from this
    version of vidsearch (all with ``force``)."""
    outcomes: list[FileOutcome] = []
    for path, video in indexed_under(library, paths, outcomes):
        if video.chapters_version == CHAPTERS_VERSION and not force:
            outcomes.append(FileOutcome(str(path), "skipped", reason="chapters already made"))
            continue
        try:
            own = run_isolated(file_marks, str(path), timeout=settings.file_timeout)
        except IsolatedFailure as exc:
            outcomes.append(FileOutcome(str(path), "failed", "chapters", str(exc)))
            continue
        chapters, summary = video_chapters(stored_parts(library, video.id), library.screen_lines(video.id),
                                           video.duration, own, encoders.sentence.encode)
        library.replace_chapters(video.id, chapters, summary, CHAPTERS_VERSION)
        made = sum(mark.source == "computed" for mark in chapters)
        outcomes.append(FileOutcome(str(path), "indexed", video_id=video.id,
                                    reason=f"{made} chapter(s)" + (f", {len(own)} of the file's own" if own else "")))
    return outcomes
