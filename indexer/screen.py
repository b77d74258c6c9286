"""On-screen text over time: reading it as frames are decoded, the lines as spans, per segment.

OCR reads a frame only where the picture changed (``decode``), so what it read stays on screen
until the next frame read: a line's span runs from its frame to the next one (or the end). A
segment's screen text is every distinct line on screen while it plays, in the order they appear.
"""
from __future__ import annotations

import time

from core.rows import ShownLine
from core.models.base import Lazy
from core.models.ocr import OcrReader, ScreenLine
from core.settings import Settings

from .decode import Decoded, DecodeOptions, decode_file

Span = tuple[float, float, ScreenLine]


def screen_spans(found: list[tuple[float, list[ScreenLine]]], duration: float) -> list[Span]:
    """(start, end, line) for every line read, each until the next frame read."""
    found = sorted(found, key=lambda item: item[0])
    spans = []
    for n, (at, lines) in enumerate(found):
        until = found[n + 1][0] if n + 1 < len(found) else max(duration, at)
        spans.extend((at, until, line) for line in lines)
    return spans


def screen_rows(spans: list[Span]) -> list[ShownLine]:
    """The spans as the catalog keeps them."""
    return [ShownLine(a, b, line.text, line.score, list(line.box)) for a, b, line in spans]


def screen_text_during(spans: list[Span], start: float, end: float) -> str:
    """The distinct lines on screen at any time in [start, end), in order of appearance."""
    seen = dict.fromkeys(line.text for a, b, line in spans if a < end and (b > start or a == b == start))
    return " · ".join(seen)


def ocr_reader(settings: Settings, threads: int = 0) -> Lazy:
    return Lazy(lambda: OcrReader(settings.ocr_size, settings.ocr_min_score, threads, settings.ocr_det_model,
                                  settings.ocr_model))


def decode_reading_screen(path: str, options: DecodeOptions, settings: Settings) -> tuple[Decoded, list, str | None,
                                                                                          str | None, float]:
    """Decode ``path`` reading its screen text as it goes, in this process: what an isolated
    child runs. (decoded, lines per frame, note, OCR model, OCR seconds)."""
    reading = ScreenReading(ocr_reader(settings))
    decoded = decode_file(path, options, on_screen=reading)
    return (decoded, *reading.results())


class ScreenReading:
    """``on_screen`` for the decoder: reads each frame handed over and keeps the lines; after
    the first failure it notes why and reads no more (the file goes on without screen text)."""

    def __init__(self, reader: Lazy):
        self.reader = reader
        self.found: list[tuple[float, list[ScreenLine]]] = []
        self.note: str | None = None
        self.model_id: str | None = None  # the OCR model that read the frames
        self.seconds = 0.0

    def take(self, found: list, note: str | None, model_id: str | None, seconds: float) -> None:
        """What a reading in another (isolated) process found."""
        self.found, self.note, self.model_id, self.seconds = found, note, model_id, seconds

    def results(self) -> tuple[list, str | None, str | None, float]:
        return self.found, self.note, self.model_id if self.note is None else None, self.seconds

    def __call__(self, frame, at: float) -> bool:
        """Read ``frame``; whether it held text."""
        if self.note is not None:
            return False
        started = time.perf_counter()
        lines = []
        try:
            reader = self.reader.get()
            lines = reader.read(frame)
        except Exception as exc:
            self.note = f"on-screen text not read: {type(exc).__name__}: {exc}"[:1000]
        else:
            self.found.append((at, lines))
            self.model_id = reader.model_id
        self.seconds += time.perf_counter() - started
        return bool(lines)
