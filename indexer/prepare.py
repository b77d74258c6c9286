"""One file made ready for the embedder: decoded, its speech transcribed (silence skipped) or its
own subtitles read.

With ``overlap``, a video file whose transcript can only come from Whisper has its audio decoded
and transcribed in a thread while its pictures are decoded: the two passes share the cores
instead of taking turns, and a long file no longer waits for Whisper after its last frame.

Local worker processes, Ray actors and query clips all do the same two steps; this is the one
place they are written. Whisper is built on the first file with speech, so a batch of silent
footage never loads it. ``decode`` is the decoding step: in a worker process it runs in place
(the process is the isolation), elsewhere it can be ``isolate.run_isolated`` around it.
"""
from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable, NamedTuple

from threadpoolctl import threadpool_limits

from core.settings import Settings

from core.models.ocr import ScreenLine
from core.models.asr_windows import transcribe_windows
from core.models.vad import voiced_spans
from core.models.voices import VoiceEncoder, load_voice_encoder
from core.models.whisper import EMPTY, AsrBackend, Transcript, is_silent, make_asr
from search.copies.sound import sound_landmarks

from .decode import Decoded, DecodeOptions, decode_audio, decode_file, stream_kinds
from .screen import ScreenReading, ocr_reader
from .subtitle_sources import choose, sidecars, transcript_from
from .voices import Diarized, diarize


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
    speakers: Diarized | None = None  # who speaks when (None: voices were not told apart)
    voice_model: str | None = None  # what told them apart


class _Heard(NamedTuple):
    """What the speech thread made of a file's audio, and the seconds each step took."""

    transcript: Transcript
    speakers: Diarized | None
    transcribe_seconds: float
    voices_seconds: float
    sound: tuple | None  # the sound's landmarks for copies (``search.copies.sound``)
    sound_seconds: float


class StageFailed(Exception):
    """Preparing failed at ``stage`` (decode | transcribe) after ``seconds``."""

    def __init__(self, stage: str, cause: Exception, seconds: float):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.stage, self.cause, self.seconds = stage, cause, seconds


class Preparer:
    def __init__(self, settings: Settings, options: DecodeOptions, *, vad: bool = True, threads: int = 0,
                 asr: AsrBackend | None = None,
                 decode: Callable[..., Decoded] = decode_file, overlap: bool = False):
        self.settings, self.options, self.vad, self.threads = settings, options, vad, threads
        self.decode = decode
        self._speech = ThreadPoolExecutor(1, thread_name_prefix="speech") if overlap else None
        self._asr = asr
        self._ocr = ocr_reader(settings, threads)
        self._voice_encoder: VoiceEncoder | None = None

    @property
    def asr(self) -> AsrBackend:
        if self._asr is None:
            self._asr = make_asr(self.settings, vad=self.vad, threads=self.threads)
        return self._asr

    @property
    def voice_encoder(self) -> VoiceEncoder | None:
        """The speaker encoder when voices are told apart (``VIDSEARCH_VOICES``), built on first use."""
        if self._voice_encoder is None and self.settings.voices_enabled():
            self._voice_encoder = load_voice_encoder(self.settings.onnx_cache_dir)
        return self._voice_encoder

    def voices(self, audio, transcript: Transcript) -> Diarized | None:
        """Who speaks when in ``audio``; None when voices are not told apart or there is no speech."""
        if audio is None or is_silent(audio) or self.voice_encoder is None:
            return None  # silent footage never loads the encoder
        # The encoder is numpy matrix products: with a BLAS thread per core in every worker they
        # only contend on a busy CPU, as more Whisper threads would.
        with threadpool_limits(self.threads or None, user_api="blas"):
            return diarize(audio, transcript.voiced or voiced_spans(audio), self.voice_encoder)

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
        return dataclasses.replace(self.whisper(decoded.audio if decoded.info.has_audio else None), note=note)

    def whisper(self, audio) -> Transcript:
        """Whisper over ``audio``; nothing for no audio or silence (Whisper would invent words)."""
        return EMPTY if audio is None or is_silent(audio) else transcribe_windows(self.asr, audio)

    def _landmarks(self, audio) -> tuple[tuple | None, float]:
        """The sound's landmarks, a copy's second witness (None when copies are not taken), and the
        seconds they took."""
        if self.options.copy_rate <= 0:
            return None, 0.0
        started = time.perf_counter()
        return sound_landmarks(audio), time.perf_counter() - started

    def _speech_early(self, path: str) -> "Future | None":
        """Audio decoded and transcribed in the speech thread, started now; None when this file's
        transcript may come from subtitles, when it has no pictures to decode meanwhile, or when
        the header cannot be read (decoding then says why)."""
        if self._speech is None:
            return None
        try:
            kinds = stream_kinds(path)
        except Exception:
            return None
        subtitles = self.settings.transcripts != "asr" and ("subtitle" in kinds or sidecars(Path(path)))
        if kinds & {"video", "audio"} != {"video", "audio"} or subtitles or self.settings.transcripts == "subtitles":
            return None

        def speech() -> _Heard:
            begun = time.perf_counter()
            audio = decode_audio(path)
            transcript = self.whisper(audio)
            heard = time.perf_counter()
            speakers = self.voices(audio, transcript)
            voiced = time.perf_counter()
            return _Heard(transcript, speakers, heard - begun, voiced - heard, *self._landmarks(audio))

        return self._speech.submit(speech)

    def prepare(self, path: str, on_frames=None) -> Prepared:
        """Decode and transcribe ``path`` (and read its on-screen text, as it is decoded); raises
        ``StageFailed`` saying which step failed. OCR failing fails no file: it is noted.
        ``on_frames``: see ``decode_file`` (the kept frames, handed on as they are decoded)."""
        started = time.perf_counter()
        screen = ScreenReading(self._ocr) if self.options.screen_size else None
        extra = {name: value for name, value in (("on_screen", screen), ("on_frames", on_frames)) if value}
        early = self._speech_early(path)
        options = self.options if early is None else dataclasses.replace(self.options, audio=False)
        try:
            decoded = self.decode(path, options, **extra)
        except Exception as exc:
            if early is not None:
                wait([early])  # the next file starts with the speech thread free
            raise StageFailed("decode", exc, time.perf_counter() - started) from exc
        timings = {"decode": time.perf_counter() - started}
        if "copy_seconds" in decoded.stats:  # hashing for copy detection, apart from decoding
            timings["copies"] = decoded.stats["copy_seconds"]
            timings["decode"] -= timings["copies"]
        if "face_seconds" in decoded.stats:  # looking for faces, apart from decoding
            timings["faces"] = decoded.stats["face_seconds"]
            timings["decode"] -= timings["faces"]
        if screen is not None:
            timings["decode"] -= screen.seconds
            timings["ocr"] = screen.seconds
        begun = time.perf_counter()
        try:
            if early is not None:
                heard = early.result()
                transcript, speakers, timings["transcribe"], timings["voices"] = heard[:4]
                sound = heard.sound, heard.sound_seconds
            else:
                transcript = self.transcribe(decoded, path)
                heard = time.perf_counter()
                speakers = self.voices(decoded.audio if decoded.info.has_audio else None, transcript)
                timings["transcribe"], timings["voices"] = heard - begun, time.perf_counter() - heard
        except Exception as exc:
            raise StageFailed("transcribe", exc, time.perf_counter() - started) from exc
        if decoded.copies is not None:
            if early is None:  # the audio was decoded with the pictures
                sound = self._landmarks(decoded.audio if decoded.info.has_audio else None)
            decoded.copies.sound, seconds = sound
            timings["copies"] = timings.get("copies", 0.0) + seconds
        found, note, model, _ = screen.results() if screen else ([], None, None, 0.0)
        return Prepared(path, decoded, transcript, timings, found, note, model, speakers,
                        self.voice_encoder.model_id if speakers is not None else None)

