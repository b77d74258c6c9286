"""Labelled query sets, read in the formats people already have, and matched to the catalog.

Quality is only comparable with published numbers when it is measured on the public sets as
they are distributed, so each loader reads a file exactly as its dataset ships it (CLIP4Clip's
MSR-VTT CSV, Charades-STA text, ActivityNet Captions JSON, QVHighlights JSONL) next to
vidsearch's own JSONL. Loading is strict: a malformed line silently dropped would change the
score without anyone noticing, so every problem stops the load and names the file and line.

A set names its videos loosely (an id, a file name, a path suffix); ``videos.VideoMatcher``
turns those names into catalog ids.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from core.errors import InvalidInput
from ..filters import LANGUAGE_CODE

FORMATS = ("jsonl", "msrvtt", "charades", "activitynet", "qvhighlights")

# What a well-formed file looks like, appended to every error so the user can fix it unaided.
_SHAPES = {
    "jsonl": 'each line should be {"query": "...", "video": "...", "start": 12.5, "end": 20.0}'
             " (start/end optional, both or neither; optional \"kind\" and \"language\")",
    "msrvtt": "expected CLIP4Clip's MSRVTT_JSFUSION_test.csv: header key,vid_key,video_id,sentence,"
              " then one row per query",
    "charades": 'each line should be "VIDEO START END##sentence",'
                ' e.g. "3MSZA 24.3 30.4##person turn a light on."',
    "activitynet": 'expected ActivityNet Captions JSON: {"v_ID": {"duration": 82.7,'
                   ' "timestamps": [[0.8, 19.9], ...], "sentences": ["...", ...]}, ...}',
    "qvhighlights": 'each line should be {"qid": 1, "query": "...", "vid": "...",'
                    ' "relevant_windows": [[0, 26], ...]}',
}
_NAME_IT = "pass the format explicitly, one of " + ", ".join(FORMATS)


@dataclass(frozen=True)
class LabelledQuery:
    """One query with its right answer: a video and, for moment sets, the relevant spans."""

    text: str
    video: str  # as written in the set; VideoMatcher resolves it
    spans: tuple[tuple[float, float], ...] = ()  # seconds; () for text->video sets
    kind: str | None = None
    line: int = 0  # 1-based line, or entry number in ActivityNet JSON


@dataclass
class QuerySet:
    path: Path
    format: str
    queries: list[LabelledQuery]

    @property
    def has_spans(self) -> bool:
        return any(q.spans for q in self.queries)


class QuerySetError(InvalidInput):
    """A query-set file the user can fix: "<path>:<line>: <problem>; <expected shape>".

    Problems with the whole file (unreadable, empty, format unknown) carry line 0 and name only
    the path.
    """

    def __init__(self, path: Path | str, line: int, problem: str, expected: str) -> None:
        self.path, self.line = Path(path), line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}; {expected}")


class _Bad(Exception):
    """A problem inside one line; the loader adds path, line number and expected shape."""


def load_queries(path: Path | str, format: str | None = None) -> QuerySet:
    """Read a labelled query set; the format comes from the suffix (for .jsonl, also the keys)."""
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise QuerySetError(path, 0, f"unknown query-set format {format!r}", _NAME_IT)
    text = _read(path)
    fmt = format or _detect(path, text)
    queries = _PARSERS[fmt](path, text)
    if not queries:
        raise QuerySetError(path, 0, "holds no queries", _SHAPES[fmt])
    return QuerySet(path, fmt, queries)


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QuerySetError(path, 0, f"cannot read it ({exc.strerror or exc})",
                            "pass the path of a query-set file") from None
    try:
        return data.decode("utf-8-sig")  # -sig: spreadsheet exports often start with a BOM
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise QuerySetError(path, line, "is not UTF-8 text", "save the file as UTF-8") from None


def _lines(text: str) -> list[str]:
    # Not splitlines(): it also breaks at \x0b, \u2028, ... and line numbers would stop
    # matching what an editor shows.
    return [line.rstrip("\r") for line in text.split("\n")]


def _detect(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    by_suffix = {".csv": "msrvtt", ".txt": "charades", ".json": "activitynet"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    if suffix != ".jsonl":
        raise QuerySetError(path, 0, f"cannot tell the format from the suffix {suffix!r}", _NAME_IT)
    for n, record in _records(path, text, "jsonl"):
        if "vid" in record and "relevant_windows" in record:
            return "qvhighlights"
        if "query" in record and "video" in record:
            return "jsonl"
        raise QuerySetError(path, n, f"cannot tell the format from the keys {sorted(record)}",
                            _NAME_IT)
    return "jsonl"  # nothing but blanks and comments: load_queries reports the empty set


def _number(value: object, what: str, from_text: bool = False) -> float:
    if from_text and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _Bad(f"{what} {value!r} is not a number") from None
    # bool is an int to Python, but `true` as a time is a mistake, not 1 second.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"{what} {value!r} is not a number")
    if not math.isfinite(value) or value < 0:
        raise _Bad(f"{what} {value} is not a time in seconds (finite, >= 0)")
    return float(value)


def _span(start: object, end: object, from_text: bool = False) -> tuple[float, float]:
    s, e = _number(start, "start", from_text), _number(end, "end", from_text)
    if e < s:
        raise _Bad(f"end {e:g} is before start {s:g}")
    return s, e


def _windows(value: object, key: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list) or not value:
        raise _Bad(f'"{key}" should be a non-empty list of [start, end] pairs')
    spans = []
    for i, pair in enumerate(value, 1):
        if not isinstance(pair, list) or len(pair) != 2:
            raise _Bad(f'"{key}" item {i} is {pair!r}, not a [start, end] pair')
        try:
            spans.append(_span(*pair))
        except _Bad as exc:
            raise _Bad(f'"{key}" item {i}: {exc}') from None
    return tuple(spans)


def _string(record: Mapping, key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f'"{key}" is missing or not a non-empty string')
    return value.strip()


def _each(path: Path, fmt: str, items: Iterable[tuple[int, Any]],
          make: Callable[[Any, int], list[LabelledQuery]]) -> list[LabelledQuery]:
    """Queries from numbered items; a problem in one becomes an error naming its line."""
    out: list[LabelledQuery] = []
    for n, item in items:
        try:
            out.extend(make(item, n))
        except _Bad as exc:
            raise QuerySetError(path, n, str(exc), _SHAPES[fmt]) from None
    return out


def _records(path: Path, text: str, fmt: str) -> Iterator[tuple[int, dict]]:
    """The JSON objects of a JSONL file with their line numbers; blanks and # comments skipped."""
    for n, line in enumerate(_lines(text), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuerySetError(path, n, f"not valid JSON ({exc.msg}, column {exc.colno})",
                                _SHAPES[fmt]) from None
        if not isinstance(record, dict):
            raise QuerySetError(path, n, f"a JSON {type(record).__name__}, not an object",
                                _SHAPES[fmt])
        yield n, record


def _jsonl_query(r: dict, n: int) -> list[LabelledQuery]:
    if ("start" in r) != ("end" in r):
        raise _Bad('"start" and "end" go together: give both or neither')
    spans = (_span(r["start"], r["end"]),) if "start" in r else ()
    kind = r.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise _Bad(f'"kind" {kind!r} is not a string')
    if kind == "all":  # metrics.by_kind reports the whole set under "all"
        raise _Bad('"kind" "all" is reserved for the whole set; choose another name')
    language = r.get("language")  # the language spoken at the answer: tables then show one row per language
    if language is not None and (not isinstance(language, str) or not re.fullmatch(LANGUAGE_CODE, language)):
        raise _Bad(f'"language" {language!r} is not a language code (two letters, as "en", "es")')
    if language:
        kind = f"{language} {kind}" if kind else language
    return [LabelledQuery(_string(r, "query"), _string(r, "video"), spans, kind, n)]


def _qvhighlights_query(r: dict, n: int) -> list[LabelledQuery]:
    spans = _windows(r.get("relevant_windows"), "relevant_windows")
    return [LabelledQuery(_string(r, "query"), _string(r, "vid"), spans, None, n)]


def _charades_query(line: str, n: int) -> list[LabelledQuery]:
    head, sep, sentence = line.partition("##")
    if not sep:
        raise _Bad('no "##" between the times and the sentence')
    fields = head.split()
    if len(fields) != 3:
        raise _Bad(f'{len(fields)} fields before "##", expected 3 (video start end)')
    span = _span(fields[1], fields[2], from_text=True)
    if not sentence.strip():
        raise _Bad('the sentence after "##" is empty')
    return [LabelledQuery(sentence.strip(), fields[0], (span,), None, n)]


def _activitynet_queries(item: tuple[str, object], n: int) -> list[LabelledQuery]:
    vid, entry = item
    try:
        if not isinstance(entry, dict):
            raise _Bad("not an object")
        stamps, sentences = entry.get("timestamps"), entry.get("sentences")
        if not isinstance(stamps, list) or not isinstance(sentences, list):
            raise _Bad('"timestamps" and "sentences" should both be lists')
        if len(stamps) != len(sentences):
            raise _Bad(f"{len(stamps)} timestamps but {len(sentences)} sentences")
        spans = _windows(stamps, "timestamps") if stamps else ()
        for i, sentence in enumerate(sentences, 1):
            if not isinstance(sentence, str) or not sentence.strip():
                raise _Bad(f"sentence {i} is not a non-empty string")
    except _Bad as exc:
        raise _Bad(f"entry {vid!r}: {exc}") from None  # entries are found by id, not number
    return [LabelledQuery(s.strip(), vid, (span,), None, n) for span, s in zip(spans, sentences)]


def _parse_msrvtt(path: Path, text: str) -> list[LabelledQuery]:
    shape = _SHAPES["msrvtt"]
    rows = csv.reader(io.StringIO(text, newline=""))
    numbered: list[tuple[int, dict]] = []
    header: list[str] | None = None
    start = 1  # a quoted sentence may span lines: report the line its row starts on
    try:
        for row in rows:
            n, start = start, rows.line_num + 1
            if not "".join(row).strip():
                continue
            if header is None:
                header = [c.strip() for c in row]
                if "video_id" not in header or "sentence" not in header:
                    raise QuerySetError(path, n, f"the header is {','.join(row)!r}", shape)
            elif len(row) != len(header):
                raise QuerySetError(path, n, f"{len(row)} columns, the header has {len(header)}",
                                    shape)
            else:
                numbered.append((n, dict(zip(header, row))))
    except csv.Error as exc:
        raise QuerySetError(path, rows.line_num, f"not valid CSV ({exc})", shape) from None
    return _each(path, "msrvtt", numbered, lambda f, n: [
        LabelledQuery(_string(f, "sentence"), _string(f, "video_id"), line=n)])


def _parse_activitynet(path: Path, text: str) -> list[LabelledQuery]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QuerySetError(path, exc.lineno, f"not valid JSON ({exc.msg}, column {exc.colno})",
                            _SHAPES["activitynet"]) from None
    if not isinstance(data, dict):
        raise QuerySetError(path, 0, f"the top level is a JSON {type(data).__name__},"
                            " not an object", _SHAPES["activitynet"])
    return _each(path, "activitynet", enumerate(data.items(), 1), _activitynet_queries)


_PARSERS: dict[str, Callable[[Path, str], list[LabelledQuery]]] = {
    "jsonl": lambda path, text: _each(path, "jsonl", _records(path, text, "jsonl"), _jsonl_query),
    "qvhighlights": lambda path, text: _each(
        path, "qvhighlights", _records(path, text, "qvhighlights"), _qvhighlights_query),
    "charades": lambda path, text: _each(
        path, "charades", ((n, ln) for n, ln in enumerate(_lines(text), 1) if ln.strip()),
        _charades_query),
    "msrvtt": _parse_msrvtt,
    "activitynet": _parse_activitynet,
}
