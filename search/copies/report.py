"""The archive's copies as the CLI and the API hand them out (plain JSON-ready dicts)."""
from __future__ import annotations

import collections

from .archive import update_matches
from .align import CopiedSpan
from .finder import classify
from .groups import covered
from .stored import copy_matches, facts_of, videos_without_copies


def archive_copies(library, min_seconds: float) -> dict:
    """{"groups": [{"master": video, "copies": [video...]}], "spans": [...], "without_descriptors":
    [path...], "compared_now": n}; a video is {"video_id", "video_path", "duration"}, and a copy
    says why it is in its group (``_why``). Videos not compared with the archive yet are compared
    first."""
    compared_now = update_matches(library)
    videos = {video.id: video for video in library.videos("indexed")}

    def video(video_id: int) -> dict:
        return {"video_id": video_id, "video_path": videos[video_id].path,
                "duration": float(videos[video_id].duration or 0.0)}

    matches = copy_matches(library.sessions)
    copies = classify(matches, {v: facts_of(videos[v]) for v in videos}, min_seconds)
    between: dict[frozenset, list[CopiedSpan]] = collections.defaultdict(list)  # what grouped each pair of videos
    for span in matches:
        if span.witness != "sound":  # sound alone never groups
            between[frozenset((span.a, span.b))].append(span)
    return {
        "groups": [{"master": video(g[0]), "copies": [{**video(v), **_change(between[frozenset((g[0], v))]),
                                                        "why": _why(between, v, g, videos)} for v in g[1:]]}
                   for g in copies.groups],
        "spans": [{**video(s.a), "start": s.a_start, "end": s.a_end,
                   "other": video(s.b), "other_start": s.b_start, "other_end": s.b_end, "score": s.score,
                   "witness": s.witness, **({"change": s.change} if s.change else {})}
                  for s in copies.spans],
        "without_descriptors": [videos[v].path for v in videos_without_copies(library.sessions)],
        "videos": len(videos),
        "compared_now": compared_now,
    }


def _change(spans: list[CopiedSpan]) -> dict:
    """{"change": ...} when every span between two videos says the same change, else {}."""
    changes = {s.change for s in spans}
    return {"change": changes.pop()} if len(changes) == 1 and "" not in changes else {}


def _why(between: dict[frozenset, list[CopiedSpan]], copy: int, members: list[int], videos: dict) -> dict:
    """Why ``copy`` is in its group: the footage it shares with the master, or where it shares none
    directly (groups join through shared members) with the member it shares most with: which
    witness found it (the pictures, with the sound agreeing or not: sound alone groups nothing),
    that member, the spans (the copy's times first) and the share of the copy they cover."""
    shared = {m: sorted((s if s.a == copy else s.turned() for s in between[frozenset((copy, m))]),
                        key=lambda s: s.a_start)
              for m in members if m != copy}  # turned so that ``a`` is the copy
    other = members[0] if shared[members[0]] else max(shared, key=lambda m: covered(shared[m], "a"))
    spans = shared[other]
    duration = float(videos[copy].duration or 0.0)
    heard = any(s.witness == "picture and sound" for s in spans)
    return {"witness": "picture and sound" if heard else "picture", "other": other,
            "covered": round(covered(spans, "a") / duration, 3) if duration else 0.0,
            "spans": [{"start": s.a_start, "end": s.a_end, "other_start": s.b_start, "other_end": s.b_end,
                       "score": s.score} for s in spans]}
