"""Decoding one file into what the pipeline needs: sampled frames, shot cuts and 16 kHz audio.

One pass over the video stream hands every frame to the per-frame stages, each an observer in
the module of its stage (``frames``): shot detection (``shots``), the frame sampler (``sample``:
frames at CLIP's input size, repeats and near neighbours within a shot skipped, handed on in
chunks with ``on_frames``), the copy descriptors (``copy_samples``) and the reads of on-screen
text (``screen_reads``, frames to ``on_screen``).
Audio is resampled to 16 kHz mono float32, Whisper's input.
Runs inside the isolated decoder process (see ``isolate``): PyAV can crash on broken files.
"""
from __future__ import annotations

import dataclasses
import time

import av
import numpy as np

from core.rows import FaceSeen
from core.settings import Settings

from .copy_samples import CopySamples
from .faces import FaceTracker
from .frames import FrameObserver, SeenFrame, yuv_thumb
from .probe import MediaInfo, UnsupportedMedia, probe_container
from .sample import FrameSampler
from .screen_reads import ScreenReader
from .shots import ShotDetector
from .subtitle_sources import Subtitles, stream_subtitles

SAMPLE_RATE = 16_000


def _default(name: str):
    return Settings.model_fields[name].default  # the settings hold every default once


@dataclasses.dataclass
class DecodeOptions:
    fps: float = _default("fps")
    frame_size: int = _default("frame_size")
    dedup_threshold: float = _default("dedup_threshold")
    shot_threshold: float = _default("shot_threshold")
    audio: bool = True
    subtitles: bool = False  # read the container's subtitle streams
    screen_size: int = 0  # short side of the frames handed to ``on_screen`` (OCR); 0: none
    screen_interval: float = _default("ocr_interval")  # at most one such frame per this many seconds
    copy_rate: float = _default("copy_rate")  # copy descriptors (perceptual hashes) per second; 0: none
    min_gap: float = 0.0  # seconds between kept frames of one shot (0: every sample that is not a repeat)
    faces: bool = False  # look for faces (``faces``)
    face_size: int = _default("face_size")  # short side of the frames faces are looked for in
    face_interval: float = _default("face_interval")  # at most one such frame per this many seconds

    @classmethod
    def from_settings(cls, settings: Settings, dedup: bool = True) -> "DecodeOptions":
        """The options a run decodes with; ``dedup=False`` keeps every sample (the naive baseline).
        Frames of one shot are kept ``segment_max / frames_per_segment`` apart: about the most a
        moment of the longest length uses."""
        spaced = settings.frames_per_segment and dedup
        return cls(fps=settings.fps, frame_size=settings.frame_size,
                   dedup_threshold=settings.dedup_threshold if dedup else -1.0,
                   min_gap=settings.segment_max / settings.frames_per_segment if spaced else 0.0,
                   shot_threshold=settings.shot_threshold, subtitles=settings.transcripts != "asr",
                   screen_size=settings.ocr_size if settings.ocr_enabled() else 0,
                   screen_interval=settings.ocr_interval, copy_rate=settings.copy_rate,
                   faces=settings.faces_enabled(), face_size=settings.face_size, face_interval=settings.face_interval)


@dataclasses.dataclass
class Decoded:
    info: MediaInfo
    frames: list[np.ndarray]  # uint8 HxWx3, short side = frame_size, upright
    frame_times: list[float]
    cuts: list[float]  # shot boundaries, seconds
    audio: np.ndarray | None  # float32 mono 16 kHz
    stats: dict
    subtitles: list[Subtitles] = dataclasses.field(default_factory=list)  # the container's text streams
    copies: CopySamples | None = None  # copy descriptors (see ``search.copies``)
    faces: list[FaceSeen] | None = None  # face appearances (None: not looked for)


def _decode_video(container, stream, info: MediaInfo, stats: dict, observers: list[FrameObserver]) -> None:
    """Every decoded frame, once, to every observer in order (each sees what the earlier ones
    decided of it: a cut, sampled, kept)."""
    stream.thread_type = "AUTO"
    for frame in container.decode(stream):
        if frame.time is None:
            continue
        stats["decoded_frames"] += 1
        first = stats["decoded_frames"] == 1
        if first:
            info.rotation = int(getattr(frame, "rotation", 0) or info.rotation) % 360
        seen = SeenFrame(frame, float(frame.time), yuv_thumb(frame), info.rotation, first=first)
        for observer in observers:
            observer.see(seen)
    for observer in observers:
        observer.finish()


def _decode_audio(container, stream) -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks = []
    for frame in container.decode(stream):
        for out in resampler.resample(frame):
            chunks.append(out.to_ndarray().reshape(-1))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def decode_audio(path: str) -> np.ndarray | None:
    """The file's first audio stream, 16 kHz mono float32; None when it has none."""
    with av.open(path, metadata_errors="ignore") as container:
        return _decode_audio(container, container.streams.audio[0]) if container.streams.audio else None


def stream_kinds(path: str) -> set[str]:
    """Which kinds of stream the file holds ("video", "audio", "subtitle"), from its header."""
    with av.open(path, metadata_errors="ignore") as container:
        return {kind for kind, streams in (("video", container.streams.video), ("audio", container.streams.audio),
                                           ("subtitle", container.streams.subtitles)) if streams}


def decode_file(path: str, options: DecodeOptions, on_screen=None, on_frames=None) -> Decoded:
    """Probe and decode ``path``; raises on files that cannot be read. ``on_screen(frame, time)``
    gets the frames whose text may have changed, at ``options.screen_size`` (for OCR), as they
    are decoded: none is kept. ``on_frames(frames)`` gets the kept frames in order, a chunk at a
    time, as they are decoded; the result then holds their times but not the frames."""
    started = time.perf_counter()
    stats = {"decoded_frames": 0, "sampled_frames": 0, "duplicate_frames": 0}
    with av.open(path, metadata_errors="ignore") as container:
        info = probe_container(container)
        has_subtitles = bool(container.streams.subtitles)
        frames, times, cuts, faces = [], [], [], None
        copies = CopySamples(options.copy_rate) if options.copy_rate > 0 and info.has_video else None
        if info.has_video:
            shots, sampler = ShotDetector(options.shot_threshold), FrameSampler(options, stats, on_frames)
            observers: list[FrameObserver] = [shots, sampler]
            if copies is not None:
                observers.append(copies)
            if on_screen is not None and options.screen_size:
                observers.append(ScreenReader(on_screen, options, stats))
            tracker = FaceTracker(options, stats) if options.faces else None
            if tracker is not None:
                observers.append(tracker)
            _decode_video(container, container.streams.video[0], info, stats, observers)
            frames, times, cuts = sampler.frames, sampler.times, shots.cuts()
            faces = tracker.appearances if tracker is not None and tracker.note is None else None
            if not times and not info.has_audio:
                raise UnsupportedMedia("the video stream holds no decodable frame")
    # A second open keeps the two passes simple; demuxing again costs little next to decoding.
    audio = decode_audio(path) if info.has_audio and options.audio else None
    subtitles = []
    if options.subtitles and has_subtitles:  # demuxed again only when there is something to read
        with av.open(path, metadata_errors="ignore") as container:
            subtitles = stream_subtitles(container)
    if times:
        info.duration = max(info.duration, times[-1])
    if audio is not None and len(audio):
        info.duration = max(info.duration, len(audio) / SAMPLE_RATE) if not info.has_video else info.duration
    if copies is not None:
        stats["copy_seconds"] = copies.seconds
    stats["decode_seconds"] = time.perf_counter() - started
    return Decoded(info, frames, times, cuts, audio, stats, subtitles, copies, faces)

