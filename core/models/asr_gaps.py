"""Speech Whisper skipped, heard again.

Whisper decodes 30-s windows, and in a window it may write the end of text after a speaker's first
sentence: the rest of the window is then never decoded. In a short file that is everything after
the first sentence (seen on two-voice readings: the second speaker's words were lost), and the
voice-activity detector, which is never fooled that way, still says speech was there. So the voiced
stretches that no line covers (allowing for Whisper's timestamps, which drift) are given to the
model again, each on its own; what it hears there joins the transcript on the file's clock.

A line covers its words, not its whole span: Whisper may also stop writing in the middle of a
window and stretch the line's last word over the speech it skipped ("and" lasting six seconds, a
German "umfasst..." over an English speaker). No word lasts that long, so a word covers at most
``LONGEST_WORD`` from its start, and what it overhangs is heard again like any gap.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .vad import SAMPLE_RATE
from .whisper import AsrBackend, Transcript, spoken_languages

MIN_GAP = 1.0      # seconds of voiced, uncovered audio worth a second hearing
SLACK = 0.3        # a line covers this much more than its own times on either side
JOIN = 1.0         # uncovered voice this close together is heard as one stretch
PAD = 0.2          # seconds of context on either side of a stretch heard again
SAME_AUDIO = 0.9   # a stretch this much of the audio is what was just heard: not worth a repeat
LONGEST_WORD = 1.5  # seconds a word covers at most from its start


def uncovered(transcript: Transcript, seconds: float) -> list[tuple[float, float]]:
    """[(start, end)] stretches of voice (``transcript.voiced``) that none of its lines' words (a
    line without words: the line), nor its unheard stretches (speech in a language the model
    cannot hear), cover; each holds at least ``MIN_GAP`` seconds of voice."""
    spans = [(start, min(end, start + LONGEST_WORD)) if line.words else (start, end)
             for line in transcript.lines for start, end, _ in (line.words or [(line.start, line.end, "")])]
    covered = sorted([(start - SLACK, end + SLACK) for start, end in spans]
                     + [(a, b) for a, b, _ in transcript.unheard])
    pieces: list[tuple[float, float]] = []
    for start, end in transcript.voiced:
        for a, b in covered:
            if b <= start or a >= end:
                continue
            if a > start:
                pieces.append((start, a))
            start = max(start, b)
            if start >= end:
                break
        if end > start:
            pieces.append((start, end))
    stretches: list[list[float]] = []  # [start, end, seconds of voice]
    for a, b in pieces:
        if stretches and a - stretches[-1][1] < JOIN:
            stretches[-1][1:] = [b, stretches[-1][2] + b - a]
        else:
            stretches.append([a, b, b - a])
    return [(max(0.0, a - PAD), min(seconds, b + PAD)) for a, b, voice in stretches
            if voice >= MIN_GAP and b - a < SAME_AUDIO * seconds]


def hear_gaps(asr: AsrBackend, audio: np.ndarray, transcript: Transcript) -> Transcript:
    """``transcript`` of ``audio`` with what ``asr`` hears in its uncovered voiced stretches."""
    gaps = uncovered(transcript, len(audio) / SAMPLE_RATE)
    if not gaps:
        return transcript
    parts = [transcript] + [asr.transcribe(audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]).later(start)
                            for start, end in gaps]
    lines = sorted((line for part in parts for line in part.lines), key=lambda line: line.start)
    rendering = sorted((line for part in parts for line in part.rendering), key=lambda line: line.start)
    return dataclasses.replace(transcript, lines=lines, rendering=rendering,
                               unheard=sorted(u for part in parts for u in part.unheard),
                               language=next(iter(spoken_languages(lines)), transcript.language))
