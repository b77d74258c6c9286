"""Voices in the catalog: which archive-wide voice each video's speaker is, and what it is called.

A video's speakers (``indexer.voices``) join voices as they are written: a speaker whose vector
lies within ``voice_match`` (cosine distance) of a voice's centre is that voice (the nearest
one), and the centre moves to the time-weighted mean; otherwise it starts a new voice. After faces
are clustered into people, a voice heard mostly while one person's face alone is on screen is
linked to that person (``link_people``). A voice is shown by its name, else by the name of the
person it is linked to, else as "Speaker N" (N is the voice's id, so the label is stable across
videos and runs). Voices are personal data:
``forget`` deletes a voice with its speakers' vectors and turns.
"""
from __future__ import annotations

from bisect import bisect_left
from typing import NamedTuple

import numpy as np
from sqlalchemy import delete, func, select

from .catalog import FaceAppearance, Person, Speaker, Video, Voice
from .errors import InvalidInput, NotFound
from .subtitles import Cue
from .vectors import normalize


_NO_SPACES = ("zh", "ja", "th", "lo", "my", "km")  # languages written without spaces between words


class VoiceRow(NamedTuple):
    id: int
    name: str | None
    person: dict | None  # {"id", "name"} of the person seen while it speaks, when linked
    videos: int
    seconds: float

    def label(self) -> str:
        return voice_label(self.id, self.name, (self.person or {}).get("name"))


def voice_label(voice_id: int, name: str | None, person_name: str | None) -> str:
    return name or person_name or f"Speaker {voice_id}"


def assign_voices(session, speakers: list[Speaker], max_distance: float) -> None:
    """Put each of a video's new ``speakers`` into the nearest voice within ``max_distance``, or a
    new voice. Two speakers of one video are never put in one voice (diarization already told
    them apart): the second finds the next nearest or starts its own."""
    voices = session.scalars(select(Voice).order_by(Voice.id)).all()
    taken: set[int] = set()
    for speaker in sorted(speakers, key=lambda s: -s.seconds):
        vector = np.frombuffer(speaker.vector, "<f4")
        best, best_distance = None, max_distance
        for voice in voices:
            gap = 1.0 - float(np.frombuffer(voice.centre, "<f4") @ vector)
            if voice.id not in taken and gap <= best_distance:
                best, best_distance = voice, gap
        if best is None:
            best = Voice(centre=normalize(vector)[0].astype("<f4").tobytes(), seconds=speaker.seconds)
            session.add(best)
            session.flush()
            voices.append(best)
        else:
            total = best.seconds + speaker.seconds
            mean = (np.frombuffer(best.centre, "<f4") * best.seconds + vector * speaker.seconds) / max(total, 1e-9)
            best.centre, best.seconds = normalize(mean)[0].astype("<f4").tobytes(), total
        speaker.voice_id = best.id
        taken.add(best.id)


class SpokenBy:
    """Who speaks when in one video (``VoiceStore.speakers_of``), looked up by time. A transcript
    asks once per word, so a lookup reads only the turns that can reach its span (turns sorted by
    start; none reaches back further than the longest), not every turn of the video."""

    def __init__(self, speakers: dict[int, tuple[int | None, str, list]]):
        self._labels = {number: label for number, (_, label, _) in speakers.items()}
        self._turns = sorted((float(a), float(b), number) for number, (_, _, turns) in speakers.items()
                             for a, b in turns)
        self._starts = [turn[0] for turn in self._turns]
        self._longest = max((b - a for a, b, _ in self._turns), default=0.0)

    def __bool__(self) -> bool:
        return bool(self._labels)

    def at(self, start: float, end: float) -> str | None:
        """The label of the speaker heard longest between ``start`` and ``end``, or None."""
        heard: dict[int, float] = {}
        lo, hi = bisect_left(self._starts, start - self._longest), bisect_left(self._starts, end)
        for a, b, number in self._turns[lo:hi]:
            overlap = min(end, b) - max(start, a)
            if overlap > 0:
                heard[number] = heard.get(number, 0.0) + overlap
        return self._labels[max(sorted(heard), key=heard.get)] if heard else None


def said_by(lines, speakers: dict[int, tuple[int | None, str, list]]) -> list[Cue]:
    """Transcript ``lines`` (start, end, text, words, language) as cues with who speaks them. A
    line in which the voice changes (Whisper does not end lines at a change of speaker) is cut
    where it changes, by its words' times."""
    spoken = SpokenBy(speakers)
    cues = []
    for start, end, text, words, language in lines:
        labels = [spoken.at(a, max(b, a + 0.01)) for a, b, _ in words or []] if spoken else []
        for i in range(1, len(labels)):  # a word no turn covers belongs to the voice before it,
            labels[i] = labels[i] or labels[i - 1]
        for i in range(len(labels) - 2, -1, -1):  # or, at the line's start, to the voice after it
            labels[i] = labels[i] or labels[i + 1]
        runs = _runs(labels)
        if len(runs) <= 1:
            cues.append(Cue(start, end, text, spoken.at(start, end)))
            continue
        glue = "" if language in _NO_SPACES else " "
        for first, last in runs:
            cues.append(Cue(words[first][0] if first else start, end if last == len(words) - 1 else words[last][1],
                            glue.join(w[2] for w in words[first:last + 1]), labels[first]))
    return cues


def _runs(labels: list) -> list[tuple[int, int]]:
    """(first, last) index of every run of equal labels."""
    runs = []
    for i, label in enumerate(labels):
        if runs and labels[runs[-1][0]] == label:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


SEEN_WHILE_SPEAKING = 0.6  # share of a voice's time with one face on screen that must be one person's


def link_people(library) -> int:
    """Link voices that have no person yet to the person seen while they speak: where, during a
    voice's turns, exactly one face appearance is on screen, and that face is one person's for at
    least ``SEEN_WHILE_SPEAKING`` of the voice's time heard. Returns how many voices were linked."""
    linked = 0
    with library.writing() as session:
        unlinked = {v for v in session.scalars(select(Voice.id).where(Voice.person_id.is_(None)))}
        speakers = session.execute(select(Speaker.voice_id, Speaker.video_id, Speaker.turns)
                                   .where(Speaker.voice_id.in_(unlinked))).all() if unlinked else []
        faces: dict[int, list] = {}
        for video_id, start, end, person in session.execute(
                select(FaceAppearance.video_id, FaceAppearance.start, FaceAppearance.end, FaceAppearance.person_id)
                .where(FaceAppearance.video_id.in_({v for _, v, _ in speakers}))):
            faces.setdefault(video_id, []).append((start, end, person))
        seen: dict[int, dict[int, float]] = {}
        heard: dict[int, float] = {}
        for voice, video_id, turns in speakers:
            for a, b in turns:
                heard[voice] = heard.get(voice, 0.0) + (b - a)
                people = seen.setdefault(voice, {})
                for person, seconds in _alone_on_screen(faces.get(video_id, []), a, b).items():
                    people[person] = people.get(person, 0.0) + seconds
        for voice, people in seen.items():
            person, seconds = max(people.items(), key=lambda item: item[1], default=(None, 0.0))
            if person is not None and seconds >= SEEN_WHILE_SPEAKING * heard[voice]:
                session.get(Voice, voice).person_id = person
                linked += 1
    return linked


def _alone_on_screen(faces: list, start: float, end: float) -> dict[int, float]:
    """{person: seconds} between ``start`` and ``end`` during which that person's face is the only
    face on screen."""
    cuts = sorted({start, end, *(t for a, b, _ in faces for t in (a, b) if start < t < end)})
    alone: dict[int, float] = {}
    for a, b in zip(cuts, cuts[1:]):
        middle = (a + b) / 2
        showing = [person for s, e, person in faces if s <= middle < e]
        if len(showing) == 1 and showing[0] is not None:
            alone[showing[0]] = alone.get(showing[0], 0.0) + (b - a)
    return alone


class VoiceStore:
    """Reads and writes of ``voices`` and of the speakers' ``voice_id``."""

    def __init__(self, library):
        self.library = library

    def list(self) -> list[VoiceRow]:
        """Every voice heard in indexed videos, most heard first."""
        with self.library.sessions() as session:
            rows = session.execute(
                select(Voice.id, Voice.name, Person.id, Person.name, func.count(func.distinct(Speaker.video_id)),
                       func.sum(Speaker.seconds))
                .join(Speaker, Speaker.voice_id == Voice.id).join(Video, Speaker.video_id == Video.id)
                .outerjoin(Person, Voice.person_id == Person.id).where(Video.status == "indexed")
                .group_by(Voice.id, Voice.name, Person.id, Person.name)).all()
        out = [VoiceRow(v, name, {"id": p, "name": pname} if p is not None else None, int(videos), round(float(s), 1))
               for v, name, p, pname, videos, s in rows]
        return sorted(out, key=lambda row: (-row.seconds, row.id))

    def resolve(self, key: str | int) -> int:
        """A voice by id, or by exactly one name."""
        with self.library.sessions() as session:
            if str(key).isdigit():
                if session.get(Voice, int(key)) is None:
                    raise NotFound(f"no voice {key}")
                return int(key)
            found = session.scalars(select(Voice.id).where(func.lower(Voice.name) == str(key).lower())).all()
        if not found:
            raise NotFound(f"no voice named {key!r} (vidsearch voices lists them)")
        if len(found) > 1:
            raise InvalidInput(f"{len(found)} voices are named {key!r}; use an id: {', '.join(map(str, found))}")
        return found[0]

    def name(self, voice_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise InvalidInput("a voice's name cannot be empty")
        with self.library.writing() as session:
            voice = session.get(Voice, voice_id)
            if voice is None:
                raise NotFound(f"no voice {voice_id}")
            voice.name = name[:200]

    def forget(self, voice_id: int) -> int:
        """Delete a voice, its speakers' vectors and turns; returns how many speakers went."""
        with self.library.writing() as session:
            if session.get(Voice, voice_id) is None:
                raise NotFound(f"no voice {voice_id}")
            gone = session.execute(delete(Speaker).where(Speaker.voice_id == voice_id)).rowcount
            session.execute(delete(Voice).where(Voice.id == voice_id))
        return int(gone or 0)

    def heard(self, video_ids=None) -> list[tuple[int, int, list, np.ndarray, int | None, str]]:
        """[(speaker id, video id, turns, unit vector, voice id, label)] of indexed videos (of
        ``video_ids`` only, when given)."""
        query = (select(Speaker.id, Speaker.video_id, Speaker.turns, Speaker.vector, Voice.id, Voice.name, Person.name)
                 .join(Video, Speaker.video_id == Video.id).outerjoin(Voice, Speaker.voice_id == Voice.id)
                 .outerjoin(Person, Voice.person_id == Person.id).where(Video.status == "indexed").order_by(Speaker.id))
        if video_ids is not None:
            query = query.where(Speaker.video_id.in_(sorted({int(v) for v in video_ids})))
        with self.library.sessions() as session:
            rows = session.execute(query).all()
        return [(sid, vid, turns, np.frombuffer(blob, "<f4"), voice,
                 voice_label(voice, name, pname) if voice is not None else "Speaker")
                for sid, vid, turns, blob, voice, name, pname in rows]

    def speakers_of(self, video_id: int) -> dict[int, tuple[int | None, str, list]]:
        """{speaker number: (voice id, label, turns)} of one video."""
        with self.library.sessions() as session:
            rows = session.execute(
                select(Speaker.number, Speaker.turns, Voice.id, Voice.name, Person.name)
                .outerjoin(Voice, Speaker.voice_id == Voice.id).outerjoin(Person, Voice.person_id == Person.id)
                .where(Speaker.video_id == video_id)).all()
        return {number: (voice, voice_label(voice, name, pname) if voice is not None else f"Speaker {number + 1}",
                         turns) for number, turns, voice, name, pname in rows}
