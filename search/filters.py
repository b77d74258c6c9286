"""Narrowing a search by metadata: videos, a path prefix, tags, recording dates, duration.

A filter becomes the set of videos and segment ids it allows, computed in the catalog. The
searcher then scores exactly those segments when the set is small (their vectors are in the
catalog), or hands the videos to a store that filters itself (Milvus), or asks the vector index
for more and more neighbours until k allowed ones are found or the index is exhausted, so k
results come back whenever k matching segments exist.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from .catalog import Segment, Video


@dataclasses.dataclass
class Filters:
    video_ids: list[int] | None = None
    path_prefix: str | None = None
    tags: list[str] | None = None  # a video must carry all of them
    recorded_after: dt.datetime | None = None
    recorded_before: dt.datetime | None = None
    min_duration: float | None = None
    max_duration: float | None = None

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
    segments: set[int] = set()
    for start in range(0, len(videos), 5000):
        segments.update(session.scalars(select(Segment.id).where(Segment.video_id.in_(videos[start:start + 5000]))))
    return Allowed(videos, segments)
