"""People in the catalog: who the face appearances belong to, and what users said of them.

Clustering (``search.people``) puts each new appearance into a person; users name people,
merge two that are one, split an appearance off into a person of its own, or forget a person
(its appearances' descriptors and stills are deleted: faces are personal data). An appearance a
user placed is *pinned*, and clustering never moves it; names stay with their person. Every
write goes through the library's write lock, so two index runs clustering at once take turns.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sqlalchemy import delete, func, select, update

from .catalog import FaceAppearance, Person, Video
from .errors import InvalidInput, NotFound


class PersonRow(NamedTuple):
    id: int
    name: str | None
    appearances: int
    videos: int
    still_appearance: int | None  # the appearance whose still shows this person best (most sightings)

    def label(self) -> str:
        return self.name or f"Person {self.id}"


class PeopleStore:
    """Reads and writes of ``people`` and of the appearances' ``person_id``."""

    def __init__(self, library):
        self.library = library

    def list(self) -> list[PersonRow]:
        """Every person with appearances in indexed videos, most appearances first."""
        with self.library.sessions() as session:
            counts = session.execute(
                select(FaceAppearance.person_id, func.count(), func.count(func.distinct(FaceAppearance.video_id)))
                .join(Video).where(FaceAppearance.person_id.is_not(None), Video.status == "indexed")
                .group_by(FaceAppearance.person_id)).all()
            names = dict(session.execute(select(Person.id, Person.name)).all())
            best = {}
            for person_id, appearance_id, _ in session.execute(
                    select(FaceAppearance.person_id, FaceAppearance.id, FaceAppearance.sightings)
                    .where(FaceAppearance.person_id.is_not(None), FaceAppearance.still.is_not(None))
                    .order_by(FaceAppearance.sightings, FaceAppearance.id.desc())):
                best[person_id] = appearance_id  # ascending: the last one written has the most sightings
        rows = [PersonRow(pid, names.get(pid), n, videos, best.get(pid)) for pid, n, videos in counts]
        return sorted(rows, key=lambda r: (-r.appearances, r.id))

    def resolve(self, name_or_id: str | int) -> int:
        """A person's id from its id or its name (NotFound; InvalidInput when a name is ambiguous)."""
        text = str(name_or_id).strip()
        with self.library.sessions() as session:
            if text.isdigit() and session.get(Person, int(text)) is not None:
                return int(text)
            found = list(session.scalars(select(Person.id).where(func.lower(Person.name) == text.lower())))
        if len(found) > 1:
            raise InvalidInput(f"{len(found)} people are named {text!r} (ids {', '.join(map(str, found))}): use an id")
        if not found:
            raise NotFound(f"there is no person {text!r} (vidsearch people lists them)")
        return found[0]

    def name(self, person_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise InvalidInput("a person's name cannot be empty")
        with self.library.writing() as session:
            self._person(session, person_id).name = name[:200]

    def merge(self, keep: int, other: int) -> None:
        """``other``'s appearances become ``keep``'s (pinned: a user said they are one); ``keep``
        takes ``other``'s name if it has none."""
        if keep == other:
            raise InvalidInput("merging a person with itself changes nothing")
        with self.library.writing() as session:
            kept, gone = self._person(session, keep), self._person(session, other)
            session.execute(update(FaceAppearance).where(FaceAppearance.person_id == other)
                            .values(person_id=keep, pinned=True))
            session.execute(update(FaceAppearance).where(FaceAppearance.person_id == keep).values(pinned=True))
            kept.name = kept.name or gone.name
            session.delete(gone)
            session.flush()
            refresh_centres(session, [keep])

    def split(self, person_id: int, appearance_id: int) -> int:
        """Move one appearance of ``person_id`` to a new person of its own (pinned); its id."""
        with self.library.writing() as session:
            self._person(session, person_id)
            appearance = session.get(FaceAppearance, appearance_id)
            if appearance is None or appearance.person_id != person_id:
                raise NotFound(f"person {person_id} has no appearance {appearance_id}")
            alone = Person()
            session.add(alone)
            session.flush()
            appearance.person_id, appearance.pinned = alone.id, True
            session.flush()
            refresh_centres(session, [person_id, alone.id])
            return alone.id

    def forget(self, person_id: int) -> int:
        """Delete a person and its appearances (descriptors and stills); how many appearances went."""
        with self.library.writing() as session:
            self._person(session, person_id)
            gone = session.execute(delete(FaceAppearance).where(FaceAppearance.person_id == person_id)).rowcount
            session.execute(delete(Person).where(Person.id == person_id))
            return gone

    def still(self, appearance_id: int) -> bytes | None:
        with self.library.sessions() as session:
            return session.scalar(select(FaceAppearance.still).where(FaceAppearance.id == appearance_id))

    def of_appearances(self, ids) -> dict[int, tuple[int, str | None]]:
        """appearance id -> (person id, name) for those that belong to someone."""
        ids = sorted({int(i) for i in ids})
        if not ids:
            return {}
        with self.library.sessions() as session:
            rows = session.execute(select(FaceAppearance.id, Person.id, Person.name)
                                   .join(Person, FaceAppearance.person_id == Person.id)
                                   .where(FaceAppearance.id.in_(ids)))
            return {a: (p, name) for a, p, name in rows}

    @staticmethod
    def _person(session, person_id: int) -> Person:
        person = session.get(Person, int(person_id))
        if person is None:
            raise NotFound(f"there is no person {person_id} (vidsearch people lists them)")
        return person


def refresh_centres(session, person_ids) -> None:
    """Set each person's centre to the mean descriptor of its appearances (kept as it was when
    it has none)."""
    for person_id in set(person_ids):
        blobs = list(session.scalars(select(FaceAppearance.descriptor).where(FaceAppearance.person_id == person_id)))
        if blobs:
            centre = np.mean([np.frombuffer(b, "<f4") for b in blobs], axis=0).astype("<f4")
            session.get(Person, person_id).centre = centre.tobytes()
