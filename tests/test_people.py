"""People in the catalog (core.people) and their clustering (search.people), on SQLite and on a
real PostgreSQL server: exact counts from descriptors placed at known distances."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidInput, NotFound
from core.library import Library
from core.people import PeopleStore
from core.rows import FaceSeen
from core.settings import Settings
from search.filters import Filters, allowed
from search.people import cluster_faces

from .test_library import video

MATCH = 0.55


def face(centre: np.ndarray, start: float, end: float, jitter: float = 0.0, seed: int = 0) -> FaceSeen:
    noise = np.random.default_rng(seed).normal(size=128) if jitter else np.zeros(128)
    vector = centre + jitter * noise / np.linalg.norm(noise if jitter else np.ones(128))
    return FaceSeen(start, end, [0.1, 0.1, 0.3, 0.4], vector.astype(np.float32), b"\xff\xd8still", 2)


@pytest.fixture
def lib(tmp_path, catalog_url):
    return Library(Settings(data_dir=tmp_path / "data", database_url=catalog_url))


def test_appearances_cluster_into_people_and_users_have_the_last_word(lib):
    a, b, c = (np.eye(128)[i] for i in range(3))  # 1.41 apart: three people
    first = video("/a.mp4", 3)
    first.faces = [face(a, 0.0, 4.0, 0.2, 1), face(b, 5.0, 9.0, 0.2, 2), face(a, 10.0, 14.0, 0.2, 3)]
    lib.write_video(first)
    assert cluster_faces(lib, MATCH) == 3
    people = PeopleStore(lib)
    rows = people.list()
    assert [(r.appearances, r.videos, r.name) for r in rows] == [(2, 1, None), (1, 1, None)]
    alice, bob = rows[0].id, rows[1].id
    assert rows[0].still_appearance is not None and people.still(rows[0].still_appearance) == b"\xff\xd8still"

    second = video("/b.mp4", 2)
    second.faces = [face(a, 0.0, 3.0, 0.25, 4), face(c, 4.0, 8.0)]  # Alice again, and a stranger
    lib.write_video(second)
    assert cluster_faces(lib, MATCH) == 2 and cluster_faces(lib, MATCH) == 0  # only new ones move
    assert {r.id: (r.appearances, r.videos) for r in people.list()}[alice] == (3, 2)
    carol = next(r.id for r in people.list() if r.id not in (alice, bob))

    people.name(alice, "Alice")
    assert people.resolve("alice") == alice and people.resolve(str(bob)) == bob
    people.name(bob, "Alice")
    with pytest.raises(InvalidInput, match="2 people are named 'Alice'"):
        people.resolve("Alice")
    people.name(bob, "Bob")
    with pytest.raises(NotFound):
        people.resolve("Nobody")
    with pytest.raises(InvalidInput):
        people.name(bob, "  ")

    lib.replace_faces(first_id(lib, "/a.mp4"), [face(a, 1.0, 4.0, 0.1, 5)], "test")  # looked at again
    cluster_faces(lib, MATCH)
    assert {r.label(): r.appearances for r in people.list()} == {"Alice": 2, f"Person {carol}": 1}
    # Bob has no appearance now, but keeps his name and centre: his face comes back to him.
    lib.replace_faces(first_id(lib, "/a.mp4"), [face(b, 5.0, 9.0, 0.1, 6)], "test")
    cluster_faces(lib, MATCH)
    assert {r.label(): r.appearances for r in people.list()} == {"Alice": 1, "Bob": 1, f"Person {carol}": 1}

    people.merge(alice, carol)
    assert {r.label(): r.appearances for r in people.list()} == {"Alice": 2, "Bob": 1}
    with pytest.raises(InvalidInput):
        people.merge(alice, alice)
    moved = first_appearance(lib, alice, "/b.mp4")
    alone = people.split(alice, moved)
    assert {r.id: r.appearances for r in people.list()} == {alice: 1, bob: 1, alone: 1}
    with pytest.raises(NotFound):
        people.split(alice, moved)  # it is not Alice's any more
    assert people.of_appearances([moved]) == {moved: (alone, None)}

    assert people.forget(alice) == 1
    assert {r.id for r in people.list()} == {bob, alone}
    with pytest.raises(NotFound):
        people.forget(alice)


def test_a_person_filter_allows_the_segments_they_are_seen_in(lib):
    a = np.eye(128)[0]
    record = video("/a.mp4", 4)  # segments 0-5, 5-10, 10-15, 15-20
    record.faces = [face(a, 6.0, 11.0)]
    lib.write_video(record)
    lib.write_video(video("/b.mp4", 2, seed=9))
    cluster_faces(lib, MATCH)
    (person,) = PeopleStore(lib).list()
    with lib.sessions() as session:
        seen = allowed(session, Filters(person=person.id))
        nobody = allowed(session, Filters(person=person.id + 1))
    starts = {s.start for s, _ in lib.segments(seen.segments).values()}
    assert starts == {5.0, 10.0} and seen.videos == [first_id(lib, "/a.mp4")]
    assert nobody.videos == [] and nobody.segments == set()


def first_id(lib: Library, path: str) -> int:
    return lib.known_file(path).id


def first_appearance(lib: Library, person: int, path: str) -> int:
    from sqlalchemy import select

    from core.catalog import FaceAppearance, Video

    with lib.sessions() as session:
        return session.scalar(select(FaceAppearance.id).join(Video).where(
            FaceAppearance.person_id == person, Video.path == path))
