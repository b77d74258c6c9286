"""Lines and descriptors of a video as the catalog keeps them, as named rows that the indexer
builds and the library writes. Light to import (no index, no database): the decoder's worker processes, which
read on-screen text, import them without FAISS."""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import numpy as np


class SpokenLine(NamedTuple):
    """One line of a video's transcript as the catalog keeps it."""

    start: float
    end: float
    text: str
    words: list  # [[start, end, word], ...]
    language: str | None = None


class CopyHashes(NamedTuple):
    """A video's copy descriptors as the indexer takes them: one perceptual hash (uint64) per
    sampled instant (seconds) and view (an instant's time repeats for each), ``rate`` instants a
    second, by the hash ``method`` named, and the hashes of the same views mirrored when the
    method takes them; and the sound's landmarks (``search.copies.sound``: times and uint32
    values; empty without sound, None when not taken)."""

    method: str
    rate: float
    times: np.ndarray
    hashes: np.ndarray
    mirrored: np.ndarray | None = None
    sound_times: np.ndarray | None = None
    sound_hashes: np.ndarray | None = None


class FaceSeen(NamedTuple):
    """One face followed through a video (an appearance): from the first frame it was found in
    to the first frame looked at without it; where it stood (x0, y0, x1, y1 as shares of the
    frame), its descriptor (the mean of its sightings') and a still of its largest sighting (JPEG)."""

    start: float
    end: float
    box: list
    descriptor: np.ndarray
    still: bytes | None
    sightings: int


class ShownLine(NamedTuple):
    """One line of a video's on-screen text as the catalog keeps it: when it was shown, what it
    said, how sure the reader was, and where it stood (x0, y0, x1, y1 in the frame)."""

    start: float
    end: float
    text: str
    score: float
    box: list


class SpeakerHeard(NamedTuple):
    """One voice of a video as diarization found it: its number there (0 first heard), its turns
    [(start, end)], its unit speaker vector and the seconds it speaks."""

    number: int
    turns: list
    vector: np.ndarray
    seconds: float


class ChapterMark(NamedTuple):
    """One chapter of a video: [start, end) in seconds, its title, and where it comes from
    (``computed`` by vidsearch, or ``file``: the file's own chapter marks)."""

    start: float
    end: float
    title: str
    source: str
