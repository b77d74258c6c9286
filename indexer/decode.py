"""Decoding one file into what the pipeline needs: sampled frames, shot cuts and 16 kHz audio.

One pass over the video stream does four jobs: every frame, as a 64x36 colour (YUV) thumbnail,
feeds shot detection (mean absolute difference to the previous frame, against a fixed and a
local threshold); frames at the sampling rate are kept at CLIP's input size, unless they repeat
the last kept sample (so static footage costs one frame, not one per second) or come sooner than
``min_gap`` after it within one shot (a moment averages a few frames of each shot, see
``embed``: more of one shot cost CLIP time and add nothing); frames on a grid of their own give
the copy descriptors (``copy_samples``); some go to OCR (``on_screen``). Kept frames can be
handed on in chunks as they are decoded (``on_frames``), so a long file is never held whole.
Audio is resampled to 16 kHz mono float32, Whisper's input.
Runs inside the isolated decoder process (see ``isolate``): PyAV can crash on broken files.
"""
from __future__ import annotations

import dataclasses
import time

import av
import numpy as np

from core.settings import Settings

from .copy_samples import CopySamples
from .probe import MediaInfo, UnsupportedMedia, probe_container, upright
from .subtitle_sources import Subtitles, stream_subtitles

SAMPLE_RATE = 16_000
_THUMB = (64, 36)


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
                   screen_interval=settings.ocr_interval, copy_rate=settings.copy_rate)


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


def _scaled_size(width: int, height: int, short: int) -> tuple[int, int]:
    scale = short / min(width, height)
    if scale >= 1:
        return width - width % 2, height - height % 2
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


_PLANAR_8BIT = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p",
                          "yuv410p", "yuv411p", "yuv440p"})
_PLANAR_16BIT = frozenset({"yuv420p10le", "yuv422p10le", "yuv444p10le", "yuv420p12le"})


def _plane_thumb(plane, width: int, height: int, wide: bool, shift: int) -> np.ndarray | None:
    data = np.frombuffer(plane, np.uint16 if wide else np.uint8)
    data = data.reshape(-1, plane.line_size // (2 if wide else 1))[:height, :width]
    step_y, step_x = max(1, height // _THUMB[1]), max(1, width // _THUMB[0])
    thumb = data[::step_y, ::step_x][:_THUMB[1], :_THUMB[0]].astype(np.int16)
    if shift:
        thumb >>= shift
    return thumb if thumb.shape == (_THUMB[1], _THUMB[0]) else None


def _yuv_thumb(frame) -> np.ndarray:
    """A 3x36x64 Y, U, V thumbnail, by striding over the planes: an order of magnitude cheaper
    than a scaler call, and shot detection runs on every decoded frame. Colour matters: two dark
    slides of different hues have nearly the same luma."""
    name = frame.format.name
    if name in _PLANAR_8BIT or name in _PLANAR_16BIT:
        wide = name in _PLANAR_16BIT
        shift = (int(name.endswith("12le")) * 2 + 2) if wide else 0
        planes = [_plane_thumb(p, p.width, p.height, wide, shift) for p in frame.planes[:3]]
        if all(p is not None for p in planes):
            return np.stack(planes)
    small = frame.reformat(width=_THUMB[0], height=_THUMB[1], format="yuv444p")
    return np.stack([_plane_thumb(p, _THUMB[0], _THUMB[1], False, 0) for p in small.planes[:3]])


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference per plane (Y, U, V)."""
    return np.abs(a - b).reshape(3, -1).mean(axis=1)


_ADAPTIVE_WINDOW = 12  # frames on each side that set the local level of change
_ADAPTIVE_RATIO = 4.0  # a change this many times the local level is a cut ...
_ADAPTIVE_MIN = 8.0  # ... when it is at least this large (0-255 summed over Y, U, V)
MIN_SHOT = 0.6  # seconds: of several cuts this close (a flash, an explosion), the strongest


def shot_cuts(times: list[float], scores: list[float], threshold: float) -> list[float]:
    """Cuts from per-frame change scores: above ``threshold``, or, like PySceneDetect's adaptive
    detector, well above the change around it (a cut between two still, similar slides is small
    in absolute terms but stands out against the stillness around it). Like its
    ``min_scene_len``, cuts closer than ``MIN_SHOT`` are one: flashes and fast action otherwise
    cut a battle scene every few frames."""
    values = np.asarray(scores, np.float64)
    found = []
    for i, score in enumerate(values):
        if score >= threshold:
            found.append((score, times[i]))
            continue
        if score < _ADAPTIVE_MIN:
            continue
        around = np.concatenate([values[max(0, i - _ADAPTIVE_WINDOW):i], values[i + 1:i + 1 + _ADAPTIVE_WINDOW]])
        level = float(around.mean()) if len(around) else 0.0
        if score >= _ADAPTIVE_RATIO * max(level, 1.0) and score == values[max(0, i - 2):i + 3].max():
            found.append((score, times[i]))
    kept: list[float] = []
    for _, at in sorted(found, key=lambda pair: (-pair[0], pair[1])):
        if all(abs(at - other) >= MIN_SHOT for other in kept):
            kept.append(at)
    return sorted(kept)


FRAME_CHUNK = 32  # kept frames handed on together (``on_frames``): one CLIP batch


def _decode_video(container, stream, options: DecodeOptions, info: MediaInfo, stats: dict, on_screen=None,
                  copies: CopySamples | None = None, on_frames=None):
    stream.thread_type = "AUTO"
    frames, times, change_times, changes = [], [], [], []
    previous = last_kept = None
    last_kept_time, cut_since_kept = -1e9, False
    schedule = screen_size = None
    next_sample = 0.0
    interval = 1.0 / options.fps
    size = None
    for frame in container.decode(stream):
        if frame.time is None:
            continue
        stats["decoded_frames"] += 1
        if stats["decoded_frames"] == 1:
            info.rotation = int(getattr(frame, "rotation", 0) or info.rotation) % 360
            size = _scaled_size(frame.width, frame.height, options.frame_size)
            schedule = ScreenSchedule(float(frame.time), options)
        thumb = _yuv_thumb(frame)
        if previous is not None:
            change_times.append(float(frame.time))
            changes.append(float(_difference(thumb, previous).sum()))
            cut = changes[-1] >= options.shot_threshold
            cut_since_kept = cut_since_kept or cut
            schedule.see(float(frame.time), cut)
        previous = thumb
        if copies is not None:
            copies.offer(frame, info.rotation)
        if frame.time + 1e-6 < next_sample:
            continue
        next_sample = frame.time + interval
        stats["sampled_frames"] += 1
        keep = True
        if last_kept is not None:
            if _difference(thumb, last_kept).max() < options.dedup_threshold:
                stats["duplicate_frames"] += 1
                keep = False
            elif frame.time - last_kept_time < options.min_gap - 1e-6 and not cut_since_kept:
                stats["spaced_frames"] = stats.get("spaced_frames", 0) + 1
                keep = False
        if keep:
            last_kept, last_kept_time, cut_since_kept = thumb, float(frame.time), False
            image = frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()
            frames.append(upright(image, info.rotation))
            times.append(float(frame.time))
            if on_frames is not None and len(frames) == FRAME_CHUNK:
                on_frames(frames)
                frames = []
        if on_screen is not None and options.screen_size and schedule.due(thumb, float(frame.time), keep):
            screen_size = screen_size or _scaled_size(frame.width, frame.height, options.screen_size)
            big = frame.reformat(width=screen_size[0], height=screen_size[1], format="rgb24").to_ndarray()
            schedule.read(thumb, float(frame.time), on_screen(upright(big, info.rotation), float(frame.time)))
            stats["screen_frames"] = stats.get("screen_frames", 0) + 1
    if on_frames is not None and frames:
        on_frames(frames)
        frames = []
    return frames, times, shot_cuts(change_times, changes, options.shot_threshold)


class ScreenSchedule:
    """Which samples OCR reads (``_text_may_be_new`` says when), with what it needs to know of
    the frames between them: whether a new shot began since the last read. A new shot is a jump
    in the picture after a calm stretch (``MIN_SHOT``), or a calm stretch after jumps that went
    on for longer: fast action that settled into a new picture. In fast action every frame
    jumps; counting each as a cut would read it every ``screen_interval`` instead of with the
    back-off of a shot without text. Kept samples are read; once a shot settled, any sample is
    (its first frame may have been kept while the action was still going, and the rest repeat it)."""

    def __init__(self, start: float, options: DecodeOptions):
        self.options = options
        self.last_thumb, self.last_read, self.misses = None, -1e9, 0  # reads in a row that found nothing
        self.cut = self.settled = False  # since the last read: a new shot; one that settled
        self.run_start = self.last_jump = start  # the first frame starts a shot
        self.settling = False  # jumps have gone on for longer than MIN_SHOT

    def see(self, at: float, jump: bool) -> None:
        """A decoded frame (after the first); ``jump``: it is a cut from the one before."""
        calm = at - self.last_jump >= MIN_SHOT
        if jump:
            self.last_jump = at
            if calm:
                self.run_start, self.cut = at, True
            self.settling = self.settling or at - self.run_start >= MIN_SHOT
        elif self.settling and calm:
            self.settling, self.cut, self.settled = False, True, True

    def due(self, thumb, at: float, kept: bool) -> bool:
        return (kept or self.settled) and _text_may_be_new(thumb, self.last_thumb, at - self.last_read,
                                                           self.misses, self.cut, self.options)

    def read(self, thumb, at: float, found: bool) -> None:
        """The sample at ``at`` was read; ``found``: it held text."""
        self.last_thumb, self.last_read, self.misses = thumb, at, 0 if found else self.misses + 1
        self.cut = self.settled = False


def _text_may_be_new(thumb, last_read_thumb, since: float, misses: int, cut: bool, options: DecodeOptions) -> bool:
    """Whether OCR should read this sample. Text can only have changed where the picture
    did, so a sample like the last one read is skipped; at most one frame per ``screen_interval``
    is read. After a cut (``cut``: one since the last read, between consecutive frames: a slide
    change, a new shot) that is all; within a shot, a read that found no text makes the next wait
    4 times as long, and each further one doubles it (up to 16 times): moving footage without
    text is read about once a shot, and the next shot is read at once. A zoom or a pan is one
    shot however far it moves from the frame read last. (Text that appears inside a textless
    moving shot, a lower third say, is read within 8 s of the shot's first read, within 32 s in
    a long one.)"""
    if last_read_thumb is None:
        return True
    if _difference(thumb, last_read_thumb).max() < max(options.dedup_threshold, 0):
        return False
    return since + 1e-6 >= options.screen_interval * (1 if cut or not misses else 2 ** min(misses + 1, 4))


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
        frames, times, cuts = [], [], []
        copies = CopySamples(options.copy_rate) if options.copy_rate > 0 and info.has_video else None
        if info.has_video:
            frames, times, cuts = _decode_video(container, container.streams.video[0], options, info, stats,
                                                on_screen, copies, on_frames)
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
    return Decoded(info, frames, times, cuts, audio, stats, subtitles, copies)

