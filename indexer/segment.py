"""Cutting a video into moments: at shot changes where there are any, else fixed windows.

Every moment lasts between ``min_len`` and ``max_len`` seconds (except a whole file shorter than
``min_len``, which is one moment): shots too short are merged into a neighbour, shots too long
are split into equal windows. The result tiles [0, duration] without gaps or overlaps.
"""
from __future__ import annotations

import math


def make_spans(duration: float, cuts: list[float], min_len: float = 2.0,
               max_len: float = 10.0) -> list[tuple[float, float]]:
    if duration <= 0:
        return []
    if min_len > max_len:
        raise ValueError("min_len must not exceed max_len")
    edges = [0.0] + sorted(c for c in set(cuts) if 0.0 < c < duration) + [duration]
    spans = [[a, b] for a, b in zip(edges, edges[1:]) if b > a]
    # Merge short shots into the following one (the last into the one before).
    merged: list[list[float]] = []
    for span in spans:
        if merged and merged[-1][1] - merged[-1][0] < min_len:
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    if len(merged) > 1 and merged[-1][1] - merged[-1][0] < min_len:
        last = merged.pop()
        merged[-1][1] = last[1]
    out: list[tuple[float, float]] = []
    for start, end in merged:
        parts = max(1, math.ceil((end - start) / max_len - 1e-9))
        step = (end - start) / parts
        out.extend((start + i * step, end if i == parts - 1 else start + (i + 1) * step)
                   for i in range(parts))
    return out
