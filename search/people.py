"""People across the archive: new face appearances clustered into people, incrementally.

Each appearance not yet in a person joins the person whose centre (the mean descriptor of its
appearances) lies nearest, when within ``match``; else it starts a person of its own. Only new
appearances move: what earlier runs clustered, and whatever users named, merged or split
(``core.people``), stays. A person keeps its centre when its appearances go (a video indexed
again deletes its old ones), so the new ones find it, and its name, again. Run at the end of
every index run that added videos, under the library's write lock, so two runs take turns
rather than create one person twice.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import select

from core.catalog import FaceAppearance, Person
from core.people import refresh_centres


def cluster_faces(library, match: float) -> int:
    """Put every appearance without a person into one; how many were placed."""
    with library.writing() as session:
        new = session.execute(select(FaceAppearance.id, FaceAppearance.descriptor)
                              .where(FaceAppearance.person_id.is_(None)).order_by(FaceAppearance.id)).all()
        if not new:
            return 0
        known = session.execute(select(Person.id, Person.centre).where(Person.centre.is_not(None))).all()
        people = [person_id for person_id, _ in known]
        centres = [np.frombuffer(blob, "<f4").astype(np.float64) for _, blob in known]
        weights = [1] * len(people)  # a stored centre counts as one appearance until refreshed
        touched = set()
        for appearance_id, blob in new:
            vector = np.frombuffer(blob, "<f4").astype(np.float64)
            gaps = np.linalg.norm(np.stack(centres) - vector, axis=1) if centres else np.zeros(0)
            if len(gaps) and gaps.min() < match:
                at = int(gaps.argmin())
                centres[at] = (centres[at] * weights[at] + vector) / (weights[at] + 1)
                weights[at] += 1
            else:
                person = Person()
                session.add(person)
                session.flush()
                at = len(people)
                people.append(person.id)
                centres.append(vector)
                weights.append(1)
            session.get(FaceAppearance, appearance_id).person_id = people[at]
            touched.add(people[at])
        session.flush()
        refresh_centres(session, touched)
        return len(new)
