"""Whole-file duplicates from aligned spans, and which copy of a group looks like the master.

Two files are the same footage when what they share covers nearly all of the shorter one and at
least half of the longer one (a trimmed copy still is one; a 20 s excerpt inside a compilation
is a copied span, not a duplicate). Groups are the connected pairs.
"""
from __future__ import annotations

import dataclasses

from .align import CopiedSpan

COVER_SHORTER = 0.8
COVER_LONGER = 0.5


@dataclasses.dataclass(frozen=True)
class FileFacts:
    """What tells copies of one footage apart: the master is the longest, then the sharpest, then
    the one with the most bits per second."""

    video_id: int
    duration: float
    width: int
    height: int
    size: int

    def rank(self) -> tuple:
        return (round(self.duration), self.width * self.height, self.size / max(self.duration, 1e-6), -self.video_id)


def covered(spans: list[CopiedSpan], side: str) -> float:
    """Seconds of one side (``"a"`` or ``"b"``) under the union of ``spans``."""
    edges = sorted((getattr(s, f"{side}_start"), getattr(s, f"{side}_end")) for s in spans)
    total, until = 0.0, float("-inf")
    for start, end in edges:
        if end > until:
            total += end - max(start, until)
            until = end
    return total


def same_footage(spans: list[CopiedSpan], a: FileFacts, b: FileFacts) -> bool:
    """Whether the spans between ``a`` and ``b`` make them one footage."""
    if not spans:
        return False
    share_a = covered(spans, "a") / max(a.duration, 1e-6)
    share_b = covered(spans, "b") / max(b.duration, 1e-6)
    shorter, longer = (share_a, share_b) if a.duration <= b.duration else (share_b, share_a)
    return shorter >= COVER_SHORTER and longer >= COVER_LONGER


def group(pairs: list[tuple[int, int]], facts: dict[int, FileFacts]) -> list[list[int]]:
    """Connected groups of the ``pairs``, each master first then by id; groups by master id."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in pairs:
        parent[root(x)] = root(y)
    members: dict[int, list[int]] = {}
    for x in list(parent):
        members.setdefault(root(x), []).append(x)
    groups = []
    for ids in members.values():
        master = max(ids, key=lambda v: facts[v].rank())
        groups.append([master] + sorted(v for v in ids if v != master))
    return sorted(groups, key=lambda g: g[0])
