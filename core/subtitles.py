"""Subtitles as text: SubRip (.srt) and WebVTT (.vtt) read into cues and written back out.

Files found beside videos are made by many tools, so reading is forgiving where players are (a
byte-order mark, CRLF or CR line ends, HTML-like tags, ASS override blocks such as ``{\\an8}``,
cue numbers missing or wrong, VTT times without hours, cue settings, NOTE/STYLE/REGION blocks,
overlapping cues) and strict where a guess would put words at the wrong second: a timing line that
cannot be read is a ``SubtitleError`` naming the line, and the caller falls back to speech
recognition. Writing follows the formats exactly: WebVTT with its header and dot decimals, SRT
with cue numbers and comma decimals; what one writes, the other reads back as the same cues.
"""
from __future__ import annotations

import dataclasses
import html
import json
import re

from .errors import InvalidInput

FORMATS = ("vtt", "srt", "txt", "json")


class SubtitleError(ValueError):
    """A subtitle file that cannot be read; the message names the line that broke it."""


@dataclasses.dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    speaker: str | None = None  # who speaks it, when known (written as WebVTT's <v Name>, "Name: " elsewhere)


_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_VOICE = re.compile(r"^\s*<v(?:\.[^\s>]*)?\s+([^>]+)>")  # WebVTT's voice span: who speaks the cue


def _seconds(hours, minutes, seconds, fraction) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


def clean_text(lines: list[str]) -> str:
    """Cue text for search: tags dropped, entities decoded, lines joined with spaces."""
    text = " ".join(_TAG.sub("", line).strip() for line in lines)
    return " ".join(html.unescape(text).split())


def parse(text: str, name: str = "subtitles") -> list[Cue]:
    """Cues of an SRT or WebVTT document (told apart by the ``WEBVTT`` header), by start time."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    vtt = text.startswith("WEBVTT")
    lines = text.split("\n")
    cues: list[Cue] = []
    number = 0
    block: list[tuple[int, str]] = []

    def flush() -> None:
        timing_at = next((i for i, (_, line) in enumerate(block) if "-->" in line), None)
        if timing_at is None:
            first = block[0][1].strip() if block else ""
            if vtt and (first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")) or not first):
                return
            if not vtt and first.isdigit() and len(block) == 1:
                return  # a cue number with nothing after it
            raise SubtitleError(f"{name}:{block[0][0]}: no timing line ('00:00:01,000 --> 00:00:02,000') "
                                f"before {first[:60]!r}")
        line_no, timing = block[timing_at]
        found = _TIMING.match(timing)
        if found is None:
            raise SubtitleError(f"{name}:{line_no}: cannot read the timing {timing.strip()[:80]!r}")
        start, end = _seconds(*found.groups()[:4]), _seconds(*found.groups()[4:])
        if end < start:
            raise SubtitleError(f"{name}:{line_no}: the cue ends before it starts ({timing.strip()[:80]!r})")
        body = [line for _, line in block[timing_at + 1:]]
        voice = _VOICE.match(body[0]) if vtt and body else None
        words = clean_text(body)
        if words:
            cues.append(Cue(start, end, words, html.unescape(voice.group(1)).strip() if voice else None))

    for number, line in enumerate(lines, 1):
        if line.strip():
            block.append((number, line))
        elif block:
            flush()
            block = []
    if block:
        flush()
    return sorted(cues, key=lambda cue: (cue.start, cue.end))


def _stamp(seconds: float, decimal: str) -> str:
    millis = int(round(max(0.0, seconds) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{decimal}{rest % 1000:03d}"


def to_vtt(cues: list[Cue]) -> str:
    body = "".join(f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{_voice_tag(c.speaker)}{_escape_vtt(c.text)}\n\n"
                   for c in cues)
    return "WEBVTT\n\n" + body


def _escape_vtt(text: str) -> str:
    # A cue's text may not hold "-->" or raw < and & (they start tags and entities).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _voice_tag(speaker: str | None) -> str:
    return f"<v {_escape_vtt(speaker)}>" if speaker else ""


def _said_by(cue: Cue) -> str:
    return f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text


def to_srt(cues: list[Cue]) -> str:
    return "".join(f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{_said_by(c).replace('-->', '->')}\n\n"
                   for n, c in enumerate(cues, 1))


def to_txt(cues: list[Cue]) -> str:
    return "".join(f"{_said_by(c)}\n" for c in cues)


def to_json(cues: list[Cue]) -> str:
    rows = [{k: v for k, v in dataclasses.asdict(c).items() if k != "speaker" or v} for c in cues]
    return json.dumps(rows, ensure_ascii=False, indent=1)


def render(cues: list[Cue], fmt: str) -> tuple[str, str]:
    """(document, media type) of ``cues`` in ``fmt``: vtt, srt, txt or json."""
    writers = {"vtt": (to_vtt, "text/vtt; charset=utf-8"), "srt": (to_srt, "application/x-subrip; charset=utf-8"),
               "txt": (to_txt, "text/plain; charset=utf-8"), "json": (to_json, "application/json")}
    if fmt not in writers:
        raise InvalidInput(f"unknown transcript format {fmt!r}; use {', '.join(FORMATS)}")
    write, media_type = writers[fmt]
    return write(cues), media_type
