"""Every read of the catalog that the CLI, the service's routes and the searcher make, in one place.

``CatalogReads`` needs only ``self.sessions`` (a session factory); the library mixes it in, so a
caller holding a library reads with it, and no route or command writes SQL of its own. Reads on
every search's path (``moment_rows``) return plain rows, not ORM objects.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .voices import VoiceStore, said_by
from .catalog import (STRONG_CUT, CatalogState, Chapter, FaceAppearance, ModelVersion, ScreenTextLine, Segment,
                      SegmentVector, TranscriptLine, Video)
from .chapter_formats import shown_chapters
from .errors import NotFound
from .rows import ChapterMark, ShownLine
from .subtitles import Cue

if TYPE_CHECKING:
    from .settings import Settings


class MomentRow(NamedTuple):
    """A segment as a search result needs it."""

    video_path: str
    video_id: int
    start: float
    end: float
    transcript: str
    border: float | None
    screen_text: str | None
    duration: float
    language: str | None


class FaceRows(NamedTuple):
    """Every face appearance of the indexed videos, as arrays (one row each)."""

    ids: np.ndarray  # int64
    video_ids: np.ndarray  # int64
    starts: np.ndarray  # float64
    ends: np.ndarray  # float64
    descriptors: np.ndarray  # float32 (n, 128)


class VideoSpeech(NamedTuple):
    """What ``vidsearch status`` says of one video's speech."""

    path: str
    asr_model: str | None
    transcript_source: str | None
    languages: list | None
    speech_note: str | None


@dataclasses.dataclass(frozen=True)
class VideoDetail:
    """One video with its segments and transcript lines, loaded together."""

    video: Video
    segments: list[Segment]
    lines: list[TranscriptLine]


def catalog_dims(session: Session) -> dict[str, int]:
    """{space: vector size} of the spaces the catalog holds."""
    return dict(session.execute(select(ModelVersion.space, ModelVersion.dim)).all())


def catalog_count(session: Session, space: str) -> int:
    """How many vectors ``space`` has in the catalog."""
    return session.scalar(select(func.count()).select_from(SegmentVector).where(SegmentVector.space == space)) or 0


def catalog_ids(session: Session, space: str) -> set[int]:
    """Every segment id with a vector in ``space``: what its index must hold."""
    return set(session.scalars(select(SegmentVector.segment_id).where(SegmentVector.space == space)))


def catalog_vectors(session: Session, space: str, ids) -> tuple[np.ndarray, np.ndarray]:
    """(ids found, their vectors) of ``space``, read 5,000 ids a query (drivers cap parameters)."""
    ids = sorted({int(i) for i in ids})
    found, rows = [], []
    for start in range(0, len(ids), 5000):
        for segment_id, blob in session.execute(select(SegmentVector.segment_id, SegmentVector.vector).where(
                SegmentVector.space == space, SegmentVector.segment_id.in_(ids[start:start + 5000]))):
            found.append(segment_id)
            rows.append(np.frombuffer(blob, dtype=np.float32))
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return np.asarray(found, np.int64), np.stack(rows)


def catalog_generation(session: Session) -> int:
    """The catalog's generation: it grows with every change to the vectors, by any process."""
    return int(session.scalar(select(CatalogState.value).where(CatalogState.name == "generation")) or 0)


class CatalogReads:
    sessions: sessionmaker
    settings: "Settings"

    def generation(self) -> int:
        with self.sessions() as session:
            return catalog_generation(session)

    def fused_weights(self) -> tuple[float, float] | None:
        """(visual, speech) weights of the catalog's fused vectors, when recorded."""
        with self.sessions() as session:
            params = session.scalar(select(ModelVersion.params).where(ModelVersion.space == "fused"))
        return (float(params["visual"]), float(params["speech"])) if params else None

    def moved_video(self, fingerprint: str) -> Video | None:
        """An indexed video with this content whose file is no longer where the catalog says."""
        with self.sessions() as session:
            for video in session.scalars(select(Video).where(
                    Video.fingerprint == fingerprint, Video.status == "indexed")):
                if not Path(video.path).exists():
                    return video
        return None

    def known_file(self, path: str) -> Video | None:
        with self.sessions() as session:
            return session.scalar(select(Video).where(Video.path == path))

    def segments(self, ids) -> dict[int, tuple[Segment, Video]]:
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        with self.sessions() as session:
            rows = session.execute(
                select(Segment, Video).join(Video).where(Segment.id.in_(ids))
            ).all()
            return {seg.id: (seg, video) for seg, video in rows}

    def moment_rows(self, ids) -> dict[int, "MomentRow"]:
        """segment id -> what a search result shows (and where a moment may grow), read as plain
        rows: without ORM objects, since this is on every search's path."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        with self.sessions() as session:
            rows = session.execute(
                select(Segment.id, Video.path, Video.id, Segment.start, Segment.end, Segment.transcript,
                       Segment.border, Segment.screen_text, Video.duration, Segment.language)
                .join(Video, Segment.video_id == Video.id).where(Segment.id.in_(ids)))
            return {row[0]: MomentRow(*row[1:]) for row in rows}

    def tag_counts(self) -> list[tuple[str, int]]:
        """Every tag of an indexed video, with how many videos carry it (most used first)."""
        counts: dict[str, int] = {}
        with self.sessions() as session:
            for (tags,) in session.execute(select(Video.tags).where(Video.status == "indexed")):
                for tag in tags or []:
                    counts[tag] = counts.get(tag, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def face_rows(self, video_ids=None, person: int | None = None) -> FaceRows:
        """The face appearances of indexed videos (of ``video_ids``, of ``person`` only, when given)."""
        query = (select(FaceAppearance.id, FaceAppearance.video_id, FaceAppearance.start, FaceAppearance.end,
                        FaceAppearance.descriptor).join(Video).where(Video.status == "indexed")
                 .order_by(FaceAppearance.id))
        if video_ids is not None:
            query = query.where(FaceAppearance.video_id.in_(sorted({int(v) for v in video_ids})))
        if person is not None:
            query = query.where(FaceAppearance.person_id == person)
        with self.sessions() as session:
            rows = session.execute(query).all()
        if not rows:
            return FaceRows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0),
                            np.zeros((0, 128), np.float32))
        ids, videos, starts, ends, blobs = zip(*rows)
        return FaceRows(np.asarray(ids, np.int64), np.asarray(videos, np.int64), np.asarray(starts, np.float64),
                        np.asarray(ends, np.float64), np.stack([np.frombuffer(b, "<f4") for b in blobs]))

    def segment_at(self, video_id: int, at: float) -> int | None:
        """The id of the segment of ``video_id`` playing at ``at`` seconds (the last one before it)."""
        with self.sessions() as session:
            return session.scalar(select(Segment.id).where(Segment.video_id == video_id, Segment.start <= at + 1e-6)
                                  .order_by(Segment.start.desc()).limit(1)) or session.scalar(
                select(Segment.id).where(Segment.video_id == video_id).order_by(Segment.start).limit(1))

    def strong_cuts(self, video_ids) -> dict[int, list[float]]:
        """video id -> the starts of its segments that begin at a strong cut, in order: where a
        video is cut into shots or parts (see ``search.rank.unit_of``); videos without any are absent."""
        video_ids = sorted({int(i) for i in video_ids})
        if not video_ids:
            return {}
        out: dict[int, list[float]] = {}
        with self.sessions() as session:
            for vid, start in session.execute(
                    select(Segment.video_id, Segment.start)
                    .where(Segment.video_id.in_(video_ids), Segment.border >= STRONG_CUT)
                    .order_by(Segment.video_id, Segment.start)):
                out.setdefault(vid, []).append(start)
        return out

    def exact_vectors(self, space: str, ids) -> tuple[np.ndarray, np.ndarray]:
        """(ids found, their vectors) of ``space`` from the catalog, which keeps every vector exactly."""
        with self.sessions() as session:
            return catalog_vectors(session, space, ids)

    def vector(self, segment_id: int, space: str) -> np.ndarray | None:
        found, rows = self.exact_vectors(space, [segment_id])
        return rows[0] if len(found) else None

    def videos(self, status: str | None = None) -> list[Video]:
        with self.sessions() as session:
            query = select(Video).order_by(Video.path)
            if status:
                query = query.where(Video.status == status)
            return list(session.scalars(query))

    def video_page(self, status: str | None, limit: int, offset: int,
                   sort: str = "path") -> tuple[int, list[tuple[Video, int]]]:
        """(how many videos have ``status``, one page of them with their segment counts), in the
        order ``sort`` names (path, duration, recorded or segments; a leading "-" reverses it; ties by
        path)."""
        with self.sessions() as session:
            where = [Video.status == status] if status else []
            total = session.scalar(select(func.count()).select_from(Video).where(*where)) or 0
            counts = select(Segment.video_id, func.count().label("n")).group_by(Segment.video_id).subquery()
            keys = {"path": Video.path, "duration": Video.duration, "recorded": Video.recorded_at,
                    "segments": func.coalesce(counts.c.n, 0)}
            key = keys[sort.lstrip("-")]
            order = key.desc().nulls_last() if sort.startswith("-") else key.asc().nulls_last()
            rows = session.execute(
                select(Video, counts.c.n).outerjoin(counts, counts.c.video_id == Video.id)
                .where(*where).order_by(order, Video.path).offset(offset).limit(limit)).all()
            return total, [(video, n or 0) for video, n in rows]

    def video_detail(self, video_id: int) -> VideoDetail | None:
        with self.sessions() as session:
            video = session.get(Video, video_id)
            if video is None:
                return None
            return VideoDetail(video, list(video.segments), list(video.transcript))

    def transcript_cues(self, video_id: int) -> list[Cue] | None:
        """The video's transcript lines as cues, by time, each with who speaks it when voices were
        told apart; None when the video is not indexed."""
        with self.sessions() as session:
            video = session.get(Video, video_id)
            if video is None or video.status != "indexed":
                return None
            lines = [(line.start, line.end, line.text, line.words, line.language) for line in video.transcript]
        return said_by(lines, VoiceStore(self).speakers_of(video_id))

    def screen_lines(self, video_id: int) -> list[ShownLine]:
        """The lines read off a video's screen, by time."""
        with self.sessions() as session:
            rows = session.scalars(select(ScreenTextLine).where(ScreenTextLine.video_id == video_id)
                                   .order_by(ScreenTextLine.start, ScreenTextLine.id))
            return [ShownLine(r.start, r.end, r.text, r.score, r.box) for r in rows]

    def chapters_of(self, video_id: int) -> tuple[list[ChapterMark], list | None]:
        """(every chapter of a video, computed and its file's own, by start; its summary)."""
        with self.sessions() as session:
            video = session.get(Video, video_id)
            if video is None:
                raise NotFound(f"there is no video {video_id} in the catalog")
            rows = session.scalars(select(Chapter).where(Chapter.video_id == video_id)
                                   .order_by(Chapter.start, Chapter.id))
            return [row.mark() for row in rows], video.summary

    def shown_chapters(self, video_ids) -> dict[int, list[ChapterMark]]:
        """{video id: the chapters it shows (``chapter_formats.shown_chapters``)} for those that have some."""
        found: dict[int, list[ChapterMark]] = {}
        with self.sessions() as session:
            for row in session.scalars(select(Chapter).where(Chapter.video_id.in_(list(video_ids)))
                                       .order_by(Chapter.video_id, Chapter.start, Chapter.id)):
                found.setdefault(row.video_id, []).append(row.mark())
        prefer = self.settings.chapters_from
        return {video: shown for video, marks in found.items() if (shown := shown_chapters(marks, prefer))}

    def indexed_video(self, video_id: int) -> Video | None:
        """The video, when it is indexed (not failed)."""
        with self.sessions() as session:
            video = session.get(Video, video_id)
            return video if video is not None and video.status == "indexed" else None

    def transcript_sources(self) -> dict[str, int]:
        """{where transcripts came from: videos}: the ASR model that heard them, "subtitle files"
        or "subtitle streams" (the videos' own), "none" for videos without speech or indexed
        before the source was recorded."""
        with self.sessions() as session:
            rows = session.execute(select(Video.asr_model, Video.transcript_source, func.count())
                                   .where(Video.status == "indexed")
                                   .group_by(Video.asr_model, Video.transcript_source)).all()
        out: dict[str, int] = {}
        for model, source, count in rows:
            kind = (model or {"sidecar": "subtitle files", "stream": "subtitle streams"}.get(
                (source or "").split(":")[0], "none"))
            out[kind] = out.get(kind, 0) + count
        return dict(sorted(out.items(), key=lambda item: -item[1]))

    def speech_languages(self) -> tuple[dict[str, dict[str, int]], list["VideoSpeech"]]:
        """({language: {"videos": n, "segments": m}}, most segments first; and every indexed video's
        speech: which model heard it, in which languages, and what it could not hear)."""
        with self.sessions() as session:
            counted = session.execute(select(Segment.language, func.count(func.distinct(Segment.video_id)), func.count())
                                      .where(Segment.language.is_not(None)).group_by(Segment.language)).all()
            videos = [VideoSpeech(*row) for row in session.execute(
                select(Video.path, Video.asr_model, Video.transcript_source, Video.languages, Video.speech_note)
                .where(Video.status == "indexed").order_by(Video.path))]
        languages = {code: {"videos": n, "segments": m} for code, n, m in sorted(counted, key=lambda r: (-r[2], r[0]))}
        return languages, videos

    def status_counts(self) -> tuple[dict[str, int], int, int]:
        """({video status: count}, segments, sampled frames)."""
        with self.sessions() as session:
            by_status = dict(session.execute(select(Video.status, func.count()).group_by(Video.status)).all())
            segments = session.scalar(select(func.count()).select_from(Segment)) or 0
            frames = session.scalar(select(func.sum(Segment.frame_count))) or 0
        return by_status, segments, int(frames)
