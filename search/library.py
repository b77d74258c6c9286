"""The library: the catalog and the vector indexes of one data dir, kept consistent.

Writes go catalog first (one transaction per video, vectors included), then the indexes, which
are saved atomically. A crash between the two leaves rows without vectors in the index; opening
the library reconciles each index with the catalog (no vector without a row, no row without a
vector), so nothing is lost or orphaned.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import dataclasses
import fcntl
import functools
import logging
from pathlib import Path
from typing import Iterator

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from .catalog import (SPACES, CatalogState, ModelVersion, Segment, SegmentVector, TranscriptLine, Video,
                      open_catalog)
from .errors import NotFound, VidsearchError
from .settings import Settings
from .store import VectorIndex, build_index, gpu_count, make_index, normalize, rebuild_reason, target_kind

log = logging.getLogger(__name__)

REBUILD_INLINE_MAX = 100_000  # a rebuild of this many vectors takes seconds; larger ones wait for open


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
    vectors: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


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
    segments: list[NewSegment] = dataclasses.field(default_factory=list)
    transcript: list[tuple[float, float, str, list]] = dataclasses.field(default_factory=list)
    models: dict[str, tuple[str, int]] = dataclasses.field(default_factory=dict)  # space -> (model, dim)
    fusion: tuple[float, float] | None = None  # (visual, speech) weights of the fused vectors


class Library:
    """One data dir: the catalog session factory plus one ``VectorIndex`` per space."""

    def __init__(self, settings: Settings, reconcile: bool = True):
        self.settings = settings
        self.sessions: sessionmaker = open_catalog(settings.catalog_url)
        self.index_dir = settings.index_dir
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.indexes: dict[str, VectorIndex] = {}
        self.seen_generation: int | None = None  # the catalog generation these indexes match
        if reconcile:  # only `vidsearch check` looks at the files as they are, before repair
            self.reconcile()

    # --- consistency
    def _index_path(self, space: str) -> Path:
        return self.index_dir / f"{space}.faiss"

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Serialise index writers across processes sharing the data dir."""
        with open(self.index_dir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load_index(self, space: str, dim: int | None) -> VectorIndex | None:
        for candidate in (self._index_path(space), self._index_path(space).with_suffix(".faiss.prev")):
            if not candidate.exists():
                continue
            try:
                index = VectorIndex.load(candidate)
            except Exception as exc:  # a torn or foreign file: fall back, then rebuild
                log.warning("cannot read %s (%s); trying the previous copy", candidate, exc)
                continue
            if dim is None or index.dim == dim:
                return index
            log.warning("%s has dimension %d, catalog says %d; rebuilding", candidate, index.dim, dim)
        return None

    def reconcile(self) -> dict[str, tuple[int, int]]:
        """Make every index hold exactly the catalog's vectors; returns {space: (added, removed)}.

        An index file saved at the catalog's current generation holds exactly its vectors (every
        change to them bumps the generation, under the write lock), so it is taken as it is: a
        query process does not read every id. Any other file is compared id by id and repaired."""
        changes = {}
        with self._write_lock(), self.sessions() as session:
            self.seen_generation = _generation(session)  # read first: a later change is seen next time
            dims = dict(session.execute(select(ModelVersion.space, ModelVersion.dim)).all())
            for space in SPACES:
                dim = dims.get(space)
                index = self._load_index(space, dim)
                if index is not None and index.meta.get("generation") == self.seen_generation and \
                        not rebuild_reason(index, self.settings.index_kind, self._budget(), self._gpu()):
                    self._adopt(space, index)
                    changes[space] = (0, 0)
                    continue
                rebuilt = False
                if index is None:
                    if dim is None:
                        continue
                    index, rebuilt = self._build_from_catalog(session, space, dim), True
                truth = set(
                    session.scalars(select(SegmentVector.segment_id).where(SegmentVector.space == space))
                )
                present = set(index.ids().tolist())
                extra = present - truth
                missing = sorted(truth - present)
                index.remove(np.fromiter(extra, np.int64, len(extra)))
                for start in range(0, len(missing), 10_000):
                    index.add(*_catalog_vectors(session, space, missing[start:start + 10_000]))
                reason = rebuild_reason(index, self.settings.index_kind, self._budget(), self._gpu())
                if reason:
                    log.info("rebuilding the %s index: %s", space, reason)
                    index, rebuilt = self._build_from_catalog(session, space, index.dim), True
                self._adopt(space, index)
                if extra or missing or rebuilt or index.meta.get("generation") != self.seen_generation:
                    self._save_index(session, space, index, self.seen_generation)
                    log.info("reconciled %s index: +%d -%d", space, len(missing), len(extra))
                changes[space] = (len(missing), len(extra))
        return changes

    def generation(self) -> int:
        """The catalog's generation: it grows with every change to the vectors, by any process."""
        with self.sessions() as session:
            return _generation(session)

    def refresh_if_changed(self) -> bool:
        """Reconcile with the catalog when another process (or library) changed it; True if so."""
        if self.generation() == self.seen_generation:
            return False
        self.reconcile()
        return True

    @staticmethod
    def bump(session: Session) -> int:
        """Count a change to the vectors, inside the writing transaction; returns the new generation."""
        return int(session.scalar(update(CatalogState).where(CatalogState.name == "generation")
                                  .values(value=CatalogState.value + 1).returning(CatalogState.value)))

    def _advance(self, generation: int) -> None:
        """After this library's write took the catalog to ``generation``: its indexes match it when
        they matched the one before; else another process wrote since they were read, and they
        match no generation (saved so, they are repaired on the next open or refresh)."""
        self.seen_generation = generation if self.seen_generation == generation - 1 else None

    def _save_index(self, session: Session, space: str, index: VectorIndex, generation: int | None) -> None:
        """Save ``index`` with the catalog generation whose vectors it holds (None: unknown)."""
        index.save(self._index_path(space), {"model": self._model_of(session, space), "generation": generation})

    @staticmethod
    def _model_of(session: Session, space: str) -> str | None:
        return session.scalar(select(ModelVersion.model).where(ModelVersion.space == space))

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

    def fused_weights(self) -> tuple[float, float] | None:
        """(visual, speech) weights of the catalog's fused vectors, when recorded."""
        with self.sessions() as session:
            params = session.scalar(select(ModelVersion.params).where(ModelVersion.space == "fused"))
        return (float(params["visual"]), float(params["speech"])) if params else None

    def write_video(self, record: NewVideo) -> int:
        """Store one indexed file (replacing an earlier version of the same path); returns its id."""
        with self._write_lock():
            with self.sessions.begin() as session:
                self._check_models(session, record.models, record.fusion)
                old_ids = self._delete_path(session, record.path)
                video = Video(
                    **{f.name: getattr(record, f.name) for f in dataclasses.fields(record)
                       if f.name not in ("segments", "transcript", "models", "fusion")},
                    status="indexed",
                )
                session.add(video)
                for start, end, text, words in record.transcript:
                    video.transcript.append(TranscriptLine(start=start, end=end, text=text, words=words))
                rows = []
                for ordinal, seg in enumerate(record.segments):
                    row = Segment(
                        ordinal=ordinal, start=seg.start, end=seg.end, transcript=seg.transcript,
                        frame_count=seg.frame_count, thumbnail_time=seg.thumbnail_time, border=seg.border,
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
            self._advance(generation)
            self._apply_to_indexes(old_ids, rows)
            return video_id

    def _apply_to_indexes(self, old_ids: list[int], rows: list[tuple[Segment, NewSegment]]) -> None:
        touched = set()
        for space in SPACES:
            pairs = [(row.id, seg.vectors[space]) for row, seg in rows if space in seg.vectors]
            index = self.indexes.get(space)
            if index is None and pairs:
                index = self._adopt(space, make_index("flat", len(pairs[0][1])))
            if index is None:
                continue
            if old_ids and index.remove(old_ids):
                touched.add(space)
            if pairs:
                index.add([p[0] for p in pairs], np.stack([p[1] for p in pairs]))
                touched.add(space)
        self._save(touched)

    def _save(self, spaces) -> None:
        with self.sessions() as session:
            for space in spaces:
                index = self.indexes[space]
                reason = rebuild_reason(index, self.settings.index_kind, self._budget(), self._gpu())
                if reason and len(index) <= REBUILD_INLINE_MAX:
                    log.info("rebuilding the %s index: %s", space, reason)
                    index = self._adopt(space, self._build_from_catalog(session, space, index.dim))
                elif reason:
                    log.warning("the %s index should be rebuilt (%s); it will be when the library "
                                "is next opened", space, reason)
                self._save_index(session, space, index, self.seen_generation)

    def rebuild(self, space: str) -> None:
        """Build ``space``'s index again from the catalog's vectors (after they were rewritten)."""
        with self._write_lock(), self.sessions() as session:
            dim = session.scalar(select(ModelVersion.dim).where(ModelVersion.space == space))
            if dim is None:
                return
            index = self._adopt(space, self._build_from_catalog(session, space, dim))
            self._save_index(session, space, index, _generation(session))

    # --- index types
    def _budget(self) -> int:
        return self.settings.index_memory_budget_mb << 20

    def _gpu(self) -> bool:
        return self.settings.device != "cpu" and gpu_count() > 0

    def _build_from_catalog(self, session: Session, space: str, dim: int) -> VectorIndex:
        """``space``'s index built from every catalog vector, of the type its size calls for."""
        count = session.scalar(
            select(func.count()).select_from(SegmentVector).where(SegmentVector.space == space)) or 0
        ids = np.empty(count, np.int64)
        vectors = np.empty((count, dim), np.float32)  # preallocated: no list of 7M small arrays
        rows = session.execute(
            select(SegmentVector.segment_id, SegmentVector.vector)
            .where(SegmentVector.space == space)
            .execution_options(yield_per=50_000)
        )
        filled = 0
        for segment_id, blob in rows:
            if filled == count:
                break
            ids[filled], vectors[filled] = segment_id, np.frombuffer(blob, dtype=np.float32)
            filled += 1
        ids, vectors = ids[:filled], vectors[:filled]
        kind = target_kind(self.settings.index_kind, filled, dim, self._budget(), self._gpu())
        if filled == 0:
            return make_index("flat", dim)
        return build_index(kind, ids, vectors, recall_target=self.settings.index_recall_target,
                           memory_budget_bytes=self._budget(), device=self.settings.device,
                           exact_source=functools.partial(self.exact_vectors, space))

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
                self._advance(generation)
            self._apply_to_indexes(old_ids, [])

    def remove_video(self, video_id: int) -> bool:
        with self._write_lock():
            with self.sessions.begin() as session:
                video = session.get(Video, video_id)
                if video is None:
                    return False
                old_ids = self._delete_path(session, video.path)
                generation = self.bump(session)
            self._advance(generation)
            self._apply_to_indexes(old_ids, [])
            return True

    def touch(self, video_id: int, size: int, mtime: float) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        with self.sessions.begin() as session:
            video = session.get(Video, video_id)
            video.size, video.mtime = size, mtime

    def set_tags(self, video_id: int, add: list[str] = (), remove: list[str] = ()) -> list[str]:
        """Tags are the user's own labels, used by search filters; returns the video's tags."""
        with self.sessions.begin() as session:
            video = session.get(Video, video_id)
            if video is None:
                raise NotFound(f"there is no video {video_id} in the catalog")
            tags = [t for t in (video.tags or []) if t not in set(remove)]
            tags += [t for t in add if t not in tags]
            video.tags = tags
            return tags

    def repoint(self, video_id: int, path: str, size: int, mtime: float) -> None:
        """A moved file keeps its segments and vectors; only its path changes."""
        with self.sessions.begin() as session:
            video = session.get(Video, video_id)
            video.path, video.size, video.mtime = path, size, mtime

    # --- reads
    def moved_video(self, fingerprint: str) -> Video | None:
        """An indexed video with this content whose file is no longer where the catalog says."""
        with self.sessions() as session:
            for video in session.scalars(select(Video).where(
                    Video.fingerprint == fingerprint, Video.status == "indexed")):
                if not Path(video.path).exists():
                    return video
        return None

    def check(self) -> dict[str, dict]:
        """Compare the catalog with the index files on disk (as a fresh open would read them).

        Per space: catalog vector count, index count, ids missing from the index, ids in the index
        without a catalog row, duplicate ids. ``reconcile()`` repairs all of these.
        """
        report = {}
        with self.sessions() as session:
            dims = dict(session.execute(select(ModelVersion.space, ModelVersion.dim)).all())
            for space in SPACES:
                truth = set(session.scalars(
                    select(SegmentVector.segment_id).where(SegmentVector.space == space)))
                path = self._index_path(space)
                index = None
                if path.exists():
                    try:
                        index = VectorIndex.load(path)
                    except Exception:
                        index = None
                ids = index.ids().tolist() if index is not None else []
                present = set(ids)
                report[space] = {
                    "catalog": len(truth), "index": len(ids),
                    "missing": sorted(truth - present), "orphans": sorted(present - truth),
                    "duplicates": len(ids) - len(present),
                    "unreadable": path.exists() and index is None,
                    "wrong_dim": index is not None and space in dims and index.dim != dims[space],
                }
        return report

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

    def moment_rows(self, ids) -> dict[int, tuple[str, int, float, float, str, float | None]]:
        """segment id -> (video path, video id, start, end, transcript, border): what a search
        result shows (and where a moment may grow), read as plain rows: without ORM objects,
        since this is on every search's path."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        with self.sessions() as session:
            rows = session.execute(
                select(Segment.id, Video.path, Video.id, Segment.start, Segment.end, Segment.transcript,
                       Segment.border)
                .join(Video, Segment.video_id == Video.id).where(Segment.id.in_(ids)))
            return {row[0]: tuple(row[1:]) for row in rows}

    def exact_vectors(self, space: str, ids) -> tuple[np.ndarray, np.ndarray]:
        """(ids found, their vectors) of ``space`` from the catalog, which keeps every vector exactly."""
        with self.sessions() as session:
            return _catalog_vectors(session, space, ids)

    def _adopt(self, space: str, index: VectorIndex) -> VectorIndex:
        """Make ``index`` the live one of ``space``: on its device, re-ranking from the catalog."""
        index.to_device(self.settings.device)
        index.exact_source = functools.partial(self.exact_vectors, space)
        self.indexes[space] = index
        return index

    def has_vectors(self, spaces) -> bool:
        """Whether any of ``spaces`` holds vectors (as of the last reconcile)."""
        return any(len(self.indexes.get(space, ())) for space in spaces)

    def vector(self, segment_id: int, space: str) -> np.ndarray | None:
        found, rows = self.exact_vectors(space, [segment_id])
        return rows[0] if len(found) else None

    def videos(self, status: str | None = None) -> list[Video]:
        with self.sessions() as session:
            query = select(Video).order_by(Video.path)
            if status:
                query = query.where(Video.status == status)
            return list(session.scalars(query))

    def asr_models(self) -> dict[str, int]:
        """{speech model: videos it transcribed}; "none" for videos without speech or indexed
        before the model was recorded."""
        with self.sessions() as session:
            rows = session.execute(select(Video.asr_model, func.count()).where(Video.status == "indexed")
                                   .group_by(Video.asr_model)).all()
        return {model or "none": count for model, count in sorted(rows, key=lambda r: -r[1])}

    def counts(self) -> "LibraryCounts":
        with self.sessions() as session:
            by_status = dict(session.execute(select(Video.status, func.count()).group_by(Video.status)).all())
            segments = session.scalar(select(func.count()).select_from(Segment)) or 0
            frames = session.scalar(select(func.sum(Segment.frame_count))) or 0
        return LibraryCounts(indexed=by_status.get("indexed", 0), failed=by_status.get("failed", 0),
                             segments=segments, frames=int(frames),
                             vectors={space: len(index) for space, index in self.indexes.items()})


def _generation(session: Session) -> int:
    return int(session.scalar(select(CatalogState.value).where(CatalogState.name == "generation")) or 0)


def _catalog_vectors(session: Session, space: str, ids) -> tuple[np.ndarray, np.ndarray]:
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
