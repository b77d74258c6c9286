"""Search by face: the moments where the person in a photo appears, one per appearance.

A photo's face is described as indexing describes faces (``core.models.faces``); every face
appearance of the archive whose descriptor lies within ``face_match`` of it is a hit, nearest
first. Nothing farther away is returned, so a stranger's photo finds nothing rather than the
nearest stranger. A moment is the appearance's span, attached to the segment playing when it
starts (its transcript, its id).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import InvalidInput
from core.models.faces import distance
from core.people import PeopleStore
from .filters import Filters, allowed
from .rank import Moment


def photo_face(model, path: Path) -> tuple[np.ndarray, str | None]:
    """The descriptor of the face in the image at ``path``, and a note when it held several (the
    largest is used); ``InvalidInput`` when it cannot be read or holds no face."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            image = np.asarray(picture.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise InvalidInput(f"{path}: not an image that can be read ({exc})") from None
    faces = model.find(image)
    if not faces:
        raise InvalidInput(f"{path}: no face found in this image (faces smaller than about 80 pixels are not seen)")
    note = None
    if len(faces) > 1:
        x0, y0, x1, y1 = faces[0].box
        note = (f"{path}: {len(faces)} faces; searching with the largest, at x {x0}-{x1}, y {y0}-{y1} "
                "(crop the photo to choose another)")
    return faces[0].descriptor, note


def moments_with_face(library, descriptor: np.ndarray, max_distance: float, k: int,
                      filters: Filters | None = None) -> list[Moment]:
    """The appearances of the face ``descriptor`` describes, nearest first, at most ``k``."""
    video_ids = None
    if filters is not None and filters.active:
        with library.sessions() as session:
            video_ids = allowed(session, filters).videos
    rows = library.face_rows(video_ids)
    if not len(rows.ids):
        return []
    gaps = distance(descriptor, rows.descriptors)
    order = [i for i in np.argsort(gaps, kind="stable") if gaps[i] <= max_distance][:k]
    return _moments(library, rows, order, 1.0 - gaps)


def moments_of_person(library, person: int, k: int) -> list[Moment]:
    """A person's appearances in the archive, by video and time, at most ``k``."""
    rows = library.face_rows(person=person)
    order = sorted(range(len(rows.ids)), key=lambda i: (int(rows.video_ids[i]), float(rows.starts[i])))[:k]
    return _moments(library, rows, order, np.ones(len(rows.ids)))


def _moments(library, rows, order: list[int], scores: np.ndarray) -> list[Moment]:
    """One moment per appearance ``rows[i]`` for ``i`` in ``order``, with whose face it is."""
    moments = []
    for i in order:
        segment_id = library.segment_at(int(rows.video_ids[i]), float(rows.starts[i]))
        row = library.moment_rows([segment_id]).get(segment_id) if segment_id is not None else None
        if row is None:
            continue
        moments.append(Moment(row.video_path, int(rows.video_ids[i]), segment_id, float(rows.starts[i]),
                              float(rows.ends[i]), float(scores[i]), row.transcript, [segment_id],
                              screen_text=row.screen_text or "", language=row.language,
                              appearance=int(rows.ids[i])))
    owners = PeopleStore(library).of_appearances(m.appearance for m in moments)
    for moment in moments:
        if moment.appearance in owners:
            person_id, name = owners[moment.appearance]
            moment.person = {"id": person_id, "name": name}
    return moments
