"""Which indexed video a query set means: set references (names, ids, path suffixes) to catalog ids.

Query sets name videos the way their authors stored them (``video7020``, ``v_QOlSCBRmfWY``,
``lectures/a.mp4``); the catalog holds absolute paths. Matching is by rules from the most
specific to the least, and a reference that fits two videos is ambiguous rather than guessed.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal, Mapping

AMBIGUOUS: Literal["ambiguous"] = "ambiguous"


@dataclass(frozen=True)
class VideoMatch:
    """Which catalog videos a reference names, and by which rule; ids == (), rule None if none.

    ``rule`` is one of "path", "suffix", "name", "stem", "activitynet" (see VideoMatcher).
    """

    ids: tuple[int, ...]
    rule: str | None


class VideoMatcher:
    """Resolves a set's video references to catalog ids.

    A reference is tried against these rules, most specific first; the first rule that matches
    anything decides, and if it matches several videos the reference is ambiguous:

    1. ``path``: it equals the catalog path (after removing ``//``, ``/./`` and trailing ``/``).
    2. ``suffix``: a relative reference of two or more components equals the path's last
       components, whole components only (``lectures/a.mp4`` matches ``/x/lectures/a.mp4``,
       not ``/x/mylectures/a.mp4``).
    3. ``name``: a one-component reference equals the file name (``a.mp4``).
    4. ``stem``: it equals the file name without its last extension (``video7020``).
    5. ``activitynet``: ``v_XXXX`` matches a file whose stem is ``XXXX`` (ActivityNet ids add
       ``v_`` to the YouTube id the file is usually named after).

    Rules never fall back across shapes: an absolute or multi-component reference that does not
    match as a path or suffix is not found, rather than matched by file name to a video in
    another folder. Matching is case-sensitive, as POSIX paths are.
    """

    def __init__(self, videos: Mapping[int, str]) -> None:
        # Indexed once; a suffix is checked only against videos with the same file name, so a
        # lookup never walks the archive.
        by_path: dict[str, list[int]] = defaultdict(list)
        by_name: dict[str, list[int]] = defaultdict(list)
        by_stem: dict[str, list[int]] = defaultdict(list)
        self._parts: dict[int, tuple[str, ...]] = {}
        for vid, raw in videos.items():
            p = PurePosixPath(raw)
            self._parts[vid] = p.parts
            by_path[str(p)].append(vid)
            by_name[p.name].append(vid)
            by_stem[p.stem].append(vid)
        # Plain dicts: a lookup of a missing key must not grow the tables.
        self._by_path, self._by_name, self._by_stem = dict(by_path), dict(by_name), dict(by_stem)

    def lookup(self, ref: str) -> VideoMatch:
        p = PurePosixPath(ref.strip())
        if not p.name:
            return VideoMatch((), None)
        if str(p) in self._by_path:
            return _found(self._by_path[str(p)], "path")
        if len(p.parts) > 1:
            k = len(p.parts)
            ids = [] if p.is_absolute() else [
                v for v in self._by_name.get(p.name, ()) if self._parts[v][-k:] == p.parts]
            return _found(ids, "suffix")
        for rule, table, key in (("name", self._by_name, p.name), ("stem", self._by_stem, p.name)):
            if key in table:
                return _found(table[key], rule)
        if p.name.startswith("v_") and p.name[2:] in self._by_stem:
            return _found(self._by_stem[p.name[2:]], "activitynet")
        return VideoMatch((), None)

    def match(self, ref: str) -> int | None | Literal["ambiguous"]:
        """The one catalog id ``ref`` names, None when none, ``AMBIGUOUS`` when several.

        Test with ``is None`` / ``== AMBIGUOUS``: id 0 is falsy and "ambiguous" is truthy.
        """
        ids = self.lookup(ref).ids
        return ids[0] if len(ids) == 1 else (AMBIGUOUS if ids else None)


def _found(ids: list[int], rule: str) -> VideoMatch:
    return VideoMatch(tuple(sorted(ids)), rule) if ids else VideoMatch((), None)
