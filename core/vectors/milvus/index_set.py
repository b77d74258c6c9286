"""The index set on Milvus: one collection per space, shared by every server and indexer.

With FAISS each process holds its own copy of every vector; with Milvus the vectors live in one
place (a milvus-lite file, a standalone server or a cluster) and any number of search servers
and indexing runs read and write it. The catalog stays the truth, and the same contract holds:
``reconcile`` makes the collections equal to the catalog's vectors, ``check`` reports how they
differ, both a range of ids at a time (no space is ever read into memory whole).

Which catalog generation the collections hold is recorded in the catalog (``catalog_state``,
one row per Milvus deployment and prefix): a writer moves it from G-1 to G after writing its
change to Milvus, and only if it still reads G-1, so a recorded G always means "every change up
to G is in Milvus". An open or refresh that finds the recorded generation equal to the
catalog's does not read a single id; any other finds the differences range by range and repairs
them. Orphans (vectors without a row) are removed only after the catalog is asked again, so a
writer whose rows were committed a moment ago never loses its vectors to a concurrent repair.
"""
from __future__ import annotations

import hashlib
import logging

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...catalog import CatalogState, Segment, SegmentVector
from ...catalog_reads import catalog_count, catalog_dims, catalog_ids, catalog_vectors
from ...settings import Settings
from ..faiss.choose import HYSTERESIS
from ..protocol import Added, IndexSet, Removed
from ..spaces import INDEXED
from .index import ID_RANGE, MAX_TOPK, WRITE_BATCH, MilvusIndex, answering, connect, index_params

log = logging.getLogger(__name__)


def milvus_uri(settings: Settings) -> str:
    """Where the collections live: the setting, else a milvus-lite file in the data dir."""
    return settings.milvus_uri or str(settings.data_dir / "milvus.db")


class MilvusIndexSet(IndexSet):
    """``IndexSet`` over Milvus collections named ``<prefix>_<space>``."""

    shared = True  # every writer's changes land in the same store (see Library._apply)

    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        self.uri = uri = milvus_uri(settings)
        self.client = client if client is not None else connect(uri, settings.milvus_token, settings.milvus_database)
        self.prefix = settings.milvus_prefix
        where = f"{uri}|{settings.milvus_database or ''}|{self.prefix}"
        self.state_name = "milvus " + hashlib.sha1(where.encode()).hexdigest()[:12]
        self.indexes: dict[str, MilvusIndex] = {}

    def collection(self, space: str, dim: int) -> MilvusIndex:
        return MilvusIndex(self.client, f"{self.prefix}_{space}", dim)

    # --- the four calls
    def reconcile(self, session: Session, generation: int) -> dict[str, tuple[int, int]]:
        changes = {}
        in_step = self.recorded(session) == generation
        dims = catalog_dims(session)
        for space in INDEXED:
            index = self._open(session, space, dims.get(space))
            if index is None:
                continue
            if in_step:
                index.refresh()
                changes[space] = (0, 0)
                continue
            changes[space] = self._repair(session, space, index)
            self._resize(index)
        self._record(session, generation, only_from=None)
        return changes

    def apply(self, session: Session, removed: Removed, added: Added, generation: int | None) -> None:
        with answering(self.uri):
            self._apply(session, removed, added, generation)

    def _apply(self, session: Session, removed: Removed, added: Added, generation: int | None) -> None:
        for space in INDEXED:
            gone = removed.get(space, []) if isinstance(removed, dict) else removed
            ids, vectors = added.get(space, ([], None))
            index = self.indexes.get(space)
            if index is None and len(ids):
                index = self._adopt(space, self.collection(space, vectors.shape[1]).create())
            if index is None:
                continue
            if len(gone):
                index.remove(gone)
            if len(ids):
                index.add(ids, vectors, _video_ids(session, ids))
            if len(gone) or len(ids):
                self._resize(index)
        if generation is not None:
            self._record(session, generation, only_from=generation - 1)

    def rebuild(self, session: Session, space: str, generation: int) -> None:
        dim = catalog_dims(session).get(space)
        old = self.indexes.pop(space, None) or (self.collection(space, dim) if dim else None)
        if old is not None:
            old.drop()
        if dim is None:
            return
        count = catalog_count(session, space)
        index = self._adopt(space, self.collection(space, dim).create(*index_params(count, dim, *self._budget())))
        top = session.scalar(select(func.max(SegmentVector.segment_id)).where(SegmentVector.space == space)) or 0
        for low in range(0, top + 1, WRITE_BATCH):
            self._add_from_catalog(session, space, index, _catalog_ids_between(session, space, low, low + WRITE_BATCH))
        index.refresh()

    def check(self, session: Session) -> dict[str, dict]:
        report = {}
        dims = catalog_dims(session)
        for space in INDEXED:
            index = self.collection(space, dims.get(space, 0))
            stored_dim = index.dimension()
            missing, orphans = [], []
            if stored_dim is not None:
                index.ensure_loaded()  # reads only; a restarted engine holds collections released
                for low, truth, present in self._ranges(session, space, index):
                    missing += sorted(truth - present)
                    orphans += sorted(present - truth)
            else:
                missing = sorted(catalog_ids(session, space))
            catalog = catalog_count(session, space)
            report[space] = {
                "catalog": catalog, "index": len(index) if stored_dim is not None else 0,
                "missing": missing, "orphans": orphans, "duplicates": 0, "unreadable": False,
                "wrong_dim": stored_dim is not None and space in dims and stored_dim != dims[space],
            }
        return report

    # --- the recorded generation
    def recorded(self, session: Session) -> int | None:
        """The catalog generation the collections are known to hold (None: never recorded)."""
        return session.scalar(select(CatalogState.value).where(CatalogState.name == self.state_name))

    def _record(self, session: Session, generation: int, only_from: int | None) -> None:
        """Record ``generation``: after a write, only when the record still says ``only_from``
        (the generation before it); after a repair, unless a writer already recorded a later one."""
        if only_from is not None:
            condition = CatalogState.value == only_from
        else:
            condition = CatalogState.value < generation
        result = session.execute(update(CatalogState).where(CatalogState.name == self.state_name, condition)
                                 .values(value=generation))
        if result.rowcount == 0 and only_from is None and self.recorded(session) is None:
            try:
                with session.begin_nested():
                    session.execute(insert(CatalogState).values(name=self.state_name, value=generation))
            except IntegrityError:  # another process recorded first: its record stands
                pass
        session.commit()

    # --- the Milvus side
    def _budget(self) -> tuple[int, bool]:
        return self.settings.index_memory_budget_mb << 20, self.settings.milvus_gpu

    def _adopt(self, space: str, index: MilvusIndex) -> MilvusIndex:
        self.indexes[space] = index
        return index

    def _open(self, session: Session, space: str, dim: int | None) -> MilvusIndex | None:
        """The collection of ``space`` with the catalog's dimension ``dim`` (dropped and made
        again when it has another one; dropped when the catalog has no such space). An existing
        collection is not counted here: an open in step reads nothing it need not."""
        index = self.collection(space, dim or 0)
        stored = index.dimension()
        if dim is None:
            if stored is not None:
                log.info("dropping Milvus collection %s: the catalog has no %s vectors", index.name, space)
                index.drop()
            self.indexes.pop(space, None)
            return None
        if stored is not None and stored != dim:
            log.warning("Milvus collection %s has dimension %d, catalog says %d; rebuilding", index.name, stored, dim)
            index.drop()
        if stored != dim:
            index.create(*index_params(catalog_count(session, space), dim, *self._budget()))
        elif index.ensure_loaded():
            self._resize(index)
        return self._adopt(space, index)

    def _ranges(self, session: Session, space: str, index: MilvusIndex):
        """(low, catalog ids, Milvus ids) for each id range, then for every id above the catalog's."""
        top = session.scalar(select(func.max(SegmentVector.segment_id)).where(SegmentVector.space == space)) or 0
        for low in range(0, top + 1, ID_RANGE):
            high = min(top + 1, low + ID_RANGE)
            yield low, _catalog_ids_between(session, space, low, high), set(index.ids_between(low, high))
        while True:  # vectors above the catalog's largest id: orphans, in pages
            above = self.client.query(index.name, filter=f"id > {top}", output_fields=["id"], limit=MAX_TOPK)
            if not above:
                return
            yield top + 1, set(), {int(row["id"]) for row in above}
            top = max(int(row["id"]) for row in above)

    def _repair(self, session: Session, space: str, index: MilvusIndex) -> tuple[int, int]:
        added = removed = 0
        for _, truth, present in self._ranges(session, space, index):
            missing = sorted(truth - present)
            if missing:
                added += self._add_from_catalog(session, space, index, missing)
            extra = present - truth
            if extra:  # ask again: rows committed since the range was read keep their vectors
                session.commit()
                extra -= set(session.scalars(select(SegmentVector.segment_id).where(
                    SegmentVector.space == space, SegmentVector.segment_id.in_(sorted(extra)))))
                removed += index.remove(sorted(extra))
        if added or removed:
            log.info("reconciled Milvus %s: +%d -%d", index.name, added, removed)
        index.refresh()
        return added, removed

    def _add_from_catalog(self, session: Session, space: str, index: MilvusIndex, ids) -> int:
        found, vectors = catalog_vectors(session, space, ids)
        if len(found):
            index.add(found, vectors, _video_ids(session, found))
        return len(found)

    def _resize(self, index: MilvusIndex) -> None:
        """Move the collection to the index type its size calls for (with the FAISS side's margin)."""
        n = len(index)
        budget, gpu = self._budget()
        now, _ = index.index_type()
        around = {index_params(int(x), index.dim, budget, gpu)[0] for x in (n / HYSTERESIS, n, n * HYSTERESIS)}
        if now in around:
            return
        wanted, build = index_params(n, index.dim, budget, gpu)
        log.info("Milvus collection %s: %d vectors, moving from %s to %s", index.name, n, now, wanted)
        index.reindex(wanted, build)
        index.params.clear()


def _video_ids(session: Session, ids) -> list[int]:
    """The video of each segment in ``ids``, in that order."""
    ids = [int(i) for i in ids]
    owner = {}
    for at in range(0, len(ids), 5000):
        owner.update(session.execute(select(Segment.id, Segment.video_id).where(Segment.id.in_(ids[at:at + 5000]))).all())
    return [owner.get(i, 0) for i in ids]


def _catalog_ids_between(session: Session, space: str, low: int, high: int) -> set[int]:
    """The ids with a vector in ``space`` in [low, high)."""
    return set(session.scalars(select(SegmentVector.segment_id).where(
        SegmentVector.space == space, SegmentVector.segment_id >= low, SegmentVector.segment_id < high)))


__all__ = ["MilvusIndexSet", "milvus_uri"]
