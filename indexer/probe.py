"""What a media file holds, before any decoding: duration, frame rate, size, rotation, codecs.

Runs inside the isolated decoder process (see ``isolate``), on an open PyAV container.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import av
import numpy as np


@dataclasses.dataclass
class MediaInfo:
    duration: float
    fps: float | None
    width: int | None
    height: int | None
    rotation: int
    video_codec: str | None
    audio_codec: str | None
    has_video: bool
    has_audio: bool
    recorded_at: dt.datetime | None = None  # from the container's creation_time tag, when present
    chapters: list = dataclasses.field(default_factory=list)  # the file's own marks: [(start, end, title)]


class UnsupportedMedia(ValueError):
    """The file opens but holds nothing vidsearch can index."""


def _stream_seconds(stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """A decoded picture (H x W x C) turned as it is meant to be seen: ``rotation`` is PyAV's
    counter-clockwise degrees of the display matrix (``MediaInfo.rotation``, a frame's own)."""
    quarter = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=quarter)) if quarter else image


def _rotation(stream) -> int:
    """Rotation from the old "rotate" tag; decode corrects it from the first frame's display matrix."""
    try:
        return int(stream.metadata.get("rotate", 0)) % 360
    except (TypeError, ValueError):
        return 0


def _recorded_at(container, stream) -> dt.datetime | None:
    for tags in (container.metadata, getattr(stream, "metadata", None) or {}):
        value = (tags or {}).get("creation_time") or (tags or {}).get("date")
        if value:
            try:
                moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return None


def probe_container(container: av.container.InputContainer) -> MediaInfo:
    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None
    if video is None and audio is None:
        raise UnsupportedMedia("no video or audio stream")
    duration = float(container.duration) / av.time_base if container.duration else 0.0
    if not duration:
        duration = max(_stream_seconds(s) for s in (video, audio) if s is not None)
    fps = float(video.average_rate or video.guessed_rate or 0) or None if video is not None else None
    return MediaInfo(
        duration=duration,
        fps=fps,
        width=video.codec_context.width if video is not None else None,
        height=video.codec_context.height if video is not None else None,
        rotation=_rotation(video) if video is not None else 0,
        video_codec=video.codec_context.name if video is not None else None,
        audio_codec=audio.codec_context.name if audio is not None else None,
        has_video=video is not None,
        has_audio=audio is not None,
        recorded_at=_recorded_at(container, video or audio),
        chapters=own_chapters(container),
    )


def own_chapters(container) -> list[tuple[float, float, str]]:
    """The chapter marks the file carries (MP4 chapter atoms, Matroska chapters), in seconds,
    with their titles ('Chapter n' where a mark has none)."""
    try:
        marks = container.chapters() if hasattr(container, "chapters") else []
    except (av.error.FFmpegError, ValueError):
        return []
    out = []
    for n, mark in enumerate(sorted(marks, key=lambda m: m["start"] * m["time_base"])):
        base = mark["time_base"]
        start, end = float(mark["start"] * base), float(mark["end"] * base)
        title = ((mark.get("metadata") or {}).get("title") or "").strip() or f"Chapter {n + 1}"
        if end > start >= 0:
            out.append((round(start, 3), round(end, 3), title))
    return out


def probe(path: str) -> MediaInfo:
    with av.open(path, metadata_errors="ignore") as container:
        return probe_container(container)
