"""Search by voice: the moments where the voice in a recording speaks, one per turn.

The recording's speech (where the voice-activity detector hears it) is read as indexing reads
voices (``core.models.voices``) into one speaker vector. Every video speaker of the archive whose
vector lies within ``voice_match`` (cosine distance) of it is that voice, and each of its turns is
a moment, nearest speaker first, then by time. Nothing farther away is returned, so a stranger's
voice finds nothing. A moment is the turn's span, attached to the segment playing when it starts.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import InvalidInput
from core.models.vad import SAMPLE_RATE, voiced_spans
from core.voices import VoiceStore
from .filters import Filters, allowed
from .rank import Moment


def recording_voice(encoder, audio: np.ndarray | None, path: Path) -> np.ndarray:
    """The speaker vector of the speech in ``audio`` (decoded from ``path``); ``InvalidInput``
    when it holds no speech, or too little to tell a voice by (half a second)."""
    spans = voiced_spans(audio) if audio is not None else []
    speech = np.concatenate([audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)] for a, b in spans]) if spans else None
    vector = encoder.embed(speech) if speech is not None else None
    if vector is None:
        raise InvalidInput(f"{path}: no speech found in this recording" if not spans else
                           f"{path}: under half a second of speech; a voice needs more to be told")
    return vector


def moments_with_voice(library, vector: np.ndarray, max_distance: float, k: int,
                       filters: Filters | None = None) -> list[Moment]:
    """The turns of the voice ``vector`` describes, nearest speaker first, at most ``k``."""
    video_ids = None
    if filters is not None and filters.active:
        with library.sessions() as session:
            video_ids = allowed(session, filters).videos
    found = [(1.0 - float(speaker_vector @ vector), video, turns, voice, label)
             for _, video, turns, speaker_vector, voice, label in VoiceStore(library).heard(video_ids)]
    found = sorted((row for row in found if row[0] <= max_distance), key=lambda row: row[0])
    moments = []
    for gap, video, turns, voice, label in found:
        for start, end in turns:
            if len(moments) == k:
                return moments
            segment_id = library.segment_at(video, start)
            row = library.moment_rows([segment_id]).get(segment_id) if segment_id is not None else None
            if row is None:
                continue
            moments.append(Moment(row.video_path, video, segment_id, float(start), float(end), 1.0 - gap,
                                  row.transcript, [segment_id], screen_text=row.screen_text or "",
                                  language=row.language, voice={"id": voice, "name": label}))
    return moments
