"""Speech to timestamped text: one ASR interface, faster-whisper by default, openai-whisper optional.

Model resolution for faster-whisper: the explicit setting (a name or a path; "base" and "tiny.en"
are the copies shipped in packages, ``packaged_whisper``) -> the default for the device
(``DEFAULT_MODELS``): on a CPU the packaged multilingual base, on CUDA large-v3-turbo from the
cache or downloaded -> the packaged base, then tiny.en, with a warning. openai-whisper downloads
by name (tiny.en unless set). Audio comes in already decoded (16 kHz mono float32), so no backend ever opens a file.
Silence is not sent to Whisper at all: it invents words from silence and wastes time on it.

Each stretch of one language is transcribed told its language (``speech_languages``), and every
line keeps it. A model that hears only English never transcribes another language (it would write
English words that were never said): that speech is reported as ``unheard``, its language found
by the packaged multilingual model. Non-English stretches also get an English rendering
(Whisper's translate task), which the English-only text models search.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from ..settings import Settings, default_model_cache_dir
from .base import ModelUnavailable, resolve_asr_compute_type
from .packaged_whisper import packaged_base, packaged_tiny_en
from .speech_languages import SURE, Stretch, clock, language_name, language_stretches
from .vad import SAMPLE_RATE, is_silent, voiced_spans

log = logging.getLogger(__name__)

_MIN_AVG_LOGPROB = -1.0  # Whisper's own threshold; below it lines are mostly hallucinated
_MIN_TRANSLATION_LOGPROB = -1.5  # translations are less sure of their words, yet carry the meaning


@dataclasses.dataclass
class Line:
    start: float
    end: float
    text: str
    words: list[tuple[float, float, str]]
    language: str | None = None  # as heard (ISO 639-1), when known


@dataclasses.dataclass
class Transcript:
    language: str | None
    lines: list[Line]
    model: str | None = None  # the ASR model that heard it
    voiced: list[tuple[float, float]] = dataclasses.field(default_factory=list)  # exact speech edges (VAD)
    source: str | None = None  # where the words came from, when not from ASR: "sidecar:talk.en.srt", "stream:2 (eng)"
    note: str | None = None  # why the file's own subtitles were not used, when it has some
    unheard: list[tuple[float, float, str]] = dataclasses.field(default_factory=list)  # (start, end, language) the model cannot hear
    rendering: list[Line] = dataclasses.field(default_factory=list)  # English rendering of the lines in other languages

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines).strip()

    def languages(self) -> list[str]:
        """The languages its lines are in, most lines first."""
        return spoken_languages(self.lines)

    def later(self, shift: float) -> "Transcript":
        """This transcript ``shift`` seconds later: from a piece of audio's clock onto the file's."""
        if not shift:
            return self
        return dataclasses.replace(self, lines=[shifted(line, shift) for line in self.lines],
                                   rendering=[shifted(line, shift) for line in self.rendering],
                                   voiced=[(a + shift, b + shift) for a, b in self.voiced],
                                   unheard=[(a + shift, b + shift, language) for a, b, language in self.unheard])

    def unheard_note(self) -> str | None:
        """What speech was left untranscribed and why, for the report: "speech in French (0:00-0:03),
        not transcribed by tiny.en (English only)"."""
        if not self.unheard:
            return None
        spans = ", ".join(f"{language_name(lang)} ({clock(a)}-{clock(math.ceil(b))})" for a, b, lang in self.unheard[:4])
        more = f" and {len(self.unheard) - 4} more" if len(self.unheard) > 4 else ""
        model = (self.model or "the model").removeprefix("faster-whisper:")
        return f"speech in {spans}{more}, not transcribed by {model} (English only); " \
               "unset VIDSEARCH_ASR_MODEL for the multilingual base"


def shifted(line: Line, shift: float) -> Line:
    """``line`` moved ``shift`` seconds later: from a piece of audio's clock onto the file's."""
    if not shift:
        return line
    return dataclasses.replace(line, start=line.start + shift, end=line.end + shift,
                               words=[(a + shift, b + shift, w) for a, b, w in line.words])


def spoken_languages(lines: list[Line]) -> list[str]:
    """The languages ``lines`` are in, most lines first (the first is a transcript's language)."""
    heard = [line.language for line in lines if line.language]
    return sorted(set(heard), key=lambda code: (-heard.count(code), code))


EMPTY = Transcript(None, [])


class AsrBackend(Protocol):
    model_id: str

    def transcribe(self, audio: np.ndarray) -> Transcript: ...


# The model a user gets without choosing: base hears about a hundred languages and ships in
# packages (no download on a CPU); large-v3-turbo is near large-v3's quality at a fraction of its
# cost on a GPU. Both are multilingual.
DEFAULT_MODELS = {"cpu": "base", "cuda": "large-v3-turbo"}
_RETRY_AFTER = 24 * 3600  # seconds a failed download is not tried again


def default_whisper_model(device: str, cache_dir: str | None, marker_dir: Path | None,
                          join_dir: Path | None = None) -> str:
    """The default model for ``device``: on a CPU the packaged base (joined into ``join_dir``);
    otherwise, or when base's packages are missing, the hub's model from the cache or downloaded;
    the packaged base, then tiny.en, with a warning, when it cannot be had. A failed download is
    remembered for a day (``marker_dir``), so an offline machine does not try on every run."""
    from faster_whisper.utils import download_model

    name = DEFAULT_MODELS["cuda" if device.startswith("cuda") else "cpu"]
    join_dir = join_dir or default_model_cache_dir()
    if name == "base" and (base := packaged_base(join_dir)):
        return base
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
    base = packaged_base(join_dir)  # joined only now that it is needed (a GPU's cached model needs none)
    fallback, fallback_name = (base, "base") if base else (packaged_tiny_en(), "tiny.en")
    if fallback is None:
        raise ModelUnavailable(f"the Whisper model {name} could not be downloaded ({failed}) and no packaged "
                               "model is installed; set VIDSEARCH_ASR_MODEL to a local model folder")
    log.warning("Whisper %s is not available (%s): transcribing with the packaged %s, which hears "
                "less; set VIDSEARCH_ASR_MODEL to a model folder for better transcripts", name, failed, fallback_name)
    return fallback


def _recent_failure(marker: Path | None, name: str) -> str | None:
    try:
        info = json.loads(marker.read_text()) if marker is not None and marker.exists() else {}
    except ValueError:
        return None
    if info.get("model") == name and time.time() - info.get("at", 0) < _RETRY_AFTER:
        return f"its download failed {(time.time() - info['at']) / 60:.0f} min ago: {info.get('error')}"
    return None


class FasterWhisper:
    """faster-whisper (CTranslate2): int8 on CPU, word timestamps, VAD to skip non-speech, each
    stretch of one language transcribed as that language (see the module's doc)."""

    def __init__(self, model: str | None, device: str = "cpu", compute_type: str = "auto",
                 language: str | None = None, cache_dir: str | None = None, vad: bool = True,
                 threads: int = 0, marker_dir: Path | None = None, join_dir: Path | None = None,
                 translate: bool = True):
        from faster_whisper import WhisperModel

        join_dir = join_dir or default_model_cache_dir()
        packaged = {"tiny.en": packaged_tiny_en, "base": lambda: packaged_base(join_dir)}
        name = (packaged[model]() if model in packaged else None) or model \
            or default_whisper_model(device, cache_dir, marker_dir, join_dir)
        ct_device, _, index = device.partition(":")
        compute_type = resolve_asr_compute_type(compute_type, device)
        self._load = lambda path: WhisperModel(path, device=ct_device, device_index=int(index or 0),
                                               compute_type=compute_type, download_root=cache_dir,
                                               cpu_threads=threads)
        try:
            self.model = self._load(name)
        except Exception as exc:
            raise ModelUnavailable(f"faster-whisper model {name!r} could not be loaded: {exc}") from exc
        self.model_id = f"faster-whisper:{_short_name(name, join_dir)}"
        self.multilingual = bool(self.model.model.is_multilingual)
        self.language, self.vad, self.translate = language, vad, translate
        self._join_dir = join_dir
        # What tells a piece of speech's language: the model itself, or for an English-only one the
        # packaged base, loaded on first need.
        self._detector = self.model if self.multilingual else None
        self._heard = _Listening(self.model.model)
        self.model.model = self._heard
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray) -> Transcript:
        if is_silent(audio):
            return EMPTY
        with self._lock:
            if self.multilingual:
                lines, unheard = self._lines(audio, 0.0, self.language, "transcribe"), []
                if self.language is None:
                    lines = self._settle_switches(audio, lines)
            else:
                lines, unheard = self._english_only(audio)
            rendering = []
            if self.translate and self.multilingual:
                for first, end, language in foreign_stretches(lines, len(audio)):
                    rendering += self._lines(audio[first:end], first / SAMPLE_RATE, language, "translate")
        language = next(iter(spoken_languages(lines)), None)
        return Transcript(language, lines, self.model_id, voiced_spans(audio), unheard=unheard, rendering=rendering)

    def _settle_switches(self, audio: np.ndarray, lines: list[Line]) -> list[Line]:
        """Where the language changes between two lines, the window Whisper heard it in may have
        begun before the change (a window's language is one): the lines on either side are each
        asked their own language, and one that was heard in the wrong one is transcribed again."""
        near = {m for n in range(1, len(lines)) if lines[n].language != lines[n - 1].language
                for m in range(n - 2, n + 2) if 0 <= m < len(lines)}
        out = []
        for n, line in enumerate(lines):
            first, end = int(line.start * SAMPLE_RATE), int(line.end * SAMPLE_RATE)
            found = self._detect(audio[first:end]) if n in near and end - first >= SAMPLE_RATE else None
            if found is None or found[1] < SURE or found[0] == line.language:
                out.append(line)
            else:
                out += self._lines(audio[first:end], line.start, found[0], "transcribe")
        return out

    def _english_only(self, audio: np.ndarray) -> tuple[list[Line], list[tuple[float, float, str]]]:
        """An English-only model's lines, from the English stretches only; the others, unheard."""
        stretches = [Stretch(0, len(audio), "en")] if self.language else language_stretches(self._detect, audio)
        lines, unheard = [], []
        for stretch in stretches:
            if stretch.language in (None, "en"):
                lines += self._lines(audio[stretch.first:stretch.end], stretch.start_seconds, None, "transcribe")
            else:
                unheard.append((round(stretch.start_seconds, 2), round(stretch.end_seconds, 2), stretch.language))
        return lines, unheard

    def _lines(self, audio: np.ndarray, shift: float, language: str | None, task: str) -> list[Line]:
        """Whisper's lines of ``audio`` on the file's clock. A multilingual model not told the
        language finds it anew in every 30-s window it decodes (on the encoder output it
        computes anyway: no extra cost), and each line keeps its window's language."""
        words = task == "transcribe"
        per_window = self.multilingual and language is None
        # A translation is read for its meaning: its lower confidence sets off no retries at higher
        # temperatures (only a repeating loop does), and its less sure lines are kept.
        retries = {} if words else {"log_prob_threshold": None}
        self._heard.last = None
        segments, info = self.model.transcribe(
            audio, language=language or ("en" if per_window else None), multilingual=per_window, task=task,
            word_timestamps=words, vad_filter=self.vad, condition_on_previous_text=False, beam_size=1, **retries,
        )
        floor = _MIN_AVG_LOGPROB if words else _MIN_TRANSLATION_LOGPROB
        lines = []
        for s in segments:  # lazily decoded: the window's language was just heard when its lines come
            heard = "en" if task == "translate" else (self._heard.last if per_window and self._heard.last
                                                      else info.language)
            if any(c.isalnum() for c in s.text) and s.avg_logprob >= floor:  # a lone "." says nothing
                lines.append(shifted(Line(float(s.start), float(s.end), s.text.strip(),
                                          [(float(w.start), float(w.end), w.word.strip()) for w in (s.words or [])],
                                          heard), shift))
        return lines

    def _detect(self, audio: np.ndarray) -> tuple[str, float] | None:
        """The language of a piece of speech, asked of the model itself or, for an English-only
        model, of the packaged base; None when that is not installed (then everything is
        transcribed, as English)."""
        if self._detector is None:
            base = packaged_base(self._join_dir)
            if base is None:
                return None
            self._detector = self._load(base)
        language, probability, _ = self._detector.detect_language(audio)
        return language, probability


class _Listening:
    """CTranslate2's Whisper, passed through, noting the language it detects last: faster-whisper
    detects each window's language inside its decoding loop and does not say which it found."""

    def __init__(self, model):
        self._model = model
        self.last: str | None = None

    def __getattr__(self, name):
        return getattr(self._model, name)

    def detect_language(self, *args, **kwargs):
        found = self._model.detect_language(*args, **kwargs)
        self.last = found[0][0][0].strip("<|>")
        return found


def foreign_stretches(lines: list[Line], samples: int, pad: float = 0.3) -> list[tuple[int, int, str]]:
    """[(first, end, language)] sample ranges of consecutive lines in one language other than English."""
    out: list[tuple[int, int, str]] = []
    previous = None
    for line in lines:
        if line.language not in (None, "en"):
            first = max(0, int((line.start - pad) * SAMPLE_RATE))
            end = min(samples, int((line.end + pad) * SAMPLE_RATE))
            if previous is not None and previous.language == line.language and out:
                first = out.pop()[0]
            out.append((first, end, line.language))
        previous = line
    return out


def _short_name(name: str, join_dir: Path) -> str:
    """A model's name for people: a packaged copy by its model's name, a downloaded model's folder
    by its repository name."""
    if name == packaged_tiny_en():
        return "tiny.en"
    path = Path(name)
    if path.parent == Path(join_dir) and path.name.startswith("whisper-base-"):
        return "base"
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
                 [(float(w["start"]), float(w["end"]), w["word"].strip()) for w in s.get("words", [])],
                 result.get("language"))
            for s in result["segments"] if s["text"].strip() and s.get("avg_logprob", 0) >= _MIN_AVG_LOGPROB
        ]
        return Transcript(result.get("language"), lines, self.model_id, voiced_spans(audio))


def make_asr(settings: Settings, vad: bool = True, threads: int = 0) -> AsrBackend:
    """The one factory for ASR backends; unknown names fail loudly. ``threads`` 0 = the backend's default."""
    device = settings.resolved_device()
    cache = str(settings.model_cache_dir) if settings.model_cache_dir else None
    if settings.asr_backend == "faster-whisper":
        return FasterWhisper(settings.asr_model, device, settings.asr_compute_type,
                             settings.asr_language, cache, vad=vad, threads=threads, marker_dir=settings.data_dir,
                             join_dir=settings.model_cache_dir, translate=settings.asr_translate)
    if settings.asr_backend == "openai-whisper":
        return OpenAIWhisper(settings.asr_model, device, settings.asr_language, cache)
    raise ValueError(f"unknown ASR backend {settings.asr_backend!r}; known: faster-whisper, openai-whisper")
