"""Faces of videos indexed before they were looked for (``vidsearch index --only faces``).

Only the video stream is decoded (no audio, no OCR, nothing embedded), in a child process as
always: a damaged file fails alone. A video's appearances are replaced whole, then the new ones
are clustered into people.
"""
from __future__ import annotations

import dataclasses

from core.library import Library
from core.models.faces import FACE_MODEL_ID
from core.rows import FaceSeen
from core.settings import Settings
from core.voices import link_people
from search.people import cluster_faces

from .backfill import indexed_under
from .decode import DecodeOptions, decode_file
from .isolate import IsolatedFailure, run_isolated
from .report import FileOutcome


def read_faces(path: str, settings: Settings) -> tuple[list[FaceSeen], str | None]:
    """(appearances, why faces were not looked for). Runs in a child process."""
    options = dataclasses.replace(DecodeOptions.from_settings(settings), audio=False, subtitles=False,
                                  screen_size=0, copy_rate=0.0, faces=True)
    decoded = decode_file(path, options)
    return decoded.faces or [], decoded.stats.get("face_note")


def add_faces(library: Library, settings: Settings, paths: list, force: bool = False) -> list[FileOutcome]:
    """Faces for the indexed videos under ``paths`` that were not looked at (all with ``force``)."""
    outcomes: list[FileOutcome] = []
    for path, video in indexed_under(library, paths, outcomes):
        if video.face_model == FACE_MODEL_ID and not force:
            outcomes.append(FileOutcome(str(path), "skipped", reason="faces already looked for"))
            continue
        try:
            found, note = run_isolated(read_faces, str(path), settings, timeout=settings.file_timeout)
        except IsolatedFailure as exc:
            outcomes.append(FileOutcome(str(path), "failed", "decode", str(exc)))
            continue
        if note:
            outcomes.append(FileOutcome(str(path), "failed", "faces", note))
            continue
        library.replace_faces(video.id, found, FACE_MODEL_ID)
        outcomes.append(FileOutcome(str(path), "indexed", reason=f"{len(found)} face appearance(s)",
                                    video_id=video.id))
    cluster_faces(library, settings.face_match)
    link_people(library)
    return outcomes
