"""From aligned spans to what a user asks for: whole-file duplicate groups apart from copied spans;
and the archive's copies in one pass (candidate pairs from the hash index, each pair aligned once).

Two witnesses: the pictures (``align``) and the sound (``sound``). A span both find is the surer;
where only the sound finds one, the pictures are asked again with weaker matches (a copy whose
frames changed much: an inset, a heavy crop), and what they find at the sound's offset joins it.
Sound alone lists a span but never makes two files one footage: two cameras at one event, or a
soundtrack laid under other pictures, share sound and not footage."""
from __future__ import annotations

import collections
import dataclasses

from .align import RADIUS, CopiedSpan, Descriptors, align, apart
from .candidates import HashIndex
from .groups import FileFacts, group, same_footage
from .sound import SoundIndex, prints_of, sound_index

WEAK_RADIUS = RADIUS + 4  # bits: the picture's matches asked again where the sound found a span
WEAK_EVIDENCE = 1.5  # ... and the agreeing moments a span of them needs there
_SAME_OFFSET = 1.0  # seconds: a picture span and a sound span this close in offset tell the same copy


@dataclasses.dataclass
class Copies:
    groups: list[list[int]]  # video ids, master first
    spans: list[CopiedSpan]  # copied spans between videos that are not one footage
    pairs_aligned: int
    found: list[CopiedSpan] = dataclasses.field(default_factory=list)  # every span, before grouping


def spans_between(query: Descriptors, others: list[Descriptors], index: HashIndex,
                  min_seconds: float, sounds: SoundIndex | None = None) -> dict[int, list[CopiedSpan]]:
    """``query``'s copied spans in each other video the index finds for it: as it is, then
    mirrored (spans marked ``mirrored`` where they are not already found as they are); then
    what ``sounds`` finds (``witnessed``)."""
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
    heard = prints_of(query)
    if sounds is not None and heard is not None:
        for other, spans in sounds.spans(heard, set(by_id), min_seconds).items():
            found[other] = witnessed(found.get(other, []), spans,
                                     lambda o=by_id[other]: align(query, o, min_seconds, WEAK_RADIUS, WEAK_EVIDENCE))
    return {other: spans for other, spans in found.items() if spans}


def witnessed(pictures: list[CopiedSpan], sounds: list[CopiedSpan], weak) -> list[CopiedSpan]:
    """One pair's spans from both witnesses: a picture span a sound span agrees with (the same
    offset, overlapping) becomes "picture and sound"; for a sound span no picture span agrees
    with, ``weak()``'s picture spans (computed once) that agree join it; else it stays "sound"."""
    out = list(pictures)
    weaker: list[CopiedSpan] | None = None
    for sound in sounds:
        agreeing = [n for n, span in enumerate(out) if span.witness != "sound" and _agree(span, sound)]
        if not agreeing:
            weaker = weak() if weaker is None else weaker
            out += [span for span in weaker if _agree(span, sound) and apart(span, out)]
            agreeing = [n for n, span in enumerate(out) if span.witness != "sound" and _agree(span, sound)]
        for n in agreeing:
            out[n] = dataclasses.replace(out[n], witness="picture and sound")
        if not agreeing and apart(sound, out):
            out.append(sound)
    return out


def _agree(picture: CopiedSpan, sound: CopiedSpan) -> bool:
    offset = abs((picture.b_start - picture.a_start) - (sound.b_start - sound.a_start))
    overlap = min(picture.a_end, sound.a_end) - max(picture.a_start, sound.a_start)
    return offset <= _SAME_OFFSET and overlap >= 0.5 * min(picture.seconds, sound.seconds)


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
        if same_footage([s for s in pair_spans if s.witness != "sound"], facts[a], facts[b]):
            same.append((a, b))
        else:
            apart.extend(s for s in pair_spans if s.seconds >= min_seconds)
    apart.sort(key=lambda s: (s.a, s.a_start, s.b))
    return Copies(group(same, facts), apart, pairs_aligned, list(spans))


def find_copies(videos: list[Descriptors], facts: dict[int, FileFacts], min_seconds: float = 5.0) -> Copies:
    """Every copy among ``videos``, compared here and now."""
    index, sounds = HashIndex(videos), sound_index(videos)
    spans, aligned = [], 0
    for n, video in enumerate(videos):
        found = spans_between(video, videos[n + 1:], index, min_seconds, sounds)
        aligned += len(found)
        for pair_spans in found.values():
            spans.extend(pair_spans)
    return classify(spans, facts, min_seconds, aligned)
