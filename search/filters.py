"""Narrowing a search by metadata: videos, a path prefix, tags, recording dates, duration, the
language a moment is spoken in, and a person seen in it.

A filter becomes the set of videos and segment ids it allows, computed in the catalog. The
searcher then scores exactly those segments when the set is small (their vectors are in the
catalog), or hands the videos to a store that filters itself (Milvus), or asks the vector index
for more and more neighbours until k allowed ones are found or the index is exhausted, so k
results come back whenever k matching segments exist.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog import FaceAppearance, Segment, Speaker, Video, Voice


LANGUAGE_CODE = r"^[a-z]{2,3}$"
"""A language as filters take it: ISO 639-1 (or -3 where Whisper has no two letters), lower case."""


@dataclasses.dataclass
class Filters:
    video_ids: list[int] | None = None
    path_prefix: str | None = None
    tags: list[str] | None = None  # a video must carry all of them
    recorded_after: dt.datetime | None = None
    recorded_before: dt.datetime | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    language: str | None = None  # moments spoken in it (ISO 639-1: "en", "de")
    person: int | None = None  # moments where this person (``core.people``) is seen or heard

    @classmethod
    def asked(cls, video: list[int] | None = None, path_prefix: str | None = None, tag: list[str] | None = None,
              after: dt.datetime | None = None, before: dt.datetime | None = None, min_duration: float | None = None,
              max_duration: float | None = None, language: str | None = None,
              person: int | None = None) -> "Filters":
        """Filters as a user asks for them, by the names the CLI's options and the API's query
        parameters share: empty lists mean no filter, a language code in any case ("DE")."""
        return cls(video_ids=list(video) or None if video else None, path_prefix=path_prefix,
                   tags=list(tag) or None if tag else None, recorded_after=after, recorded_before=before,
                   min_duration=min_duration, max_duration=max_duration,
                   language=language.strip().lower() if language else None, person=person)

    def __post_init__(self) -> None:
        if self.language is not None and not re.fullmatch(LANGUAGE_CODE, self.language):
            raise ValueError(f"{self.language!r} is not a language code: use two letters, as en, de, fr or zh")

    @property
    def active(self) -> bool:
        return any(v is not None and v != [] for v in dataclasses.asdict(self).values())


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class Allowed:
    """What a filter lets through: the videos, and their segments."""

    videos: list[int]
    segments: set[int]


def allowed(session: Session, filters: Filters) -> Allowed:
    """The indexed videos that pass every filter, and their segments."""
    query = select(Video.id, Video.tags, Video.recorded_at).where(Video.status == "indexed")
    if filters.video_ids is not None:  # ids beyond 64 bits cannot exist (and would overflow the driver)
        query = query.where(Video.id.in_([i for i in filters.video_ids if 0 < i < 2**63]))
    if filters.path_prefix:
        prefix = filters.path_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Video.path.like(prefix + "%", escape="\\"))
    if filters.min_duration is not None:
        query = query.where(Video.duration >= filters.min_duration)
    if filters.max_duration is not None:
        query = query.where(Video.duration <= filters.max_duration)
    wanted = set(filters.tags or [])
    videos = []
    for video_id, tags, recorded in session.execute(query):
        if wanted and not wanted <= set(tags or []):
            continue
        if (filters.recorded_after or filters.recorded_before) and recorded is None:
            continue
        if filters.recorded_after and _aware(recorded) < _aware(filters.recorded_after):
            continue
        if filters.recorded_before and _aware(recorded) > _aware(filters.recorded_before):
            continue
        videos.append(video_id)
    seen = _appearances(session, filters.person) if filters.person is not None else None
    if seen is not None:
        videos = [v for v in videos if v in seen]
    segments: set[int] = set()
    spoken = select(Segment.id, Segment.video_id)
    if seen is not None:
        spoken = select(Segment.id, Segment.video_id, Segment.start, Segment.end)
    if filters.language:
        spoken = spoken.where(Segment.language == filters.language)
    holding = set()
    for start in range(0, len(videos), 5000):
        rows = session.execute(spoken.where(Segment.video_id.in_(videos[start:start + 5000]))).all()
        if seen is not None:  # the segments that overlap one of the person's appearances
            rows = [(segment_id, video_id) for segment_id, video_id, a, b in rows
                    if any(a < end and b > begin for begin, end in seen[video_id])]
        segments.update(segment_id for segment_id, _ in rows)
        holding.update(video_id for _, video_id in rows)
    narrowed = filters.language or seen is not None
    return Allowed([v for v in videos if v in holding] if narrowed else videos, segments)


def _appearances(session: Session, person: int) -> dict[int, list[tuple[float, float]]]:
    """video id -> the (start, end) of each appearance of ``person`` in it, and of each turn of
    the voices linked to ``person`` (``core.voices.link_people``): seen or heard."""
    spans: dict[int, list[tuple[float, float]]] = {}
    for video_id, start, end in session.execute(select(FaceAppearance.video_id, FaceAppearance.start,
                                                       FaceAppearance.end).where(FaceAppearance.person_id == person)):
        spans.setdefault(video_id, []).append((start, end))
    for video_id, turns in session.execute(select(Speaker.video_id, Speaker.turns).join(
            Voice, Speaker.voice_id == Voice.id).where(Voice.person_id == person)):
        spans.setdefault(video_id, []).extend((start, end) for start, end in turns)
    return spans
