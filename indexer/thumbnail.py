"""A JPEG still of a video at a given second: what a search result shows before it is played.

Thumbnails are made on demand, not at indexing time, so an archive indexed before the web page
existed gets them too, and the catalog stays small. Decoding runs in an isolated child process
(see ``isolate``) because a damaged file can crash FFmpeg, and a crash there must not take the
search server down. Audio-only files have no picture: ``NoPicture`` says so.
"""
from __future__ import annotations

import io

from .isolate import IsolatedFailure, run_isolated
from .probe import upright

DEFAULT_WIDTH = 320


class NoPicture(LookupError):
    """The file has no video stream (audio only), so there is no frame to show."""


def grab_frame(path: str, seconds: float, width: int = DEFAULT_WIDTH, quality: int = 80) -> bytes:
    """JPEG bytes of the first frame at or after ``seconds`` (the last frame if past the end).

    Runs in the isolated child: seeks to the keyframe before ``seconds``, decodes forward.
    """
    import av
    from PIL import Image

    with av.open(path, metadata_errors="ignore") as container:
        if not container.streams.video:
            raise NoPicture(f"{path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        target = max(0.0, float(seconds))
        if target > 0 and stream.time_base:
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            except av.error.FFmpegError:
                container.seek(0)
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time + 1e-3 >= target:
                break
        if chosen is None:
            raise NoPicture(f"{path}: no frame could be decoded")
        rotation = int(getattr(chosen, "rotation", 0) or 0) % 360
        height = max(2, round(chosen.height * width / max(1, chosen.width)))
        pixels = chosen.to_ndarray(width=width, height=height, format="rgb24")
    image = Image.fromarray(upright(pixels, rotation))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def thumbnail(path: str, seconds: float, width: int = DEFAULT_WIDTH, timeout: float = 30.0) -> bytes:
    """``grab_frame`` in an isolated process: JPEG bytes, ``NoPicture``, or ``RuntimeError``."""
    try:
        return run_isolated(grab_frame, str(path), float(seconds), int(width), timeout=timeout)
    except IsolatedFailure as exc:
        if exc.kind == "error" and str(exc).startswith("NoPicture"):
            raise NoPicture(str(exc).split(": ", 1)[-1]) from exc
        raise RuntimeError(f"{path}: cannot make a thumbnail at {seconds:.1f} s: {exc}") from exc
