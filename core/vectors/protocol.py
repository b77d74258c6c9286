"""What the library asks of a vector store, whatever the backend.

``NearestIndex`` is one space's searchable index: how many vectors, which ids, the ``k`` nearest
of some queries, and how many videos it can filter by itself (``filter_videos_max``: 0 for FAISS,
whose answers the searcher filters; a Milvus collection filters in the server). ``IndexSet`` is
the set of a library's spaces: made equal to the catalog (``reconcile``), told each write
(``apply``), built again (``rebuild``) and compared with the catalog (``check``). The catalog is
the source of truth; an index set is derived from it.

Every call that reads the catalog gets the caller's session: the library decides transactions,
locks and generations, the index set only what its indexes hold.
"""
from __future__ import annotations

import abc
from typing import Protocol

import numpy as np
from sqlalchemy.orm import Session

Added = dict[str, tuple[list[int], np.ndarray]]
"""space -> (segment ids, their vectors): what one write adds."""
Removed = list[int] | dict[str, list[int]]
"""segment ids gone from every space, or space -> segment ids gone from it."""


class NearestIndex(Protocol):
    """One space's index as the searcher and the library use it."""

    filter_videos_max: int  # videos a search may hand down as a filter (``search(..., video_ids=)``)

    def __len__(self) -> int: ...

    def ids(self) -> np.ndarray: ...

    def search(self, queries: np.ndarray, k: int, video_ids=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row (inner product of unit vectors); -1 ids pad."""


class IndexSet(abc.ABC):
    """One searchable index per space (``indexes``), equal to the catalog's vectors."""

    indexes: dict[str, NearestIndex]
    shared = False  # True: one store every process writes (told each write's own generation)
    save_every = 0.0  # seconds between saves of a space's index during a run of writes (0: every write)

    def flush(self, session: Session) -> None:
        """Save what writes left unsaved (``save_every``); a store that saves as it goes has none."""

    @abc.abstractmethod
    def reconcile(self, session: Session, generation: int) -> dict[str, tuple[int, int]]:
        """Make every index hold exactly the catalog's vectors (the catalog is at ``generation``);
        returns {space: (added, removed)}."""

    @abc.abstractmethod
    def apply(self, session: Session, removed: Removed, added: Added, generation: int | None) -> None:
        """Take one write: drop ``removed`` ids (from every space, or per space), add ``added`` (an
        id added again replaces its vector); the indexes then
        hold the catalog at ``generation`` (None: they missed another process's write)."""

    @abc.abstractmethod
    def rebuild(self, session: Session, space: str, generation: int) -> None:
        """Build ``space`` again from the catalog's vectors (after they were rewritten)."""

    @abc.abstractmethod
    def check(self, session: Session) -> dict[str, dict]:
        """Per space, how the stored index differs from the catalog (as a fresh open would find it)."""

    def has_vectors(self, spaces) -> bool:
        """Whether any of ``spaces`` holds vectors (as of the last reconcile)."""
        return any(len(self.indexes.get(space, ())) for space in spaces)

    def sizes(self) -> dict[str, int]:
        return {space: len(index) for space, index in self.indexes.items()}


def disagrees(row: dict) -> bool:
    """Whether one space's ``check`` row shows the index and the catalog apart."""
    return bool(row["missing"] or row["orphans"] or row["duplicates"] or row["unreadable"] or row["wrong_dim"])
