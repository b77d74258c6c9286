"""The archive's copies in one pass: candidate pairs from the hash index, each pair aligned once,
whole-file duplicates grouped apart from copied spans."""
from __future__ import annotations

import dataclasses

from .align import CopiedSpan, Descriptors, align
from .candidates import HashIndex
from .groups import FileFacts, group, same_footage


@dataclasses.dataclass
class Copies:
    groups: list[list[int]]  # video ids, master first
    spans: list[CopiedSpan]  # copied spans between videos that are not one footage
    pairs_aligned: int


def spans_between(query: Descriptors, others: list[Descriptors], index: HashIndex,
                  min_seconds: float) -> dict[int, list[CopiedSpan]]:
    """``query``'s copied spans in each other video the index finds for it."""
    by_id = {d.video_id: d for d in others}
    found = {}
    for other in index.pairs(query):
        if other in by_id:
            spans = align(query, by_id[other], min_seconds)
            if spans:
                found[other] = spans
    return found


def find_copies(videos: list[Descriptors], facts: dict[int, FileFacts], min_seconds: float = 5.0) -> Copies:
    index = HashIndex(videos)
    same, spans, aligned = [], [], 0
    for n, video in enumerate(videos):
        found = spans_between(video, videos[n + 1:], index, min_seconds)
        aligned += len(found)
        for other, pair_spans in found.items():
            if same_footage(pair_spans, facts[video.video_id], facts[other]):
                same.append((video.video_id, other))
            else:
                spans.extend(pair_spans)
    spans.sort(key=lambda s: (s.a, s.a_start, s.b))
    return Copies(group(same, facts), spans, aligned)
