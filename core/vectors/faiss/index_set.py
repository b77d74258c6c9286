"""A library's FAISS indexes: one file per space in the data dir, kept equal to the catalog.

Each file is saved atomically with the catalog generation whose vectors it holds; its type
(exact, HNSW, IVF) is chosen by size and memory budget, and rebuilt when that choice changes.
"""
from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...catalog import ModelVersion, SegmentVector
from ...catalog_reads import catalog_count, catalog_dims, catalog_ids, catalog_vectors
from ...settings import Settings
from ..protocol import Added, IndexSet, Removed
from ..spaces import INDEXED
from . import VectorIndex, build_index, gpu_count, load_index, make_index, rebuild_reason, target_kind

log = logging.getLogger(__name__)

REBUILD_INLINE_MAX = 100_000  # a rebuild of this many vectors takes seconds; larger ones wait for open


class FaissIndexSet(IndexSet):
    """One FAISS index file per space in ``settings.index_dir``, its type chosen by size and budget.

    ``exact_vectors(space, ids)`` reads full vectors from the catalog: compressed indexes re-score
    their candidates with them. ``read_only``: files that hold the catalog's vectors are mapped
    into memory, not read (``persist.read``); one that does not is read whole and repaired as
    always, and taking writes is refused."""

    def __init__(self, settings: Settings, exact_vectors: Callable[[str, object], tuple[np.ndarray, np.ndarray]],
                 read_only: bool = False):
        self.settings = settings
        self.read_only = read_only
        self.index_dir = settings.index_dir
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.exact_vectors = exact_vectors
        self.indexes: dict[str, VectorIndex] = {}
        self._unsaved: dict[str, int | None] = {}  # space -> the generation its unsaved index holds
        self._saved_at = 0.0

    def _path(self, space: str) -> Path:
        return self.index_dir / f"{space}.faiss"

    def _load(self, space: str, dim: int | None, mapped: bool = False) -> VectorIndex | None:
        for candidate in (self._path(space), self._path(space).with_suffix(".faiss.prev")):
            if not candidate.exists():
                continue
            try:
                index = load_index(candidate, mapped)
            except Exception as exc:  # a torn or foreign file: fall back, then rebuild
                log.warning("cannot read %s (%s); trying the previous copy", candidate, exc)
                continue
            if dim is None or index.dim == dim:
                return index
            log.warning("%s has dimension %d, catalog says %d; rebuilding", candidate, index.dim, dim)
        return None

    def reconcile(self, session: Session, generation: int) -> dict[str, tuple[int, int]]:
        """A file saved at ``generation`` holds exactly the catalog's vectors (every change to them
        bumps the generation, under the library's write lock), so it is taken as it is: a query
        process does not read every id. Any other file is compared id by id and repaired."""
        changes = {}
        dims = catalog_dims(session)
        self._unsaved.clear()  # what is read now holds every write the catalog has
        for space in INDEXED:
            dim = dims.get(space)
            index = self._load(space, dim, mapped=self.read_only)
            if index is not None and index.meta.get("generation") == generation and not self._rebuild_reason(index):
                self._adopt(space, index)
                changes[space] = (0, 0)
                continue
            if index is not None and self.read_only:  # to be repaired: a mapped index cannot change
                index = self._load(space, dim)
            rebuilt = False
            if index is None:
                if dim is None:
                    continue
                index, rebuilt = self._build_from_catalog(session, space, dim), True
            truth = catalog_ids(session, space)
            present = set(index.ids().tolist())
            extra = present - truth
            missing = sorted(truth - present)
            index.remove(np.fromiter(extra, np.int64, len(extra)))
            for start in range(0, len(missing), 10_000):
                index.add(*catalog_vectors(session, space, missing[start:start + 10_000]))
            reason = self._rebuild_reason(index)
            if reason:
                log.info("rebuilding the %s index: %s", space, reason)
                index, rebuilt = self._build_from_catalog(session, space, index.dim), True
            self._adopt(space, index)
            if extra or missing or rebuilt or index.meta.get("generation") != generation:
                self._save(session, space, index, generation)
                log.info("reconciled %s index: +%d -%d", space, len(missing), len(extra))
            changes[space] = (len(missing), len(extra))
        return changes

    def apply(self, session: Session, removed: Removed, added: Added, generation: int | None) -> None:
        self._writable()
        touched = set()
        for space in INDEXED:
            gone = removed.get(space, []) if isinstance(removed, dict) else removed
            ids, vectors = added.get(space, ([], None))
            index = self.indexes.get(space)
            if index is None and ids:
                index = self._adopt(space, make_index("flat", vectors.shape[1]))
            if index is None:
                continue
            if gone and index.remove(gone):
                touched.add(space)
            if ids:
                index.add(ids, vectors)
                touched.add(space)
        for space in touched:
            index = self.indexes[space]
            reason = self._rebuild_reason(index)
            if reason and len(index) <= REBUILD_INLINE_MAX:
                log.info("rebuilding the %s index: %s", space, reason)
                index = self._adopt(space, self._build_from_catalog(session, space, index.dim))
            elif reason:
                log.warning("the %s index should be rebuilt (%s); it will be when the library "
                            "is next opened", space, reason)
            self._unsaved[space] = generation
        if time.monotonic() - self._saved_at >= self.save_every:
            self.flush(session)

    def flush(self, session: Session) -> None:
        """Save every index a write changed since the last save. Between saves a file is behind
        the catalog, which is safe: a later open (after a crash, say) finds its generation old and
        adds the missing vectors from the catalog, as ``reconcile`` does for any stale file."""
        for space, generation in self._unsaved.items():
            if space in self.indexes:
                self._save(session, space, self.indexes[space], generation)
        self._unsaved.clear()
        self._saved_at = time.monotonic()

    def rebuild(self, session: Session, space: str, generation: int) -> None:
        self._writable()
        dim = session.scalar(select(ModelVersion.dim).where(ModelVersion.space == space))
        if dim is None:
            return
        index = self._adopt(space, self._build_from_catalog(session, space, dim))
        self._unsaved.pop(space, None)
        self._save(session, space, index, generation)

    def check(self, session: Session) -> dict[str, dict]:
        """Per space: catalog vector count, index count, ids missing from the index, ids in the
        index without a catalog row, duplicate ids, unreadable file, wrong dimension."""
        report = {}
        dims = catalog_dims(session)
        for space in INDEXED:
            truth = catalog_ids(session, space)
            path = self._path(space)
            index = None
            if path.exists():
                try:
                    index = load_index(path)
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

    # --- the FAISS side
    def _writable(self) -> None:
        if self.read_only:  # the library refuses first; this guards the mapped indexes whoever calls
            raise RuntimeError("these indexes were opened read-only (for queries); they take no writes")

    def _save(self, session: Session, space: str, index: VectorIndex, generation: int | None) -> None:
        """Save with the catalog generation whose vectors the file holds (None: unknown)."""
        model = session.scalar(select(ModelVersion.model).where(ModelVersion.space == space))
        index.save(self._path(space), {"model": model, "generation": generation})

    def _budget(self) -> int:
        return self.settings.index_memory_budget_mb << 20

    def _gpu(self) -> bool:
        return self.settings.device != "cpu" and gpu_count() > 0

    def _rebuild_reason(self, index: VectorIndex) -> str | None:
        return rebuild_reason(index, self.settings.index_kind, self._budget(), self._gpu())

    def _adopt(self, space: str, index: VectorIndex) -> VectorIndex:
        """Make ``index`` the live one of ``space``: on its device, re-ranking from the catalog."""
        index.to_device(self.settings.device)
        index.exact_source = functools.partial(self.exact_vectors, space)
        self.indexes[space] = index
        return index

    def _build_from_catalog(self, session: Session, space: str, dim: int) -> VectorIndex:
        """``space``'s index built from every catalog vector, of the type its size calls for."""
        count = catalog_count(session, space)
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
