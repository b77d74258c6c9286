"""Where a video's own subtitles are: files beside it and streams inside it, and which one to use.

Subtitles that come with a file were written (or checked) by people, and cost nothing to read, so
when one exists in a wanted language it replaces Whisper for that file. Sidecars are named as
Jellyfin and Plex name them: ``talk.srt``, ``talk.en.srt``, ``talk.eng.forced.vtt``,
``talk.English.sdh.srt``. A sidecar without a language tag is taken to be in the video's own
language. Forced subtitles (only the foreign lines) are a last resort. A sidecar that cannot be
read fails only itself: the next candidate is tried, then Whisper, and the reason is kept.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path

import av

from core.models.whisper import Line, Transcript
from core.subtitles import Cue, SubtitleError, clean_text, parse

SUFFIXES = (".srt", ".vtt")
TEXT_CODECS = ("subrip", "srt", "mov_text", "webvtt", "ass", "ssa", "text")
_ASS_NEWLINE = re.compile(r"\\[Nn]")
_FLAGS = {"forced", "sdh", "cc", "hi", "default"}
_LANGUAGES = {
    "eng": "en", "english": "en", "fra": "fr", "fre": "fr", "french": "fr", "deu": "de", "ger": "de",
    "german": "de", "spa": "es", "spanish": "es", "ita": "it", "italian": "it", "por": "pt",
    "portuguese": "pt", "nld": "nl", "dut": "nl", "dutch": "nl", "rus": "ru", "russian": "ru",
    "jpn": "ja", "japanese": "ja", "zho": "zh", "chi": "zh", "chinese": "zh", "kor": "ko", "korean": "ko",
    "ara": "ar", "arabic": "ar", "hin": "hi", "pol": "pl", "polish": "pl", "swe": "sv", "swedish": "sv",
    "tur": "tr", "turkish": "tr", "ukr": "uk", "ukrainian": "uk",
}


def language_code(tag: str | None) -> str | None:
    """'en', 'eng', 'English', 'en-US', 'en_us' -> 'en'; None for no tag or an unknown one."""
    if not tag:
        return None
    tag = tag.lower().replace("_", "-").split("-")[0]
    if tag in _LANGUAGES:
        return _LANGUAGES[tag]
    return tag if len(tag) == 2 and tag.isalpha() else None


@dataclasses.dataclass(frozen=True)
class Subtitles:
    """One candidate: a sidecar file, or a stream of the container (cues already read)."""

    source: str  # what the catalog records: "sidecar:talk.en.srt" or "stream:2 (eng)"
    language: str | None
    forced: bool = False
    path: Path | None = None
    cues: tuple[Cue, ...] = ()

    def read(self) -> list[Cue]:
        if self.path is None:
            return list(self.cues)
        raw = self.path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")  # older tools wrote Windows-1252
        return parse(text, self.path.name)


def sidecars(video: Path, names: list[str] | None = None) -> list[Subtitles]:
    """The subtitle files beside ``video`` (``<stem>[.<tags>].srt|vtt``), by name. ``names``: the
    folder's listing, when the caller has it (a planner over many files lists each folder once)."""
    video = Path(video)
    found = []
    if names is None:
        try:
            names = sorted(os.listdir(video.parent))
        except OSError:
            return []
    for name in names:
        entry = video.parent / name
        if entry.suffix.lower() not in SUFFIXES or not name.startswith(video.stem + ".") or not entry.is_file():
            continue
        tags = [t.lower() for t in name[len(video.stem) + 1:-len(entry.suffix)].split(".") if t]
        language = next((language_code(t) for t in tags if t not in _FLAGS and language_code(t)), None)
        found.append(Subtitles(f"sidecar:{name}", language, forced="forced" in tags, path=entry))
    return found


def signature(video: Path, names: list[str] | None = None) -> str | None:
    """A digest of the sidecars' names and contents: it changes when one appears, changes or goes."""
    files = [s.path for s in sidecars(video, names)]
    if not files:
        return None
    digest = hashlib.blake2b(digest_size=12)
    for path in files:
        digest.update(path.name[len(Path(video).stem):].encode() + b"\0")
        try:
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def ranked(candidates: list[Subtitles], languages: list[str]) -> list[Subtitles]:
    """The candidates worth trying, best first: a wanted language in the order given (an empty
    list wants any), then untagged ones; forced subtitles after all others; sidecars before
    streams (they are what a person put there)."""
    wanted = [language_code(code) or code for code in languages]

    def rank(sub: Subtitles):
        if sub.language is None:
            place = len(wanted)
        elif not wanted:
            place = 0
        elif sub.language in wanted:
            place = wanted.index(sub.language)
        else:
            return None
        return (sub.forced, place, sub.path is None, sub.source)

    keyed = [(key, sub) for sub in candidates if (key := rank(sub)) is not None]
    return [sub for _, sub in sorted(keyed, key=lambda pair: pair[0])]


def choose(candidates: list[Subtitles], languages: list[str]) -> tuple[Subtitles | None, list[Cue], str | None]:
    """(the subtitles used, their cues, why others were not): the first candidate that reads
    and holds words."""
    problems = []
    for sub in ranked(candidates, languages):
        try:
            cues = sub.read()
        except (SubtitleError, OSError) as exc:
            problems.append(f"{sub.source}: {exc}")
            continue
        if cues:
            return sub, cues, "; ".join(problems) or None
        problems.append(f"{sub.source}: no cue holds text")
    return None, [], "; ".join(problems) or None


def stream_subtitles(container) -> list[Subtitles]:
    """The text subtitle streams (SubRip, mov_text, WebVTT, ASS) as cues; picture subtitles
    (DVD, PGS) hold no text and are left out. Only packets are read: nothing is decoded but text."""
    streams = [s for s in container.streams.subtitles if s.codec_context.name in TEXT_CODECS]
    if not streams:
        return []
    cues = {s.index: [] for s in streams}
    for packet in container.demux(*streams):
        if packet.pts is None:
            continue
        start = float(packet.pts * packet.time_base)
        end = start + float((packet.duration or 0) * packet.time_base)
        for subtitle in packet.decode():
            text = getattr(subtitle, "dialogue", None) or getattr(subtitle, "text", b"")
            text = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
            cues[packet.stream.index].append((start, end, _ASS_NEWLINE.sub(" ", text)))
    out = []
    for stream in streams:
        found = [Cue(a, b, clean) for a, b, t in cues[stream.index] if (clean := clean_text([t]))]
        if found:
            forced = bool(stream.disposition & av.stream.Disposition.forced)
            out.append(Subtitles(f"stream:{stream.index} ({stream.language or 'und'})", language_code(stream.language),
                                 forced=forced, cues=tuple(found)))
    return out


def transcript_from(sub: Subtitles, cues: list[Cue]) -> Transcript:
    """Cues as a transcript. Subtitles time lines, not words: each word gets a share of its cue
    by its length, so sentences and segments can be cut as for Whisper's words."""
    lines = []
    for cue in cues:
        words = cue.text.split()
        total = sum(len(w) + 1 for w in words)
        at, timed = cue.start, []
        for word in words:
            length = (cue.end - cue.start) * (len(word) + 1) / total
            timed.append((round(at, 3), round(at + length, 3), word))
            at += length
        lines.append(Line(cue.start, cue.end, cue.text, timed))
    return Transcript(sub.language, lines, model=None, source=sub.source)
