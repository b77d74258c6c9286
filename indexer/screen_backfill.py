"""On-screen text for videos indexed without it, without embedding their frames again.

``vidsearch index --only ocr PATH...`` reads the text on screen of indexed videos that have none
(indexed before OCR, or with it off) and adds it where a full index would have put it: the lines
with their times, each segment's ``screen_text`` (and so keyword search), and the speech-space
vectors, which embed a segment's words and its screen text together. Frames are decoded again
(OCR needs them at its own size), in a child process as always, but nothing goes through CLIP
and nothing is transcribed: the segments, their borders and their other vectors stay as they are.
"""
from __future__ import annotations

import dataclasses

from core.encoders import Encoders
from core.library import Library, NewSegment
from core.settings import Settings

from .backfill import indexed_under
from .decode import DecodeOptions
from .embed import add_context, speech_text
from .isolate import IsolatedFailure, run_isolated
from .report import FileOutcome
from .screen import decode_reading_screen, screen_rows, screen_spans, screen_text_during


def read_screen(path: str, settings: Settings) -> tuple[list, str | None, str | None, float]:
    """(lines read per frame, why reading stopped, OCR model, duration): frames only, no audio.
    Runs in a child process."""
    options = dataclasses.replace(DecodeOptions.from_settings(settings), audio=False, subtitles=False,
                                  screen_size=settings.ocr_size)
    decoded, found, note, model, _ = decode_reading_screen(path, options, settings)
    return found, note, model, decoded.info.duration


def add_screen_text(library: Library, encoders: Encoders, settings: Settings, paths: list,
                    force: bool = False) -> list[FileOutcome]:
    """Read the screen text of the indexed videos under ``paths`` that have none (all with
    ``force``); one outcome per file."""
    outcomes: list[FileOutcome] = []
    for path, video in indexed_under(library, paths, outcomes):
        if video.screen_model and not force:
            outcomes.append(FileOutcome(str(path), "skipped", reason=f"screen text read by {video.screen_model}"))
            continue
        try:
            found, note, model, duration = run_isolated(read_screen, str(path), settings,
                                                        timeout=settings.file_timeout)
        except IsolatedFailure as exc:
            outcomes.append(FileOutcome(str(path), "failed", "ocr", str(exc)))
            continue
        if note is not None:
            outcomes.append(FileOutcome(str(path), "failed", "ocr", note))
            continue
        _write(library, encoders, video.id, screen_spans(found, duration), model)
        outcomes.append(FileOutcome(str(path), "indexed", reason=f"screen text of {len(found)} frame(s)",
                                    video_id=video.id))
    return outcomes


def _write(library: Library, encoders: Encoders, video_id: int, spans, model: str) -> None:
    detail = library.video_detail(video_id)
    segments = sorted(detail.segments, key=lambda s: s.start)
    screen = [screen_text_during(spans, s.start, s.end) for s in segments]
    texts = [speech_text(s.transcript or "", shown) for s, shown in zip(segments, screen)]
    sentence = encoders.sentence
    said = [n for n, text in enumerate(texts) if text]
    vectors = dict(zip(said, sentence.encode([texts[n] for n in said]))) if said else {}
    rebuilt = [NewSegment(s.start, s.end, border=s.border, vectors={"speech": vectors[n]} if n in vectors else {})
               for n, s in enumerate(segments)]
    add_context(rebuilt)  # as indexing does: a little of the neighbours' meaning
    library.replace_screen_text(
        video_id, screen_rows(spans),
        {s.id: (shown, new.vectors.get("speech")) for s, shown, new in zip(segments, screen, rebuilt)},
        model, (sentence.model_id, sentence.dim))

