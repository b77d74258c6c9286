"""One file made ready for the embedder: decoded, its speech transcribed (silence skipped) or its
own subtitles read.

Local worker processes, Ray actors and query clips all do the same two steps; this is the one
place they are written. Whisper is built on the first file with speech, so a batch of silent
footage never loads it. ``decode`` is the decoding step: in a worker process it runs in place
(the process is the isolation), elsewhere it can be ``isolate.run_isolated`` around it.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable

from search.settings import Settings

from search.models.ocr import ScreenLine
from search.models.whisper import EMPTY, AsrBackend, Transcript, is_silent, make_asr

from .decode import Decoded, DecodeOptions, decode_file
from .screen import ScreenReading, ocr_reader
from .subtitle_sources import choose, sidecars, transcript_from


@dataclasses.dataclass
class Prepared:
    """A decoded, transcribed file, ready for the embedder."""

    path: str
    decoded: Decoded
    transcript: Transcript
    timings: dict
    screen: list[tuple[float, list[ScreenLine]]] = dataclasses.field(default_factory=list)  # (time, lines read)
    screen_note: str | None = None  # why on-screen text was not read (the file is indexed without it)
    screen_model: str | None = None  # the OCR model that read it


class StageFailed(Exception):
    """Preparing failed at ``stage`` (decode | transcribe) after ``seconds``."""

    def __init__(self, stage: str, cause: Exception, seconds: float):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.stage, self.cause, self.seconds = stage, cause, seconds


class Preparer:
    def __init__(self, settings: Settings, options: DecodeOptions, *, vad: bool = True, threads: int = 0,
                 asr: AsrBackend | None = None,
                 decode: Callable[..., Decoded] = decode_file):
        self.settings, self.options, self.vad, self.threads = settings, options, vad, threads
        self.decode = decode
        self._asr = asr
        self._ocr = ocr_reader(settings, threads)

    @property
    def asr(self) -> AsrBackend:
        if self._asr is None:
            self._asr = make_asr(self.settings, vad=self.vad, threads=self.threads)
        return self._asr

    def transcribe(self, decoded: Decoded, path: str | None = None) -> Transcript:
        """The file's own subtitles when it has usable ones (``VIDSEARCH_TRANSCRIPTS``), else
        Whisper over its speech; ``note`` says why subtitles that exist were not used."""
        note = None
        if self.settings.transcripts != "asr":
            candidates = (sidecars(Path(path)) if path else []) + decoded.subtitles
            chosen, cues, note = choose(candidates, self.settings.subtitle_languages)
            if chosen is not None:
                return dataclasses.replace(transcript_from(chosen, cues), note=note)
            if candidates and note is None:
                note = f"none in {', '.join(self.settings.subtitle_languages)}: " + \
                    ", ".join(c.source for c in candidates)
            if self.settings.transcripts == "subtitles":
                return dataclasses.replace(EMPTY, note=note)
        if not decoded.info.has_audio or is_silent(decoded.audio):
            return dataclasses.replace(EMPTY, note=note)
        return dataclasses.replace(self.asr.transcribe(decoded.audio), note=note)

    def prepare(self, path: str) -> Prepared:
        """Decode and transcribe ``path`` (and read its on-screen text, as it is decoded); raises
        ``StageFailed`` saying which step failed. OCR failing fails no file: it is noted."""
        started = time.perf_counter()
        screen = ScreenReading(self._ocr) if self.options.screen_size else None
        try:
            decoded = self.decode(path, self.options, on_screen=screen) if screen else self.decode(path, self.options)
        except Exception as exc:
            raise StageFailed("decode", exc, time.perf_counter() - started) from exc
        timings = {"decode": time.perf_counter() - started}
        if "copy_seconds" in decoded.stats:  # hashing for copy detection, apart from decoding
            timings["copies"] = decoded.stats["copy_seconds"]
            timings["decode"] -= timings["copies"]
        if screen is not None:
            timings["decode"] -= screen.seconds
            timings["ocr"] = screen.seconds
        begun = time.perf_counter()
        try:
            transcript = self.transcribe(decoded, path)
        except Exception as exc:
            raise StageFailed("transcribe", exc, time.perf_counter() - started) from exc
        timings["transcribe"] = time.perf_counter() - begun
        found, note, model, _ = screen.results() if screen else ([], None, None, 0.0)
        return Prepared(path, decoded, transcript, timings, found, note, model)

