"""Running a labelled query set against an indexed library: how good are the answers, per mode.

Every query is encoded once (each model once), its lists are gathered once per mode
(``Searcher.gather``), and the moments ranked from them (``Searcher.rank``), so tuning can re-rank
the same gathered lists under many parameter choices without searching again. Queries whose
video is not in the catalog (or is ambiguous) are counted and reported apart, never dropped
silently: a set that silently lost half its queries would report numbers about the other half.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable

from core.errors import InvalidInput
from ..profile import Ranking
from ..service import Searcher
from .metrics import QueryOutcome, best_iou, by_kind
from .querysets import LabelledQuery, QuerySet
from .videos import AMBIGUOUS, VideoMatcher

MODE_ORDER = ("hybrid", "fused", "visual", "speech", "keyword")


@dataclasses.dataclass
class Gathered:
    """One query, the video it is about, and the lists each mode gathered for it."""

    query: LabelledQuery
    video_id: int
    lists: dict[str, dict[str, list[tuple[int, float]]]]  # mode -> list name -> [(segment, score)]
    vectors: dict = dataclasses.field(default_factory=dict)  # the query's vector per space


@dataclasses.dataclass
class Evaluation:
    queryset: QuerySet
    k: int
    modes: list[str]
    results: dict[str, list[tuple[Gathered, QueryOutcome, list]]]  # mode -> per query
    unmatched: list[LabelledQuery]
    ambiguous: list[LabelledQuery]

    def table(self) -> dict[str, dict[str, dict[str, float]]]:
        """mode -> kind ("all" first) -> metric -> value."""
        return {mode: by_kind([outcome for _, outcome, _ in rows], self.k)
                for mode, rows in self.results.items()}

    def as_dict(self) -> dict:
        return {"queries": str(self.queryset.path), "format": self.queryset.format, "k": self.k,
                "modes": self.table(), "evaluated": len(self.results[self.modes[0]]) if self.modes else 0,
                "not_indexed": [_describe(q) for q in self.unmatched],
                "ambiguous": [_describe(q) for q in self.ambiguous]}

    def per_query(self) -> Iterable[dict]:
        """One record per (mode, query), for error analysis."""
        for mode, rows in self.results.items():
            for gathered, outcome, moments in rows:
                top = moments[0] if moments else None
                truths = gathered.query.spans
                yield {"mode": mode, "query": gathered.query.text, "video": gathered.query.video,
                       "kind": gathered.query.kind, "line": gathered.query.line, "rank": outcome.video_rank,
                       "truth": [list(s) for s in truths],
                       "top": None if top is None else {"video": top.video_path, "start": round(top.start, 3),
                                                         "end": round(top.end, 3)},
                       "iou": None if top is None or not truths or top.video_id != gathered.video_id
                       else round(best_iou((top.start, top.end), truths), 4)}


def _describe(query: LabelledQuery) -> dict:
    return {"line": query.line, "video": query.video, "query": query.text}


def answerable_modes(searcher: Searcher) -> list[str]:
    """Each mode this library and these encoders can answer, hybrid first."""
    indexes = searcher.library.indexes
    has = {space for space, index in indexes.items() if index is not None and len(index)}
    clip = searcher.encoders.clip_text if has & {"fused", "visual"} else None
    modes = ["hybrid"]
    modes += [space for space in ("fused", "visual") if space in has and clip is not None]
    if "speech" in has:
        modes.append("speech")
    modes.append("keyword")
    return modes


def match_videos(searcher: Searcher, queryset: QuerySet):
    """([(query, video id)], not indexed, ambiguous)."""
    matcher = VideoMatcher({v.id: v.path for v in searcher.library.videos(status="indexed")})
    matched, unmatched, ambiguous = [], [], []
    for query in queryset.queries:
        found = matcher.match(query.video)
        if found is None:
            unmatched.append(query)
        elif found == AMBIGUOUS:
            ambiguous.append(query)
        else:
            matched.append((query, found))
    return matched, unmatched, ambiguous


def gather_queries(searcher: Searcher, matched: list[tuple[LabelledQuery, int]], modes: list[str], k: int,
                   on_query: Callable[[], None] | None = None) -> list[Gathered]:
    """Each query's lists under each mode (the expensive part: encoding and searching)."""
    gathered = []
    for query, video_id in matched:
        vectors = searcher.text_vectors(query.text, "hybrid") if set(modes) - {"keyword"} else {}
        lists = {}
        for mode in modes:
            wanted = vectors if mode == "hybrid" else {mode: vectors[mode]} if mode in vectors else {}
            lists[mode] = searcher.gather(wanted, mode, k, per_video=not query.spans,
                                          keywords=query.text if mode in ("hybrid", "keyword") else None)
        gathered.append(Gathered(query, video_id, lists, vectors))
        if on_query is not None:
            on_query()
    return gathered


def outcome_of(searcher: Searcher, gathered: Gathered, mode: str, k: int,
               ranking: Ranking | None = None) -> tuple[QueryOutcome, list]:
    """The query's outcome under ``mode``. A text->video query (no spans) ranks videos, one
    moment each, as CLIP4Clip ranks its gallery; a moment query ranks moments."""
    per_video = not gathered.query.spans
    moments = searcher.rank(gathered.lists[mode], mode, k, ranking=ranking, per_video=per_video)
    rank = next((n for n, m in enumerate(moments, 1) if m.video_id == gathered.video_id), None)
    top = [(m.video_id == gathered.video_id, m.start, m.end) for m in moments]
    return QueryOutcome(rank, top, gathered.query.spans, gathered.query.kind), moments


def evaluate(searcher: Searcher, queryset: QuerySet, modes: list[str] | None = None, k: int = 10,
             progress: bool = True, ranking: Ranking | None = None) -> Evaluation:
    """Run ``queryset`` under each mode (default: every mode the library can answer)."""
    from tqdm import tqdm

    if k < 1:
        raise InvalidInput("k must be at least 1")
    modes = list(modes or answerable_modes(searcher))
    matched, unmatched, ambiguous = match_videos(searcher, queryset)
    with tqdm(total=len(matched), unit="query", disable=not progress, dynamic_ncols=True) as bar:
        gathered = gather_queries(searcher, matched, modes, k, on_query=bar.update)
    results = {mode: [(g, *outcome_of(searcher, g, mode, k, ranking)) for g in gathered] for mode in modes}
    return Evaluation(queryset, k, modes, results, unmatched, ambiguous)


_COLUMNS = ("R@1", "R@5", "R@10", "MdR", "MnR", "hit@1", "hit@5", "mR@1 IoU0.3", "mR@1 IoU0.5",
            "mR@1 IoU0.7", "mR@5 IoU0.5", "mIoU", "start<=2s", "hit start<=2s")


def format_table(table: dict[str, dict[str, dict[str, float]]]) -> str:
    """A plain-text table: one row per mode and query kind."""
    columns = [c for c in _COLUMNS if any(c in s for kinds in table.values() for s in kinds.values())]
    head = f"{'mode':8s} {'kind':12s} {'n':>4s} " + " ".join(f"{c:>11s}" for c in columns)
    head = head.replace("hit start<=2s", "hit start2s")
    lines = [head, "-" * len(head)]
    for mode, kinds in table.items():
        for kind, summary in kinds.items():
            cells = " ".join(f"{summary[c]:11.3f}" if c in summary else f"{'-':>11s}" for c in columns)
            lines.append(f"{mode:8s} {kind:12s} {summary['queries']:4d} {cells}")
    return "\n".join(lines)
