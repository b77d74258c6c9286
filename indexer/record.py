"""From a decoded, transcribed file to the catalog record: segment, embed, assemble.

The step between the workers (decode + ASR) and the writer, shared by the local pipeline and the
Ray actors, so both produce exactly the same rows and vectors.
"""
from __future__ import annotations

import os
import time

from core.encoders import Encoders
from core.library import NewVideo
from core.models.faces import FACE_MODEL_ID
from core.models.sentence import same_topic
from core.rows import SpokenLine
from core.settings import Settings

from .chapters import CHAPTERS_VERSION, Part, video_chapters
from .embed import add_context, embed_segments
from .segment import make_segments, signature, topic_change
from .sentences import sentences_of
from .prepare import Prepared
from .screen import screen_rows, screen_spans, screen_text_during
from .subtitle_sources import signature as sidecar_signature


class NothingToIndex(RuntimeError):
    pass


def file_stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError:
        return os.stat_result((0,) * 10)


def segmentation_of(settings: Settings) -> str:
    """The signature of how these settings cut a file (stored with it, compared by the planner)."""
    return signature(settings.segment_min, settings.segment_max, settings.shot_threshold)


def make_record(prepared: Prepared, digest: str, encoders: Encoders, settings: Settings,
                naive: bool = False, frame_vectors=None) -> NewVideo:
    """Segments and vectors of one file as a ``NewVideo``; its ``timings`` include ``embed``.
    ``frame_vectors``: CLIP's vectors of the kept frames, when they were embedded as decoded."""
    started = time.perf_counter()
    decoded, transcript = prepared.decoded, prepared.transcript
    said = sentences_of(transcript.lines, transcript.voiced)
    # Sentence vectors serve twice: topic changes between neighbours, and the speech vector of
    # every segment that is one sentence (most are), which is then not encoded again.
    known = dict(zip((s.text for s in said), encoders.sentence.encode([s.text for s in said]))) if said else {}
    change = topic_change([known[s.text] for s in said], same_topic(encoders.sentence.model_id)) \
        if len(said) > 1 else None
    cut = make_segments(decoded.info.duration, decoded.cuts, settings.segment_min, settings.segment_max,
                        said, change)
    shown = screen_spans(prepared.screen, decoded.info.duration)
    screen = [screen_text_during(shown, a, b) for a, b, _ in cut] if shown else None
    segments, models = embed_segments(decoded, [(a, b) for a, b, _ in cut], transcript, encoders, settings,
                                      frames_per_segment=0 if naive else None, known_speech=known,
                                      screen=screen, frame_vectors=frame_vectors)
    for segment, (_, _, border) in zip(segments, cut):
        segment.border = border
    if not naive:
        add_context(segments)
    if not any(seg.vectors for seg in segments):
        unheard = transcript.unheard_note()
        raise NothingToIndex(f"nothing to index: no frames could be embedded (visual search is off) and "
                             f"{unheard if unheard else 'no speech was found'}")
    embedded = time.perf_counter()
    lines_shown = screen_rows(shown)
    parts = [Part(seg.start, seg.end, seg.transcript, seg.vectors.get("speech"), seg.border or 0.0)
             for seg in segments]  # speech vectors with their neighbours' context, as stored
    chapters, summary = video_chapters(parts, lines_shown, decoded.info.duration, decoded.info.chapters,
                                       encoders.sentence.encode)
    stat, info = file_stat(prepared.path), decoded.info
    timings = {**prepared.timings, "embed": embedded - started, "chapters": time.perf_counter() - embedded}
    return NewVideo(
        path=prepared.path, size=stat.st_size, mtime=stat.st_mtime, duration=info.duration,
        fps=info.fps, width=info.width, height=info.height, rotation=info.rotation,
        video_codec=info.video_codec, audio_codec=info.audio_codec, has_audio=info.has_audio,
        language=transcript.language, timings={**decoded.stats, **timings}, fingerprint=digest,
        recorded_at=info.recorded_at, asr_model=transcript.model,
        transcript_source=transcript.source or ("asr" if transcript.lines else None),
        subtitle_note=transcript.note, sidecars=sidecar_signature(prepared.path),
        screen_note=prepared.screen_note, screen_model=prepared.screen_model,
        screen=lines_shown,
        copies=decoded.copies.stored() if decoded.copies is not None else None,
        faces=decoded.faces or [], face_model=FACE_MODEL_ID if decoded.faces is not None else None,
        speakers=prepared.speakers.heard() if prepared.speakers is not None else [],
        chapters=chapters, summary=summary, chapters_version=CHAPTERS_VERSION,
        voice_model=prepared.voice_model,
        segmentation=segmentation_of(settings),
        segments=segments, models=models,
        fusion=(settings.visual_weight, settings.speech_weight) if "fused" in models else None,
        transcript=[SpokenLine(l.start, l.end, l.text, [list(w) for w in l.words], l.language)
                    for l in transcript.lines],
        languages=transcript.languages() or None, speech_note=transcript.unheard_note(),
    )

