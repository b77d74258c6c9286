"""Re-fusing the fused space with other visual/speech weights, from the vectors the catalog keeps.

A segment's fused vector mixes its frames (the visual space) and its transcript in CLIP's text
space (kept in the catalog as ``spoken``); the mix is a setting that ``vidsearch tune`` can learn.
Changing it must not mean decoding the archive again: both parts are in the catalog, so the
fused rows are recomputed from them in batches, in one transaction, the new weights recorded
with the space, and the fused index rebuilt. Segments indexed before ``spoken`` vectors were
kept cannot be re-fused; then nothing changes and the error says to re-index them.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import select, update

from core.catalog import ModelVersion, Segment, SegmentVector
from core.errors import InvalidInput, NotFound, VidsearchError
from .fusion import fuse
from core.catalog_reads import catalog_vectors
from core.vectors import SPOKEN
from core.library import Library

_BATCH = 5000


def refuse(library: Library, visual_weight: float, speech_weight: float) -> int:
    """Recompute every fused vector with these weights; returns how many were rewritten."""
    if visual_weight <= 0 or speech_weight <= 0:
        raise InvalidInput("both fused weights must be positive (a zero weight empties the fused vector "
                           "of segments that have only that part)")
    rewritten = 0
    with library.writing() as session:
        known = session.get(ModelVersion, "fused")
        if known is None:
            raise NotFound("this catalog has no fused vectors (no CLIP weights were used)")
        ids = list(session.scalars(select(SegmentVector.segment_id).where(SegmentVector.space == "fused")
                                   .order_by(SegmentVector.segment_id)))
        for start in range(0, len(ids), _BATCH):
            batch = ids[start:start + _BATCH]
            visual = _by_id(*catalog_vectors(session, "visual", batch))
            spoken = _by_id(*catalog_vectors(session, SPOKEN, batch))
            speech = set(catalog_vectors(session, "speech", batch)[0].tolist())
            # A speech vector without a spoken part: either from before that part was kept, or
            # from screen text alone (a silent slide), which has no spoken part to keep.
            unsure = [i for i in batch if i in speech and i not in spoken]
            lost = list(session.scalars(select(Segment.id).where(
                Segment.id.in_(unsure), Segment.transcript != ""))) if unsure else []
            if lost:
                raise VidsearchError(
                    f"{len(lost)} segment(s) were indexed before their spoken part was kept, so they "
                    "cannot be re-fused; run `vidsearch index --force` over the archive first")
            rows = []
            for segment_id in batch:
                vector = fuse(visual.get(segment_id), spoken.get(segment_id), visual_weight, speech_weight)
                if vector is not None:
                    rows.append({"segment_id": segment_id, "space": "fused",
                                 "vector": vector.astype(np.float32).tobytes()})
            if rows:
                session.execute(update(SegmentVector), rows)
                rewritten += len(rows)
        known.params = {"visual": float(visual_weight), "speech": float(speech_weight)}
        library.bump(session)
    library.rebuild("fused")
    return rewritten


def _by_id(ids: np.ndarray, rows: np.ndarray) -> dict[int, np.ndarray]:
    return {int(i): row for i, row in zip(ids, rows)}
