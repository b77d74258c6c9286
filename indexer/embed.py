"""Segment vectors: frames and transcript of each moment into the visual, fused and speech spaces.

All kept frames of a file go through CLIP's image tower in batches, once; a moment whose frames
were all dropped as repeats borrows the last frame shown before it. A moment's spoken part is
the transcript lines with a word inside it (whole sentences embed better than the few words that fall
inside the cut); what it displays are the words spoken inside it.
"""
from __future__ import annotations

import numpy as np

from search.encoders import Encoders
from search.fusion import fuse, pool
from search.library import NewSegment
from search.settings import Settings

from .decode import Decoded
from .transcribe import Transcript


def _words_inside(transcript: Transcript, start: float, end: float) -> str:
    words = []
    for line in transcript.lines:
        if line.words:
            words.extend(w for s, e, w in line.words if start <= (s + e) / 2 < end)
        elif start <= (line.start + line.end) / 2 < end:
            words.append(line.text)
    return " ".join(words).strip()


def _lines_spoken_in(transcript: Transcript, start: float, end: float) -> str:
    """Whole lines with a word spoken inside the span (Whisper's line edges are loose)."""
    def inside(line) -> bool:
        if line.words:
            return any(start <= (s + e) / 2 < end for s, e, _ in line.words)
        return line.start < end and line.end > start
    return " ".join(line.text for line in transcript.lines if inside(line)).strip()


def _frames_of(times: list[float], start: float, end: float) -> list[int]:
    inside = [i for i, t in enumerate(times) if start <= t < end]
    if inside or not times:
        return inside
    before = [i for i, t in enumerate(times) if t < start]
    return [before[-1]] if before else [0]


def embed_segments(decoded: Decoded, spans: list[tuple[float, float]], transcript: Transcript,
                   encoders: Encoders, settings: Settings) -> tuple[list[NewSegment], dict]:
    """NewSegments with their vectors, and {space: (model id, dim)} for the catalog."""
    clip = encoders.clip
    models: dict[str, tuple[str, int]] = {}
    frame_vecs = None
    if clip is not None and decoded.frames:
        frame_vecs = clip.encode_images(decoded.frames)
        models["visual"] = models["fused"] = (clip.model_id, clip.dim)
    segments = []
    for start, end in spans:
        frames = _frames_of(decoded.frame_times, start, end)
        seg = NewSegment(start=start, end=end, transcript=_words_inside(transcript, start, end),
                         frame_count=len(frames),
                         thumbnail_time=decoded.frame_times[frames[0]] if frames else None)
        if frame_vecs is not None and frames:
            seg.vectors["visual"] = pool(frame_vecs[frames])
        segments.append(seg)
    spoken = [(_lines_spoken_in(transcript, s.start, s.end), s) for s in segments]
    spoken = [(text, s) for text, s in spoken if text]
    if spoken:
        texts = [text for text, _ in spoken]
        speech = encoders.sentence
        models["speech"] = (speech.model_id, speech.dim)
        for (_, seg), vec in zip(spoken, speech.encode(texts)):
            seg.vectors["speech"] = vec
        if clip is not None:
            models["fused"] = (clip.model_id, clip.dim)
            for (_, seg), vec in zip(spoken, clip.encode_texts(texts)):
                seg.vectors["clip_text"] = vec
    for seg in segments:
        fused = fuse(seg.vectors.get("visual"), seg.vectors.pop("clip_text", None),
                     settings.visual_weight, settings.speech_weight)
        if fused is not None:
            seg.vectors["fused"] = fused
    return segments, models


def query_vectors(decoded: Decoded, transcript: Transcript, encoders: Encoders,
                  settings: Settings) -> dict[str, np.ndarray]:
    """One vector per space for a whole query clip or image, built like a segment's."""
    end = max(decoded.info.duration, decoded.frame_times[-1] + 1e-3 if decoded.frame_times else 0.0, 1e-3)
    segments, _ = embed_segments(decoded, [(0.0, end)], transcript, encoders, settings)
    return segments[0].vectors
