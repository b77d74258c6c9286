"""From aligned spans to what a user asks for: whole-file duplicate groups apart from copied spans;
and the archive's copies in one pass (candidate pairs from the hash index, each pair aligned once)."""
from __future__ import annotations

import collections
import dataclasses

from .align import CopiedSpan, Descriptors, align, apart
from .candidates import HashIndex
from .groups import FileFacts, group, same_footage


@dataclasses.dataclass
class Copies:
    groups: list[list[int]]  # video ids, master first
    spans: list[CopiedSpan]  # copied spans between videos that are not one footage
    pairs_aligned: int


def spans_between(query: Descriptors, others: list[Descriptors], index: HashIndex,
                  min_seconds: float) -> dict[int, list[CopiedSpan]]:
    """``query``'s copied spans in each other video the index finds for it: as it is, then
    mirrored (spans marked ``mirrored`` where they are not already found as they are)."""
    by_id = {d.video_id: d for d in others}
    found: dict[int, list[CopiedSpan]] = {}
    mirror = query.in_mirror()
    for seen, change in ((query, ""), (mirror, "mirrored")):
        if seen is None:
            continue
        for other in index.pairs(seen):
            if other not in by_id:
                continue
            kept = found.get(other, [])
            new = [dataclasses.replace(s, change=", ".join(filter(None, (change, s.change))))
                   for s in align(seen, by_id[other], min_seconds) if apart(s, kept)]
            if new:
                found[other] = kept + new
    return found


def classify(spans: list[CopiedSpan], facts: dict[int, FileFacts], min_seconds: float = 5.0,
             pairs_aligned: int = 0) -> Copies:
    """Pairs whose spans make them one footage become groups; the other spans of at least
    ``min_seconds`` are listed apart."""
    by_pair: dict[tuple[int, int], list[CopiedSpan]] = collections.defaultdict(list)
    for span in spans:
        if span.a in facts and span.b in facts:
            by_pair[(span.a, span.b)].append(span)
    same, apart = [], []
    for (a, b), pair_spans in by_pair.items():
        if same_footage(pair_spans, facts[a], facts[b]):
            same.append((a, b))
        else:
            apart.extend(s for s in pair_spans if s.seconds >= min_seconds)
    apart.sort(key=lambda s: (s.a, s.a_start, s.b))
    return Copies(group(same, facts), apart, pairs_aligned)


def find_copies(videos: list[Descriptors], facts: dict[int, FileFacts], min_seconds: float = 5.0) -> Copies:
    """Every copy among ``videos``, compared here and now."""
    index = HashIndex(videos)
    spans, aligned = [], 0
    for n, video in enumerate(videos):
        found = spans_between(video, videos[n + 1:], index, min_seconds)
        aligned += len(found)
        for pair_spans in found.values():
            spans.extend(pair_spans)
    return classify(spans, facts, min_seconds, aligned)
