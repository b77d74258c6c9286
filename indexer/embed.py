"""Segment vectors: frames and transcript of each moment into the visual, fused and speech spaces.

The kept frames of a file go through CLIP's image tower in batches, once: at most
``frames_per_segment`` evenly spaced ones per moment, since a moment's frame embeddings are
averaged and frames of one shot are alike. A moment whose frames were all dropped as repeats
borrows the last frame shown before it. A moment's spoken part is the words spoken inside it:
segments are cut between sentences (``segment``), so these are whole sentences, and no
neighbour's words leak in. Speech in another language than English reaches the speech space as
its English rendering followed by its words as spoken (an English question finds the first, a
word typed as spoken the second; bench.quality_languages measured either alone worse), and CLIP's
77-token text part as the rendering alone; the words as spoken stay the segment's transcript.
"""
from __future__ import annotations

import numpy as np

from core.encoders import Encoders
from search.fusion import fuse, pool
from core.vectors import SPOKEN, normalize
from core.library import NewSegment
from core.settings import Settings

from .decode import Decoded
from core.models.whisper import Transcript, spoken_languages


def _words_inside(transcript: Transcript, start: float, end: float) -> str:
    words = []
    for line in transcript.lines:
        if line.words:
            words.extend(w for s, e, w in line.words if start <= (s + e) / 2 < end)
        elif start <= (line.start + line.end) / 2 < end:
            words.append(line.text)
    return " ".join(words).strip()


def _language_inside(transcript: Transcript, start: float, end: float) -> str | None:
    """The language most of the lines spoken inside the span are in."""
    inside = [line for line in transcript.lines if start <= (line.start + line.end) / 2 < end
              or any(start <= (a + b) / 2 < end for a, b, _ in line.words)]
    return next(iter(spoken_languages(inside)), None)


def _rendering_inside(transcript: Transcript, start: float, end: float) -> str | None:
    """The English rendering of what is said in the span: the translated lines that lie mostly in
    it (a translated line need not start where a spoken one does)."""
    texts = [line.text for line in transcript.rendering
             if min(end, line.end) - max(start, line.start) > 0.5 * min(end - start, line.end - line.start)]
    return " ".join(texts).strip() or None


def _frames_of(times: list[float], start: float, end: float, most: int) -> list[int]:
    """Indexes of the kept frames shown in the span: at most ``most`` of them, evenly spaced
    (their embeddings are averaged, and a shot's frames are alike); when the span has none of
    its own, the last frame shown before it."""
    inside = [i for i, t in enumerate(times) if start <= t < end]
    if most and len(inside) > most:
        inside = [inside[round(j * (len(inside) - 1) / (most - 1))] for j in range(most)] \
            if most > 1 else [inside[len(inside) // 2]]
    if inside or not times:
        return inside
    before = [i for i, t in enumerate(times) if t < start]
    return [before[-1]] if before else [0]


def speech_text(transcript: str, screen_text: str | None) -> str:
    """What the speech space embeds for a segment: its words and, after them, the text on screen.

    The sentence model reads a few hundred tokens, so a slide's title and bullets join the words
    said over it, and a silent slide is found by meaning too. CLIP's text part (the fused vector)
    keeps the transcript alone: its 77 tokens would cut it short, and the frames already show the
    text to the image tower."""
    return " ".join(part for part in (transcript, screen_text) if part)


def embed_segments(decoded: Decoded, spans: list[tuple[float, float]], transcript: Transcript,
                   encoders: Encoders, settings: Settings, frames_per_segment: int | None = None,
                   known_speech: dict[str, np.ndarray] | None = None,
                   screen: list[str] | None = None,
                   frame_vectors: np.ndarray | None = None) -> tuple[list[NewSegment], dict]:
    """NewSegments with their vectors, and {space: (model id, dim)} for the catalog.

    ``known_speech``: sentence-model vectors already computed for some texts (not encoded again);
    ``screen``: the text on screen during each span; ``frame_vectors``: CLIP's vector of every
    kept frame, already computed (the frames were embedded as they were decoded)."""
    clip = encoders.clip
    most = settings.frames_per_segment if frames_per_segment is None else frames_per_segment
    models: dict[str, tuple[str, int]] = {}
    chosen = [_frames_of(decoded.frame_times, start, end, most) for start, end in spans]
    frame_vecs = {}
    if clip is not None and decoded.frame_times:
        needed = sorted({i for frames in chosen for i in frames})
        frame_vecs = {i: frame_vectors[i] for i in needed} if frame_vectors is not None else \
            dict(zip(needed, clip.encode_images([decoded.frames[i] for i in needed])))
        models["visual"] = models["fused"] = (clip.model_id, clip.dim)
    segments = []
    for n, ((start, end), frames) in enumerate(zip(spans, chosen)):
        seg = NewSegment(start=start, end=end, transcript=_words_inside(transcript, start, end),
                         frame_count=len(frames), screen_text=screen[n] if screen else "",
                         thumbnail_time=decoded.frame_times[frames[len(frames) // 2]] if frames else None)
        if seg.transcript:
            seg.language = _language_inside(transcript, start, end)
            if seg.language not in (None, "en") and transcript.rendering:
                seg.rendering = _rendering_inside(transcript, start, end)
        if frame_vecs and frames:
            seg.vectors["visual"] = pool(np.stack([frame_vecs[i] for i in frames]))
        segments.append(seg)
    said = [(speech_text(" ".join(filter(None, (s.rendering, s.transcript))), s.screen_text), s)
            for s in segments if s.transcript or s.screen_text]
    if said:
        texts = [text for text, _ in said]
        speech = encoders.sentence
        models["speech"] = (speech.model_id, speech.dim)
        vectors = dict(known_speech or {})
        missing = list(dict.fromkeys(t for t in texts if t not in vectors))
        if missing:
            vectors.update(zip(missing, speech.encode(missing)))
        for text, seg in said:
            seg.vectors["speech"] = vectors[text]
    spoken = [s for s in segments if s.transcript]
    if spoken and clip is not None:
        models["fused"] = models[SPOKEN] = (clip.model_id, clip.dim)
        for seg, vec in zip(spoken, clip.encode_texts([s.rendering or s.transcript for s in spoken])):
            seg.vectors[SPOKEN] = vec  # kept in the catalog: the fused space can be re-fused
    for seg in segments:
        fused = fuse(seg.vectors.get("visual"), seg.vectors.get(SPOKEN),
                     settings.visual_weight, settings.speech_weight)
        if fused is not None:
            seg.vectors["fused"] = fused
    return segments, models


CONTEXT_WEIGHT = 0.3  # share of each neighbouring sentence in a segment's speech vector
_CONTEXT_BORDER = 0.9  # ... when the cut between them is weaker than this (not a shot change)


def add_context(segments: list[NewSegment], weight: float = CONTEXT_WEIGHT) -> None:
    """Give each segment's speech vector a little of its neighbours' meaning (same scene, weak
    cut between): a question is often about the topic a sentence belongs to more than about the
    sentence, and one sentence alone says too little of it."""
    own = [seg.vectors.get("speech") for seg in segments]
    for i, seg in enumerate(segments):
        if own[i] is None or weight <= 0:
            continue
        mixed = own[i].astype(np.float32).copy()
        for j, edge in ((i - 1, seg.border), (i + 1, segments[i + 1].border if i + 1 < len(segments) else None)):
            if 0 <= j < len(segments) and own[j] is not None and edge is not None and edge < _CONTEXT_BORDER:
                mixed += weight * own[j]
        seg.vectors["speech"] = normalize(mixed)[0]


def query_vectors(decoded: Decoded, transcript: Transcript, encoders: Encoders,
                  settings: Settings) -> dict[str, np.ndarray]:
    """One vector per space for a whole query clip or image, built like a segment's."""
    end = max(decoded.info.duration, decoded.frame_times[-1] + 1e-3 if decoded.frame_times else 0.0, 1e-3)
    segments, _ = embed_segments(decoded, [(0.0, end)], transcript, encoders, settings,
                                 frames_per_segment=0)  # a query clip is one moment: use all it shows
    return {space: vec for space, vec in segments[0].vectors.items() if space != SPOKEN}
