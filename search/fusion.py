"""How a segment's parts become one vector in CLIP's shared space.

The fused vector is the weighted, re-normalised sum of the visual part (its frames' CLIP image
embeddings, mean-pooled) and the spoken part (its transcript through CLIP's text tower). A part
that is missing (no frames, no speech) simply drops out, so the fused vector of a silent shot is
its visual vector. Queries built from a clip are fused the same way as the segments they seek.
"""
from __future__ import annotations

import numpy as np

from core.vectors import normalize


def pool(vectors: np.ndarray) -> np.ndarray | None:
    """Mean of unit vectors, re-normalised; None when there is nothing to pool."""
    if vectors is None or len(vectors) == 0:
        return None
    return normalize(np.asarray(vectors, np.float32).mean(axis=0))[0]


def fuse(visual: np.ndarray | None, spoken: np.ndarray | None,
         visual_weight: float, speech_weight: float) -> np.ndarray | None:
    """Weighted, re-normalised sum of the parts that exist."""
    parts = [(w, v) for w, v in ((visual_weight, visual), (speech_weight, spoken))
             if v is not None and w > 0]
    if not parts:
        return None
    return normalize(sum(w * normalize(v)[0] for w, v in parts))[0]
