"""The library: the catalog and the vector indexes of one data dir, kept consistent.

Writes go catalog first (one transaction per video, vectors included, the catalog generation
bumped), then the indexes (``index_set``), which are saved atomically. A crash between the two
leaves rows without vectors in the index; opening the library reconciles each index with the
catalog (no vector without a row, no row without a vector), so nothing is lost or orphaned.
Reads live in ``catalog_reads``, mixed in.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import dataclasses
import fcntl
import logging
from typing import Iterator

import numpy as np
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from .catalog import (CatalogState, Chapter, CopyDescriptors, CopyMatch, FaceAppearance, ModelVersion,
                      ScreenTextLine, Segment, SegmentVector, Speaker, TranscriptLine, Video, open_catalog)
from .catalog_reads import CatalogReads, catalog_generation
from .errors import NotFound, VidsearchError
from .jobs import JobStore
from .cjk import cjk_grams
from .rows import ChapterMark, CopyHashes, FaceSeen, ShownLine, SpeakerHeard, SpokenLine
from .settings import Settings
from .voices import assign_voices
from .vectors import Added, IndexSet, NearestIndex, Removed, make_index_set, normalize

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LibraryCounts:
    """What a library holds: videos by state, segments, sampled frames, vectors per space."""

    indexed: int
    failed: int
    segments: int
    frames: int
    vectors: dict[str, int]


class ModelMismatchError(VidsearchError, RuntimeError):
    """Vectors of one space would come from two different models."""


@dataclasses.dataclass
class NewSegment:
    start: float
    end: float
    transcript: str = ""
    frame_count: int = 0
    thumbnail_time: float | None = None
    border: float | None = None  # how strong the cut at its start is (see indexer.segment)
    screen_text: str = ""  # the text on screen while it plays (OCR)
    vectors: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    language: str | None = None  # its speech's
    rendering: str | None = None  # its speech in English, when it is in another language


@dataclasses.dataclass
class NewVideo:
    """Everything the indexer learned about one file, written to the catalog in one go."""

    path: str
    size: int
    mtime: float
    duration: float = 0.0
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    rotation: int = 0
    video_codec: str | None = None
    audio_codec: str | None = None
    has_audio: bool = False
    language: str | None = None
    timings: dict | None = None
    fingerprint: str | None = None
    recorded_at: dt.datetime | None = None
    segmentation: str | None = None
    asr_model: str | None = None
    transcript_source: str | None = None
    subtitle_note: str | None = None
    sidecars: str | None = None
    screen_note: str | None = None
    screen_model: str | None = None
    screen: list[ShownLine] = dataclasses.field(default_factory=list)  # OCR lines
    copies: CopyHashes | None = None
    face_model: str | None = None  # what looked for faces (None: nothing did)
    faces: list[FaceSeen] = dataclasses.field(default_factory=list)
    voice_model: str | None = None  # what told voices apart (None: nothing did)
    speakers: list[SpeakerHeard] = dataclasses.field(default_factory=list)
    chapters_version: str | None = None  # what computed its chapters (None: nothing did)
    chapters: list[ChapterMark] = dataclasses.field(default_factory=list)  # computed and the file's own
    summary: list | None = None  # [[start, end, sentence], ...]
    segments: list[NewSegment] = dataclasses.field(default_factory=list)
    transcript: list[SpokenLine] = dataclasses.field(default_factory=list)
    languages: list[str] | None = None  # spoken, most first
    speech_note: str | None = None  # speech its model could not transcribe
    models: dict[str, tuple[str, int]] = dataclasses.field(default_factory=dict)  # space -> (model, dim)
    fusion: tuple[float, float] | None = None  # (visual, speech) weights of the fused vectors


class Library(CatalogReads):
    """One data dir: the catalog session factory plus its index set (one index per space)."""

    def __init__(self, settings: Settings, reconcile: bool = True, index_set: IndexSet | None = None,
                 read_only: bool = False):
        self.settings = settings
        self.read_only = read_only
        self.sessions: sessionmaker = open_catalog(settings.catalog_url)
        self.jobs = JobStore(self.sessions)
        self.lock_dir = settings.index_dir
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        self.index_set = index_set or make_index_set(settings, self.exact_vectors, read_only)
        self.seen_generation: int | None = None  # the catalog generation these indexes match
        if reconcile:  # only `vidsearch check` looks at the files as they are, before repair
            self.reconcile()

    @property
    def indexes(self) -> dict[str, NearestIndex]:
        """The searchable index of each space that has vectors."""
        return self.index_set.indexes

    @contextlib.contextmanager
    def _write_lock(self, repair: bool = False) -> Iterator[None]:
        """Serialise index writers across processes sharing the data dir. Only ``repair`` (making
        the indexes equal to the catalog) is allowed to a library opened read-only."""
        if self.read_only and not repair:
            raise RuntimeError("this library was opened read-only (for queries); it takes no writes")
        with open(self.lock_dir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction on the catalog under the library's write lock, for a change the
        library has no method for (re-fusing a space); the caller rebuilds what it rewrote."""
        with self._write_lock(), self.sessions.begin() as session:
            yield session

    # --- consistency
    def reconcile(self) -> dict[str, tuple[int, int]]:
        """Make every index hold exactly the catalog's vectors; returns {space: (added, removed)}."""
        with self._write_lock(repair=True), self.sessions() as session:
            self.seen_generation = catalog_generation(session)  # read first: a later change is seen next time
            return self.index_set.reconcile(session, self.seen_generation)

    @contextlib.contextmanager
    def batched_saves(self, seconds: float) -> Iterator[None]:
        """Within the block, a changed index file is saved at most every ``seconds`` (and at the
        end), not after every write: a save writes the whole index, so a run adding many small
        files to a large archive would otherwise spend its time rewriting it. Crash-safe: the
        catalog holds every write, and a file left behind is caught up on the next open."""
        before = self.index_set.save_every
        self.index_set.save_every = seconds
        try:
            yield
        finally:
            self.index_set.save_every = before
            with self._write_lock(repair=True), self.sessions() as session:
                self.index_set.flush(session)

    def refresh_if_changed(self) -> bool:
        """Reconcile with the catalog when another process (or library) changed it; True if so."""
        if self.generation() == self.seen_generation:
            return False
        self.reconcile()
        return True

    def check(self) -> dict[str, dict]:
        """Compare the catalog with the stored indexes (as a fresh open would read them): per space,
        catalog vector count, index count, missing ids, orphans, duplicates. ``reconcile()``
        repairs all of these."""
        with self.sessions() as session:
            return self.index_set.check(session)

    def has_vectors(self, spaces) -> bool:
        """Whether any of ``spaces`` holds vectors (as of the last reconcile)."""
        return self.index_set.has_vectors(spaces)

    @staticmethod
    def bump(session: Session) -> int:
        """Count a change to the vectors, inside the writing transaction; returns the new generation."""
        return int(session.scalar(update(CatalogState).where(CatalogState.name == "generation")
                                  .values(value=CatalogState.value + 1).returning(CatalogState.value)))

    def _advance(self, generation: int) -> int | None:
        """After this library's write took the catalog to ``generation``: its indexes match it when
        they matched the one before; else another process wrote since they were read, and they
        match no generation (saved so, they are repaired on the next open or refresh)."""
        self.seen_generation = generation if self.seen_generation == generation - 1 else None
        return self.seen_generation

    def _apply(self, removed: Removed, added: Added, generation: int) -> None:
        seen = self._advance(generation)
        with self.sessions() as session:  # a shared store holds every writer's changes: it is told this one's
            self.index_set.apply(session, removed, added, generation if self.index_set.shared else seen)

    # --- writes
    def _check_models(self, session: Session, models: dict[str, tuple[str, int]],
                      fusion: tuple[float, float] | None = None) -> None:
        for space, (model, dim) in models.items():
            known = session.get(ModelVersion, space)
            if known is None:
                known = ModelVersion(space=space, model=model, dim=dim)
                session.add(known)
            elif known.model != model or known.dim != dim:
                raise ModelMismatchError(
                    f"the {space} vectors in this catalog come from {known.model} (dim {known.dim}), "
                    f"but the configured model is {model} (dim {dim}); use the same model, or a new "
                    f"data dir / database to index with a different one"
                )
            if space == "fused" and fusion is not None:
                weights = {"visual": float(fusion[0]), "speech": float(fusion[1])}
                if known.params is None:
                    known.params = weights  # catalogs from before weights were recorded adopt them
                elif known.params != weights:
                    raise ModelMismatchError(
                        f"the fused vectors in this catalog weigh frames {known.params['visual']:g} and speech "
                        f"{known.params['speech']:g}, this file was fused with {weights['visual']:g} and "
                        f"{weights['speech']:g}; index with the catalog's weights (vidsearch tune changes them)")

    def write_video(self, record: NewVideo) -> int:
        """Store one indexed file (replacing an earlier version of the same path); returns its id."""
        with self._write_lock():
            with self.sessions.begin() as session:
                self._check_models(session, record.models, record.fusion)
                old_ids = self._delete_path(session, record.path)
                video = Video(
                    **{f.name: getattr(record, f.name) for f in dataclasses.fields(record)
                       if f.name not in ("segments", "transcript", "screen", "models", "fusion", "copies", "faces",
                                     "speakers", "chapters")},
                    status="indexed",
                )
                session.add(video)
                for line in record.transcript:
                    video.transcript.append(TranscriptLine(**SpokenLine(*line)._asdict()))
                for line in record.screen:
                    video.screen.append(ScreenTextLine(**ShownLine(*line)._asdict()))
                if record.copies is not None:
                    video.copies = CopyDescriptors.packed(record.copies)
                video.faces = [FaceAppearance.packed(face) for face in record.faces]
                video.speakers = [Speaker.packed(speaker) for speaker in record.speakers]
                video.chapters = [Chapter.packed(mark) for mark in record.chapters]
                if video.speakers:
                    session.flush()
                    assign_voices(session, video.speakers, self.settings.voice_match)
                rows = []
                for ordinal, seg in enumerate(record.segments):
                    row = Segment(
                        ordinal=ordinal, start=seg.start, end=seg.end, transcript=seg.transcript,
                        frame_count=seg.frame_count, thumbnail_time=seg.thumbnail_time, border=seg.border,
                        screen_text=seg.screen_text or None, language=seg.language, rendering=seg.rendering,
                        grams=cjk_grams(seg.transcript, seg.screen_text),
                    )
                    row.vectors = [
                        SegmentVector(space=space, vector=normalize(vec)[0].tobytes())
                        for space, vec in seg.vectors.items()
                    ]
                    video.segments.append(row)
                    rows.append((row, seg))
                session.flush()
                video_id = video.id
                generation = self.bump(session)
            added: Added = {}
            for space in {space for _, seg in rows for space in seg.vectors}:
                pairs = [(row.id, seg.vectors[space]) for row, seg in rows if space in seg.vectors]
                added[space] = ([p[0] for p in pairs], np.stack([p[1] for p in pairs]))
            self._apply(old_ids, added, generation)
            return video_id

    def rebuild(self, space: str) -> None:
        """Build ``space``'s index again from the catalog's vectors (after they were rewritten)."""
        with self._write_lock(), self.sessions() as session:
            self.index_set.rebuild(session, space, catalog_generation(session))

    @staticmethod
    def _delete_path(session: Session, path: str) -> list[int]:
        video = session.scalar(select(Video).where(Video.path == path))
        if video is None:
            return []
        ids = list(session.scalars(select(Segment.id).where(Segment.video_id == video.id)))
        session.delete(video)
        session.flush()
        return ids

    def record_failure(self, path: str, size: int, mtime: float, stage: str, error: str) -> None:
        """Remember that a file failed, where and why (replacing what was indexed for it)."""
        with self._write_lock():
            with self.sessions.begin() as session:
                old_ids = self._delete_path(session, path)
                session.add(Video(path=path, size=size, mtime=mtime, status="failed",
                                  error_stage=stage, error=error[:4000]))
                generation = self.bump(session) if old_ids else None
            if generation is not None:
                self._apply(old_ids, {}, generation)

    def remove_video(self, video_id: int) -> bool:
        with self._write_lock():
            with self.sessions.begin() as session:
                video = session.get(Video, video_id)
                if video is None:
                    return False
                old_ids = self._delete_path(session, video.path)
                generation = self.bump(session)
            self._apply(old_ids, {}, generation)
            return True

    def replace_screen_text(self, video_id: int, lines: list[ShownLine],
                            segments: dict[int, tuple[str, np.ndarray | None]], screen_model: str,
                            speech_model: tuple[str, int]) -> None:
        """Put a video's on-screen text in place of what it had: its lines, each segment's
        ``screen_text`` and speech vector (segment id -> (text, vector or None)); nothing else of
        the video changes. One transaction, then the speech index."""
        with self._write_lock():
            with self.sessions.begin() as session:
                self._check_models(session, {"speech": speech_model})
                video = _catalogued(session, video_id)
                video.screen = [ScreenTextLine(**ShownLine(*line)._asdict()) for line in lines]
                video.screen_model, video.screen_note = screen_model, None
                stored = {row.segment_id: row for row in session.scalars(select(SegmentVector).where(
                    SegmentVector.space == "speech", SegmentVector.segment_id.in_(list(segments))))}
                removed = []
                for segment in session.scalars(select(Segment).where(Segment.id.in_(list(segments)))):
                    text, vector = segments[segment.id]
                    segment.screen_text = text or None
                    segment.grams = cjk_grams(segment.transcript, text)
                    if vector is None:
                        if segment.id in stored:
                            session.delete(stored[segment.id])
                            removed.append(segment.id)
                    elif segment.id in stored:
                        stored[segment.id].vector = normalize(vector)[0].tobytes()
                    else:
                        session.add(SegmentVector(segment_id=segment.id, space="speech",
                                                  vector=normalize(vector)[0].tobytes()))
                generation = self.bump(session)
            kept = [(i, v) for i, (_, v) in segments.items() if v is not None]
            added: Added = {"speech": ([i for i, _ in kept], np.stack([v for _, v in kept]))} if kept else {}
            self._apply({"speech": removed}, added, generation)  # re-added ids replace their old vectors

    def replace_copy_descriptors(self, video_id: int, copies: CopyHashes) -> None:
        """Put a video's copy descriptors in place of what it had; nothing else changes."""
        with self.sessions.begin() as session:
            video = _catalogued(session, video_id)
            video.copies = CopyDescriptors.packed(copies)  # compared with the archive anew
            session.execute(delete(CopyMatch).where(
                or_(CopyMatch.video_id == video_id, CopyMatch.other_id == video_id)))

    def replace_faces(self, video_id: int, faces: list[FaceSeen], face_model: str) -> None:
        """Put a video's face appearances in place of what it had (their people keep their
        names and centres; clustering places the new ones); nothing else changes."""
        with self.writing() as session:
            video = _catalogued(session, video_id)
            video.faces = [FaceAppearance.packed(face) for face in faces]
            video.face_model = face_model

    def replace_speakers(self, video_id: int, speakers: list[SpeakerHeard], voice_model: str) -> None:
        """Put a video's speakers in place of what it had and place them among the archive's
        voices (which keep their names and centres); nothing else changes."""
        with self.writing() as session:
            video = _catalogued(session, video_id)
            video.speakers = [Speaker.packed(speaker) for speaker in speakers]
            video.voice_model = voice_model
            session.flush()
            assign_voices(session, video.speakers, self.settings.voice_match)

    def replace_chapters(self, video_id: int, chapters: list[ChapterMark], summary: list | None,
                         version: str) -> None:
        """Put a video's chapters (computed and its file's own) and summary in place of what it
        had; nothing else changes."""
        with self.sessions.begin() as session:
            video = _catalogued(session, video_id)
            video.chapters = [Chapter.packed(mark) for mark in chapters]
            video.summary, video.chapters_version = summary, version

    def store_copy_matches(self, spans: list, compared: list[int]) -> None:
        """Keep the copy matches found for the videos ``compared`` (and mark them so); a video
        another process compared meanwhile keeps what that one found."""
        with self._write_lock():
            with self.sessions.begin() as session:
                still = set(session.scalars(select(CopyDescriptors.video_id).where(
                    CopyDescriptors.video_id.in_(compared), CopyDescriptors.compared.is_(False))))
                session.add_all(CopyMatch(video_id=s.a, other_id=s.b, start=s.a_start, end=s.a_end,
                                          other_start=s.b_start, other_end=s.b_end, score=s.score,
                                          evidence=s.evidence, change=s.change or None,
                                          witness=None if s.witness == "picture" else s.witness)
                                for s in spans if s.a in still)
                session.execute(update(CopyDescriptors).where(CopyDescriptors.video_id.in_(still))
                                .values(compared=True))

    def touch(self, video_id: int, size: int, mtime: float) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        with self.sessions.begin() as session:
            video = session.get(Video, video_id)
            video.size, video.mtime = size, mtime

    def set_tags(self, video_id: int, add: list[str] = (), remove: list[str] = (),
                 replace: bool = False) -> list[str]:
        """Tags are the user's own labels, used by search filters; returns the video's tags
        (``replace``: ``add`` becomes the whole list)."""
        with self.sessions.begin() as session:
            video = _catalogued(session, video_id)
            tags = [] if replace else [t for t in (video.tags or []) if t not in set(remove)]
            tags += [t for t in add if t not in tags]
            video.tags = tags
            return tags

    def repoint(self, video_id: int, path: str, size: int, mtime: float) -> None:
        """A moved file keeps its segments and vectors; only its path changes."""
        with self.sessions.begin() as session:
            video = session.get(Video, video_id)
            video.path, video.size, video.mtime = path, size, mtime

    def counts(self) -> LibraryCounts:
        by_status, segments, frames = self.status_counts()
        return LibraryCounts(indexed=by_status.get("indexed", 0), failed=by_status.get("failed", 0),
                             segments=segments, frames=frames, vectors=self.index_set.sizes())


def _catalogued(session: Session, video_id: int) -> Video:
    """The video ``video_id``, or ``NotFound``."""
    video = session.get(Video, video_id)
    if video is None:
        raise NotFound(f"there is no video {video_id} in the catalog")
    return video
