"""The catalog: what is indexed, as SQLAlchemy 2 ORM tables.

The catalog is the source of truth. It holds every video, its segments, transcript and the
segment vectors themselves, so the FAISS indexes can always be rebuilt from it. It runs on a
SQLite file by default or on any SQLAlchemy URL (PostgreSQL); its schema is owned by Alembic
(``migrations/``) and brought up to date whenever the catalog is opened.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import numpy as np

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

from .errors import VidsearchError
from .rows import ChapterMark, CopyHashes, FaceSeen, SpeakerHeard

STRONG_CUT = 1.0
"""A segment border (``Segment.border``) this strong is a shot change or a long silence."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    mtime: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="indexed")  # indexed | failed
    error_stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    video_codec: Mapped[str | None] = mapped_column(String(32), nullable=True)
    audio_codec: Mapped[str | None] = mapped_column(String(32), nullable=True)
    has_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    timings: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    indexed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    tags: Mapped[list | None] = mapped_column(JSON, nullable=True)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    segmentation: Mapped[str | None] = mapped_column(String(64), nullable=True)  # how it was cut (see indexer.segment)
    asr_model: Mapped[str | None] = mapped_column(String(128), nullable=True)  # which model transcribed it
    transcript_source: Mapped[str | None] = mapped_column(String(256), nullable=True)  # asr | sidecar:<name> | stream:<n> (<lang>)
    subtitle_note: Mapped[str | None] = mapped_column(Text, nullable=True)  # why its own subtitles were not used
    sidecars: Mapped[str | None] = mapped_column(String(64), nullable=True)  # digest of the subtitle files beside it
    screen_note: Mapped[str | None] = mapped_column(Text, nullable=True)  # why on-screen text was not read
    screen_model: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the OCR model that read it
    languages: Mapped[list | None] = mapped_column(JSON, nullable=True)  # spoken, most first ("en", "de")
    speech_note: Mapped[str | None] = mapped_column(Text, nullable=True)  # speech its model could not transcribe
    face_model: Mapped[str | None] = mapped_column(String(64), nullable=True)  # what looked for faces (None: nothing)
    voice_model: Mapped[str | None] = mapped_column(String(64), nullable=True)  # what told voices apart (None: nothing)
    chapters_version: Mapped[str | None] = mapped_column(String(32), nullable=True)  # what computed its chapters
    summary: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [[start, end, sentence], ...] (indexer.chapters)

    segments: Mapped[list["Segment"]] = relationship(
        back_populates="video", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Segment.start",
    )
    transcript: Mapped[list["TranscriptLine"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="TranscriptLine.start"
    )
    screen: Mapped[list["ScreenTextLine"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ScreenTextLine.start"
    )
    copies: Mapped["CopyDescriptors | None"] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    faces: Mapped[list["FaceAppearance"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="FaceAppearance.start")
    speakers: Mapped[list["Speaker"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Speaker.number")
    chapters: Mapped[list["Chapter"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Chapter.start")


class Segment(Base):
    """One searchable segment of a video: whole sentences and one shot, 2-10 s by default."""

    __tablename__ = "segments"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are FAISS ids: never reuse them

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    transcript: Mapped[str] = mapped_column(Text, default="")
    frame_count: Mapped[int] = mapped_column(Integer, default=0)
    thumbnail_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    border: Mapped[float | None] = mapped_column(Float, nullable=True)  # strength of the cut at its start, 0-1+
    screen_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # the text on screen while it plays (OCR)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)  # its speech's
    rendering: Mapped[str | None] = mapped_column(Text, nullable=True)  # its speech in English, when not English
    grams: Mapped[str | None] = mapped_column(Text, nullable=True)  # CJK character pairs, for keywords (search.keyword)

    video: Mapped[Video] = relationship(back_populates="segments")
    vectors: Mapped[list["SegmentVector"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class TranscriptLine(Base):
    """What Whisper heard, with segment and word timestamps, kept apart from the segment cut."""

    __tablename__ = "transcript_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [[start, end, word], ...]
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ScreenTextLine(Base):
    """A line of text read off the screen (OCR): on screen from ``start`` until ``end`` (the next
    frame read), the recogniser's confidence, and where (x0, y0, x1, y1, fractions of the frame)."""

    __tablename__ = "screen_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    box: Mapped[list | None] = mapped_column(JSON, nullable=True)


class CopyDescriptors(Base):
    """A video's copy descriptors (``search.copies``): per informative sample and view (the whole
    frame, its centre) a perceptual hash and one of the view mirrored, packed (times float32,
    hashes uint64, little endian): 40 bytes per sample, ~288 KB per hour; and the sound's
    landmarks (times float32, values uint32: 8 bytes each, about 30 a second of sound; empty for a
    file without sound, NULL for descriptors taken before sound was)."""

    __tablename__ = "copy_descriptors"

    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(32))
    rate: Mapped[float] = mapped_column(Float)
    times: Mapped[bytes] = mapped_column(LargeBinary)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)
    mirrored: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # the frames' hashes mirrored
    sound_times: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sound_hashes: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    compared: Mapped[bool] = mapped_column(Boolean, default=False)  # its copy matches are in copy_matches

    @classmethod
    def packed(cls, copies: CopyHashes) -> "CopyDescriptors":
        sound = copies.sound_times is not None and copies.sound_hashes is not None
        return cls(method=copies.method, rate=float(copies.rate),
                   times=np.asarray(copies.times, "<f4").tobytes(),
                   hashes=np.asarray(copies.hashes, "<u8").tobytes(),
                   mirrored=np.asarray(copies.mirrored, "<u8").tobytes() if copies.mirrored is not None else None,
                   sound_times=np.asarray(copies.sound_times, "<f4").tobytes() if sound else None,
                   sound_hashes=np.asarray(copies.sound_hashes, "<u4").tobytes() if sound else None)

    def unpacked(self) -> CopyHashes:
        sound = self.sound_times is not None and self.sound_hashes is not None
        return CopyHashes(self.method, float(self.rate), np.frombuffer(self.times, "<f4").astype(np.float32),
                          np.frombuffer(self.hashes, "<u8").astype(np.uint64),
                          np.frombuffer(self.mirrored, "<u8").astype(np.uint64) if self.mirrored is not None else None,
                          np.frombuffer(self.sound_times, "<f4").astype(np.float32) if sound else None,
                          np.frombuffer(self.sound_hashes, "<u4").astype(np.uint32) if sound else None)


class Person(Base):
    """Someone whose face appears across the archive: the appearances clustered into one person
    (``search.people``), named, merged or split by users, whose choices clustering keeps. Its
    ``centre`` outlives its appearances, so a video indexed again finds its people again."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    centre: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # mean descriptor of its appearances
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class FaceAppearance(Base):
    """A face followed through a video (``indexer.faces``): when, where (shares of the frame),
    its 128-d descriptor (float32) and a small still (JPEG). Faces are personal data: a video's
    go with it."""

    __tablename__ = "face_appearances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    box: Mapped[list] = mapped_column(JSON)
    descriptor: Mapped[bytes] = mapped_column(LargeBinary)
    still: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sightings: Mapped[int] = mapped_column(Integer, default=1)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)  # a user put it in its person: clustering leaves it

    @classmethod
    def packed(cls, face: FaceSeen) -> "FaceAppearance":
        return cls(start=face.start, end=face.end, box=[round(float(v), 4) for v in face.box],
                   descriptor=np.asarray(face.descriptor, "<f4").tobytes(), still=face.still, sightings=face.sightings)


class Voice(Base):
    """Someone heard across the archive: the speakers of videos whose voices lie together
    (``core.voices``), named by users or through the person seen while it speaks. Its ``centre``
    outlives its speakers, so a video indexed again finds its voices again."""

    __tablename__ = "voices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True)
    centre: Mapped[bytes] = mapped_column(LargeBinary)  # unit mean of its speakers' vectors, weighted by time heard
    seconds: Mapped[float] = mapped_column(Float, default=0.0)  # heard in all, what the centre was made from
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Speaker(Base):
    """One voice in one video (``indexer.voices``): its number there (0 first heard), its turns
    ([[start, end], ...] seconds), its unit speaker vector (float32) and the archive's voice it is.
    Voices are personal data: a video's go with it."""

    __tablename__ = "speakers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    turns: Mapped[list] = mapped_column(JSON)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    seconds: Mapped[float] = mapped_column(Float)
    voice_id: Mapped[int | None] = mapped_column(ForeignKey("voices.id", ondelete="SET NULL"), nullable=True,
                                                 index=True)

    @classmethod
    def packed(cls, speaker: SpeakerHeard) -> "Speaker":
        return cls(number=speaker.number, turns=[[round(float(a), 2), round(float(b), 2)] for a, b in speaker.turns],
                   vector=np.asarray(speaker.vector, "<f4").tobytes(), seconds=round(float(speaker.seconds), 2))


class Chapter(Base):
    """One chapter of a video: [start, end) seconds and a title, ``computed`` by vidsearch
    (``indexer.chapters``) or the ``file``'s own chapter marks. A video may have both kinds."""

    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # computed | file
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(Text)

    @classmethod
    def packed(cls, mark: ChapterMark) -> "Chapter":
        return cls(source=mark.source, start=round(float(mark.start), 3), end=round(float(mark.end), 3),
                   title=mark.title)

    def mark(self) -> ChapterMark:
        return ChapterMark(self.start, self.end, self.title, self.source)


class CopyMatch(Base):
    """Footage two videos share: ``video_id``'s [start, end) is ``other_id``'s [other_start,
    other_end). Found when the later of the two was compared with the archive; goes with either."""

    __tablename__ = "copy_matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    other_start: Mapped[float] = mapped_column(Float)
    other_end: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[float] = mapped_column(Float)
    change: Mapped[str | None] = mapped_column(String(32), nullable=True)  # what the copy changed, when known ("mirrored", "speed 1.05x")
    witness: Mapped[str | None] = mapped_column(String(20), nullable=True)  # what found it; NULL: the picture


class SegmentVector(Base):
    """A segment's vector in one space; the FAISS indexes are rebuilt from these rows."""

    __tablename__ = "segment_vectors"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    space: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little endian


class ModelVersion(Base):
    """Which model produced a space's vectors; vectors of different models must not mix."""

    __tablename__ = "model_versions"

    space: Mapped[str] = mapped_column(String(16), primary_key=True)
    model: Mapped[str] = mapped_column(Text)
    dim: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    params: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # fused: {"visual": w, "speech": w}


class CatalogState(Base):
    """Counters of the catalog as a whole; ``generation`` grows with every change to the vectors."""

    __tablename__ = "catalog_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Job(Base):
    """One indexing run over some roots; an interrupted job is resumed by the next run.

    ``origin`` says who started it: ``cli`` jobs are taken up by the next ``vidsearch index``
    over the same roots, ``api`` jobs by the server (queued ones too) when it starts again.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    roots: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="running")  # queued | running | done | failed
    origin: Mapped[str] = mapped_column(String(16), default="cli")  # cli | api
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why a failed job failed
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the server running an api job
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # its claim's last renewal
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    files: Mapped[list["JobFile"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class JobFile(Base):
    """A file's state in a job: pending, running, done, skipped or failed (with stage and reason)."""

    __tablename__ = "job_files"
    __table_args__ = (UniqueConstraint("job_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    duration: Mapped[float] = mapped_column(Float, default=0.0)  # seconds of media
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets searches read while an indexer writes; foreign keys make deletes cascade.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, creates the parent folder and sets the pragmas."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True)


def _migrations_dir() -> Path:
    spec = importlib.util.find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise VidsearchError("the vidsearch 'migrations' package is missing; reinstall vidsearch")
    return Path(next(iter(spec.submodule_search_locations)))


SCHEMA_HEAD = "0016"  # the newest revision in migrations/versions (a test holds the two together)


def schema_revision(engine: Engine) -> str | None:
    """The catalog's Alembic revision; None for a new (or foreign) database."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def upgrade_schema(engine: Engine) -> None:
    """Bring the catalog schema to the newest Alembic revision.

    A catalog already there is recognised by one query: Alembic (its import and the reading of
    every migration script) is loaded only when there is something to do, not on every query."""
    if schema_revision(engine) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def recorded_model(url: str, space: str) -> str | None:
    """The model a catalog's ``space`` vectors come from, read without creating or migrating
    anything; None for a new or unreadable catalog."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(ModelVersion.model).where(ModelVersion.space == space)).scalar()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def open_catalog(url: str) -> sessionmaker:
    """Open (creating or migrating as needed) the catalog at ``url``; returns a session factory."""
    engine = make_engine(url)
    upgrade_schema(engine)
    return sessionmaker(engine, expire_on_commit=False)
