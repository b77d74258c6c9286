"""Who speaks when in one file: speaker turns from the voiced stretches, a speaker vector every
0.8 s, and clustering.

The voice-activity detector already gives the stretches with speech (``Transcript.voiced``). Each
stretch is read 1.6 s at a time every ``HOP`` seconds (a stretch shorter than a read is one read,
padded) and every read gets a speaker vector (``core.models.voices``). Reads are grouped by
average-linkage clustering on cosine distance, cut at ``threshold``: the number of speakers is not
known beforehand. A group heard for under ``MIN_SPEAKER_SECONDS`` in all is too little to be a
voice of its own (a cough, a laugh, a read across two voices) and joins the nearest group. Every
10-ms frame of speech then takes the group of the read whose centre is nearest within its
stretch, and runs of one group are the turns (a voice's pause under ``PAUSE`` stays inside its
turn). Speakers are numbered in order of first turn.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from core.rows import SpeakerHeard
from core.vectors import normalize
from core.models.voices import PARTIAL_FRAMES, VoiceEncoder, louder, mel_frames

HOP = 0.8  # seconds between reads
MIN_SPEAKER_SECONDS = 2.0
PAUSE = 1.0  # a speaker's pause shorter than this stays inside the turn
MIN_TURN = 0.5  # a turn shorter than this is taken by its neighbour
MIN_STRETCH = 0.3  # voiced stretches shorter than this are too short to read (they join a neighbour)
THRESHOLD = 0.35  # cosine distance at which two groups of reads are two voices
_FRAME = 0.01


@dataclasses.dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int


@dataclasses.dataclass
class Diarized:
    """A file's turns and one unit vector per speaker (index = ``Turn.speaker``), with the
    seconds each speaks."""

    turns: list[Turn]
    vectors: np.ndarray
    seconds: list[float]

    def heard(self) -> list[SpeakerHeard]:
        """The speakers as the catalog keeps them."""
        return [SpeakerHeard(number, [(t.start, t.end) for t in self.turns if t.speaker == number], vector, seconds)
                for number, (vector, seconds) in enumerate(zip(self.vectors, self.seconds))]


NOBODY = Diarized([], np.zeros((0, 256), np.float32), [])


def _reads(voiced: list[tuple[float, float]], frames: int) -> list[tuple[int, int, int]]:
    """(stretch index, first frame, end frame) of every read: every ``HOP`` within each stretch,
    the last one ending at the stretch's end."""
    step = int(round(HOP / _FRAME))
    reads = []
    for index, (start, end) in enumerate(voiced):
        first, last = int(start / _FRAME), min(frames, int(round(end / _FRAME)))
        if last - first < MIN_STRETCH / _FRAME:
            continue
        begins = list(range(first, max(first + 1, last - PARTIAL_FRAMES + 1), step))
        if last - PARTIAL_FRAMES > begins[-1]:
            begins.append(last - PARTIAL_FRAMES)
        reads += [(index, b, min(b + PARTIAL_FRAMES, last)) for b in begins]
    return reads


def _groups(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """A group number per vector: average linkage on cosine distance, cut at ``threshold``."""
    if len(vectors) == 1:
        return np.zeros(1, np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(vectors.astype(np.float64), method="average", metric="cosine")
    return fcluster(tree, t=threshold, criterion="distance") - 1


def _centres(vectors: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    centres = {}
    for label in np.unique(labels):
        centres[int(label)] = normalize(vectors[labels == label].mean(axis=0))[0]
    return centres


def _absorb_small(vectors: np.ndarray, labels: np.ndarray, reads: list) -> np.ndarray:
    """Groups heard for under ``MIN_SPEAKER_SECONDS`` join the nearest larger group, smallest
    first. Each group's seconds and vector sum are counted once and carried along as groups
    join, so a long file with many small groups costs one comparison of centres a join."""
    labels = labels.copy()
    seconds = np.array([min(HOP, (e - b) * _FRAME) for _, b, e in reads])
    heard = np.bincount(labels, weights=seconds)
    sums = np.zeros((len(heard), vectors.shape[1]))
    np.add.at(sums, labels, vectors)
    centres = normalize(sums)
    live = np.unique(labels)
    while len(live) > 1:
        small = live[int(np.argmin(heard[live]))]
        if heard[small] >= MIN_SPEAKER_SECONDS:
            break
        live = live[live != small]
        into = live[int(np.argmax(centres[live] @ centres[small]))]
        labels[labels == small] = into
        heard[into] += heard[small]
        sums[into] += sums[small]
        centres[into] = normalize(sums[into])[0]
    return labels


def diarize(audio: np.ndarray | None, voiced: list[tuple[float, float]], encoder: VoiceEncoder,
            threshold: float = THRESHOLD) -> Diarized:
    """Speaker turns over ``voiced`` (seconds) of 16-kHz ``audio``."""
    if audio is None or not voiced:
        return NOBODY
    mels = mel_frames(louder(audio))
    reads = _reads(voiced, len(mels))
    if not reads:
        return NOBODY
    batch = np.zeros((len(reads), PARTIAL_FRAMES, mels.shape[1]), np.float32)
    for row, (_, begin, end) in enumerate(reads):
        batch[row, :end - begin] = mels[begin:end]
    vectors = encoder.embed_partials(batch)
    labels = _absorb_small(vectors, _groups(vectors, threshold), reads)
    return _turns(voiced, reads, labels, vectors)


def _without_blips(turns: list[Turn]) -> list[Turn]:
    """Turns shorter than ``MIN_TURN`` (the edge of a stretch read with its neighbour's voice) go
    to the turn right before them (within ``PAUSE``), else right after; turns of one voice that
    then meet are joined."""
    kept: list[Turn] = []
    for i, turn in enumerate(turns):
        if turn.end - turn.start < MIN_TURN:
            if kept and turn.start - kept[-1].end < PAUSE:
                kept[-1] = Turn(kept[-1].start, turn.end, kept[-1].speaker)
                continue
            after = turns[i + 1] if i + 1 < len(turns) else None
            if after is not None and after.start - turn.end < PAUSE:
                turns[i + 1] = Turn(turn.start, after.end, after.speaker)
                continue
        if kept and kept[-1].speaker == turn.speaker and turn.start - kept[-1].end < PAUSE:
            kept[-1] = Turn(kept[-1].start, turn.end, turn.speaker)
        else:
            kept.append(turn)
    return kept


def _turns(voiced, reads, labels, vectors) -> Diarized:
    """Every frame of a stretch takes the group of its nearest read (a stretch without a read of
    its own takes its nearest stretch's); runs of one group are turns, numbered by first turn."""
    centres = np.array([(b + e) / 2 for _, b, e in reads])
    by_stretch: dict[int, list[int]] = {}
    for row, read in enumerate(reads):
        by_stretch.setdefault(read[0], []).append(row)
    frames_of = []
    for index, (start, end) in enumerate(voiced):
        frames = np.arange(int(start / _FRAME), max(int(start / _FRAME) + 1, int(round(end / _FRAME))))
        own = by_stretch.get(index, [])
        candidates = np.array(own) if own else np.arange(len(reads))
        nearest = candidates[np.abs(centres[candidates][None, :] - frames[:, None]).argmin(axis=1)]
        frames_of.append((frames, labels[nearest]))
    order: dict[int, int] = {}
    turns: list[Turn] = []
    for frames, frame_labels in frames_of:
        cuts = np.flatnonzero(np.diff(frame_labels)) + 1
        for run in np.split(np.arange(len(frames)), cuts):
            speaker = order.setdefault(int(frame_labels[run[0]]), len(order))
            start, end = round(frames[run[0]] * _FRAME, 2), round((frames[run[-1]] + 1) * _FRAME, 2)
            if turns and turns[-1].speaker == speaker and start - turns[-1].end < PAUSE:
                turns[-1] = Turn(turns[-1].start, end, speaker)  # the same voice after a short pause
            else:
                turns.append(Turn(start, end, speaker))
    turns = _without_blips(turns)
    centres_by_label = _centres(vectors, labels)
    speakers = sorted(order, key=order.get)
    seconds = [0.0] * len(speakers)
    for turn in turns:
        seconds[turn.speaker] += turn.end - turn.start
    return Diarized(turns, np.stack([centres_by_label[label] for label in speakers]).astype(np.float32),
                    [round(s, 2) for s in seconds])
