"""Which pairs of videos may share footage: a binary FAISS index over every hash, searched with a
sample of each video's hashes. Only the pairs found here are aligned (never all pairs).

An exhaustive binary index (``IndexBinaryFlat``: 64-bit popcounts, hundreds of millions a second)
answers exactly; FAISS' multi-index hashing was measured 40 times slower at the radius copies
need (a lookup within 14 of 64 bits probes thousands of buckets). Each video asks with every ``stride``-th hash:
a copied span of a few seconds holds several of them.
"""
from __future__ import annotations

import collections

import numpy as np

from .align import RADIUS, Descriptors

STRIDE = 2  # every second instant of a video asks (1 per second at 2 samples per second)
MIN_HITS = 2  # hashes of one video that must find another before the pair is aligned
_BATCH = 4096


def _bytes(hashes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(hashes, np.uint64)).view(np.uint8).reshape(-1, 8)


class HashIndex:
    """Every hash of a set of videos, searchable by Hamming radius."""

    def __init__(self, videos: list[Descriptors]):
        import faiss

        self.index = faiss.IndexBinaryFlat(64)
        self.owner = np.concatenate([np.full(len(d), d.video_id, np.int64) for d in videos] or [np.zeros(0, np.int64)])
        hashes = np.concatenate([d.hashes for d in videos] or [np.zeros(0, np.uint64)])
        if len(hashes):
            self.index.add(_bytes(hashes))

    def pairs(self, query: Descriptors, stride: int = STRIDE, radius: int = RADIUS,
              min_hits: int = MIN_HITS) -> list[int]:
        """The other videos that at least ``min_hits`` of ``query``'s sampled hashes find."""
        if not len(query) or not self.index.ntotal:
            return []
        instants = np.unique(query.times)[::stride]
        asked = query.hashes[np.isin(query.times, instants)]  # every view of every stride-th instant
        hits: collections.Counter[int] = collections.Counter()
        for start in range(0, len(asked), _BATCH):
            lims, _, found = self.index.range_search(_bytes(asked[start:start + _BATCH]), radius + 1)
            for n in range(len(lims) - 1):
                owners = set(self.owner[found[lims[n]:lims[n + 1]]].tolist())
                owners.discard(query.video_id)
                hits.update(owners)
        return sorted(video for video, count in hits.items() if count >= min_hits)
