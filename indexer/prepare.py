"""One file made ready for the embedder: decoded, its speech transcribed (silence skipped).

Local worker processes, Ray actors and query clips all do the same two steps; this is the one
place they are written. Whisper is built on the first file with speech, so a batch of silent
footage never loads it. ``decode`` is the decoding step: in a worker process it runs in place
(the process is the isolation), elsewhere it can be ``isolate.run_isolated`` around it.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

from search.settings import Settings

from .decode import Decoded, DecodeOptions, decode_file
from search.models.whisper import EMPTY, AsrBackend, Transcript, is_silent, make_asr


@dataclasses.dataclass
class Prepared:
    """A decoded, transcribed file, ready for the embedder."""

    path: str
    decoded: Decoded
    transcript: Transcript
    timings: dict


class StageFailed(Exception):
    """Preparing failed at ``stage`` (decode | transcribe) after ``seconds``."""

    def __init__(self, stage: str, cause: Exception, seconds: float):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.stage, self.cause, self.seconds = stage, cause, seconds


class Preparer:
    def __init__(self, settings: Settings, options: DecodeOptions, *, vad: bool = True, threads: int = 0,
                 asr: AsrBackend | None = None,
                 decode: Callable[[str, DecodeOptions], Decoded] = decode_file):
        self.settings, self.options, self.vad, self.threads = settings, options, vad, threads
        self.decode = decode
        self._asr = asr

    @property
    def asr(self) -> AsrBackend:
        if self._asr is None:
            self._asr = make_asr(self.settings, vad=self.vad, threads=self.threads)
        return self._asr

    def transcribe(self, decoded: Decoded) -> Transcript:
        if not decoded.info.has_audio or is_silent(decoded.audio):
            return EMPTY
        return self.asr.transcribe(decoded.audio)

    def prepare(self, path: str) -> Prepared:
        """Decode and transcribe ``path``; raises ``StageFailed`` saying which step failed."""
        started = time.perf_counter()
        try:
            decoded = self.decode(path, self.options)
        except Exception as exc:
            raise StageFailed("decode", exc, time.perf_counter() - started) from exc
        timings = {"decode": time.perf_counter() - started}
        begun = time.perf_counter()
        try:
            transcript = self.transcribe(decoded)
        except Exception as exc:
            raise StageFailed("transcribe", exc, time.perf_counter() - started) from exc
        timings["transcribe"] = time.perf_counter() - begun
        return Prepared(path, decoded, transcript, timings)
