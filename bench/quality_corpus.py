"""A generated, labelled corpus for measuring retrieval quality: narrated lectures of many topics.

Retrieval quality needs queries whose right answer is known to the second, on videos hard enough
that a better ranker scores better. The lectures (``bench.quality_topics``) are spoken by espeak-ng
and rendered here with exact timings: each sentence is rendered alone, its real speech onset and
end are measured in the wav (espeak pads silence), and it is placed so that those times hold in
the final audio. Topic pauses are sometimes no longer than sentence pauses, and slide changes
differ in hue but not in brightness, so neither a pause nor a luma cut alone finds a topic border.

    python -m bench.quality_corpus OUT_DIR [--only NAME ...]

Writes into OUT_DIR: the videos; ``queries.jsonl`` (``query, video, start, end, kind, topic,
split``: the span of the whole topic, first onset to last end); ``sentences.json``
(``{video: [[start, end, text], ...]}``); ``topics.json`` (``{video: [[start, end, key], ...]}``);
and per video a ``*.layout.json`` sidecar that lets a re-run reuse an identical render.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import random
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from bench.corpus import Spec, make_video, require_tools, speak
from bench.quality_topics import LECTURES, Lecture, Topic
from core.files import write_text_atomically

__all__ = ["LECTURES", "Lecture", "Topic", "build_corpus"]

FORMAT = 1                    # bump when the layout rules change: every cached render is redone
SIZE, FPS = (320, 180), 25    # 25 fps: shot lengths in whole frames print exactly (0.04 s)
THRESHOLD = 0.01              # of full scale: where espeak's silence padding ends
LEAD_IN = (0.5, 1.0)          # seconds before the first sentence
SENTENCE_PAUSE = (0.35, 0.8)
TOPIC_PAUSE = (0.8, 1.6)
SHORT_TOPIC_PAUSE = (0.6, 0.78)  # as short as a sentence pause: a pause alone cannot find the border
SHORT_TOPIC_SHARE = 0.35
SLIDE_EARLY = 0.3             # the slide changes this long before the topic's first word
TAIL = 1.2
# Dark colours of one brightness (BT.601 luma 42 +- 0.5) in eight hues: cuts invisible to luma.
PALETTE = ["0x172a5c", "0x0f3c16", "0x56161d", "0x0e3636",
           "0x411656", "0x312d0c", "0x402410", "0x2c1c6e"]


@dataclasses.dataclass
class Layout:
    """Where everything of one rendered lecture is: sentences, slides, length."""

    digest: str
    duration: float
    sentences: list[tuple[float, float, str, str]]   # start, end, text, topic key
    slides: list[tuple[float, str]]                   # from second, background colour

    def topic_spans(self) -> list[tuple[float, float, str]]:
        spans: dict[str, tuple[float, float]] = {}
        for start, end, _, key in self.sentences:
            spans[key] = (spans.get(key, (start, end))[0], end)
        return [(s, e, key) for key, (s, e) in spans.items()]


def speech_bounds(wav: Path) -> tuple[float, float]:
    """Seconds from the start of ``wav`` to its first and past its last sample of speech."""
    with wave.open(str(wav)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > THRESHOLD * 32768)
    if not loud.size:
        raise ValueError(f"{wav}: espeak-ng produced no audible speech")
    return loud[0] / rate, (loud[-1] + 1) / rate


def place(text: str, at: float, speech: list, workdir: Path, voice: str, speed: int) -> tuple[float, float]:
    """Speak ``text`` so that its first sound is at second ``at`` (as near as whole ms allow):
    appends it to ``speech`` for ``make_video``; (its first, its last sound)."""
    onset, end = speech_bounds(speak(text, workdir / "line.wav", voice, speed))
    delay_ms = max(0, round((at - onset) * 1000))
    # make_video truncates the delay to whole ms: half a ms more keeps it exactly delay_ms.
    speech.append(((delay_ms + 0.5) / 1000, text))
    start = delay_ms / 1000 + onset
    return start, start + end - onset


def plan(lecture: Lecture, digest: str, workdir: Path) -> tuple[Layout, Spec]:
    """Measure each sentence and place it; the seeded choices depend on the lecture's name only."""
    rng = random.Random(f"quality-corpus:{lecture.name}")
    first = rng.randrange(len(PALETTE))
    colours = PALETTE[first:] + PALETTE[:first]
    t = rng.uniform(*LEAD_IN)
    sentences, speech, slides = [], [], []
    for i, topic in enumerate(lecture.topics):
        if i:
            short = rng.random() < SHORT_TOPIC_SHARE
            t += rng.uniform(*(SHORT_TOPIC_PAUSE if short else TOPIC_PAUSE))
        if lecture.slides or not i:
            cut = 0.0 if not i else round((t - SLIDE_EARLY) / 0.04) * 0.04
            slides.append((round(cut, 2), colours[i % len(colours)]))
        for j, text in enumerate(topic.sentences):
            if j:
                t += rng.uniform(*SENTENCE_PAUSE)
            start, t = place(text, t, speech, workdir, lecture.voice, lecture.speed)
            sentences.append((round(start, 3), round(t, 3), text, topic.key))
    duration = round(math.ceil((t + TAIL) / 0.04) * 0.04, 2)
    edges = [at for at, _ in slides] + [duration]
    shots = [(f"color=c={colour}", round(edges[k + 1] - edges[k], 2))
             for k, (_, colour) in enumerate(slides)]
    spec = Spec(lecture.name, shots, speech, size=SIZE, fps=FPS, voice=lecture.voice, speed=lecture.speed)
    return Layout(digest, duration, sentences, slides), spec


def digest(lecture: Lecture) -> str:
    """Identity of a render: the lecture's content, the layout rules and the speech synthesizer."""
    espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
    blob = json.dumps({"lecture": dataclasses.asdict(lecture), "format": FORMAT, "size": SIZE,
                       "fps": FPS, "espeak": espeak}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def render(lecture: Lecture, out_dir: Path) -> tuple[Layout, bool]:
    """The lecture's layout, rendering the video unless an identical one is already there."""
    sidecar = out_dir / (Path(lecture.name).stem + ".layout.json")
    key = digest(lecture)
    if sidecar.exists() and (out_dir / lecture.name).exists():
        cached = json.loads(sidecar.read_text())
        if cached["digest"] == key:
            return Layout(key, cached["duration"], [tuple(s) for s in cached["sentences"]],
                          [tuple(s) for s in cached["slides"]]), False
    sidecar.unlink(missing_ok=True)   # a half-written video must never pass as cached
    with tempfile.TemporaryDirectory() as tmp:
        layout, spec = plan(lecture, key, Path(tmp))
    make_video(spec, out_dir)
    write_text_atomically(sidecar, json.dumps(dataclasses.asdict(layout)))
    return layout, True


def queries(lecture: Lecture, layout: Layout) -> list[dict]:
    spans = {key: (s, e) for s, e, key in layout.topic_spans()}
    rows = []
    for topic in lecture.topics:
        start, end = spans[topic.key]
        for kind, texts in (("paraphrase", topic.paraphrases), ("exact", topic.exact)):
            rows += [{"query": q, "video": lecture.name, "start": start, "end": end, "kind": kind,
                      "topic": topic.key, "split": lecture.split} for q in texts]
    return rows


def build_corpus(out_dir: Path | str, lectures: list[Lecture] = LECTURES, *,
                 only: list[str] | None = None) -> Path:
    """Render (or reuse) the lectures into ``out_dir`` and write the labels; returns queries.jsonl."""
    return _build(Path(out_dir), lectures, only)[0]


def _build(out_dir: Path, lectures: list[Lecture], only: list[str] | None
           ) -> tuple[Path, list[tuple[Lecture, Layout, bool, float]]]:
    check(lectures)
    chosen = select(lectures, only)
    require_tools()
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for lecture in chosen:
        began = time.perf_counter()
        layout, rendered = render(lecture, out_dir)
        made.append((lecture, layout, rendered, time.perf_counter() - began))
    rows = [row for lecture, layout, _, _ in made for row in queries(lecture, layout)]
    path = out_dir / "queries.jsonl"
    write_text_atomically(path, "".join(json.dumps(row) + "\n" for row in rows))
    write_text_atomically(out_dir / "sentences.json", rows_json(
        {lec.name: [s[:3] for s in lay.sentences] for lec, lay, _, _ in made}))
    write_text_atomically(out_dir / "topics.json",
                          rows_json({lec.name: lay.topic_spans() for lec, lay, _, _ in made}))
    return path, made


def select(lectures: list[Lecture], only: list[str] | None) -> list[Lecture]:
    """``only`` names lectures by file name or stem ("lecture_biology.mp4" or "lecture_biology")."""
    if not only:
        return list(lectures)
    names = {n for lec in lectures for n in (lec.name, Path(lec.name).stem)}
    unknown = sorted(set(only) - names)
    if unknown:
        raise ValueError(f"unknown lecture(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(lec.name for lec in lectures)}")
    return [lec for lec in lectures if lec.name in only or Path(lec.name).stem in only]


def check(lectures: list[Lecture]) -> None:
    """Refuse content the labels would silently get wrong: repeated keys or names, a bad split."""
    keys = [t.key for lec in lectures for t in lec.topics]
    names = [lec.name for lec in lectures]
    for what, items in (("topic key", keys), ("lecture name", names)):
        if dupes := sorted({k for k in items if items.count(k) > 1}):
            raise ValueError(f"quality corpus: repeated {what} {', '.join(dupes)}")
    for lec in lectures:
        if lec.split not in ("dev", "test"):
            raise ValueError(f"quality corpus: {lec.name} has split {lec.split!r}, not dev or test")
        if any(not 1 <= len(t.sentences) <= 3 for t in lec.topics):
            raise ValueError(f"quality corpus: {lec.name} has a topic of 0 or more than 3 sentences")


def rows_json(table: dict[str, list[tuple]]) -> str:
    """JSON of ``{video: [row, ...]}`` with one row a line, for people reading the labels."""
    videos = (f" {json.dumps(name)}: [\n" + ",\n".join(f"  {json.dumps(list(r))}" for r in rows) + "\n ]"
              for name, rows in table.items())
    return "{\n" + ",\n".join(videos) + "\n}\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quality_corpus", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="lecture file names or stems")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    path, made = _build(args.out_dir, LECTURES, args.only)
    print(f"{'video':24} {'split':5} {'slides':6} {'voice':11} {'wpm':>4} {'topics':>6} "
          f"{'lines':>5} {'speech':>7} {'length':>7}  made")
    for lec, lay, rendered, secs in made:
        speech = sum(e - s for s, e, _, _ in lay.sentences)
        print(f"{lec.name:24} {lec.split:5} {str(lec.slides):6} {lec.voice:11} {lec.speed:>4} "
              f"{len(lec.topics):>6} {len(lay.sentences):>5} {speech:>6.1f}s {lay.duration:>6.1f}s  "
              + (f"rendered in {secs:.1f}s" if rendered else "cached"))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    counts = {(k, s): sum(r["kind"] == k and r["split"] == s for r in rows)
              for k in ("paraphrase", "exact") for s in ("dev", "test")}
    print(f"{len(made)} videos, {sum(len(lec.topics) for lec, *_ in made)} topics, {len(rows)} queries "
          + ", ".join(f"{k}/{s} {n}" for (k, s), n in counts.items())
          + f"; {time.perf_counter() - began:.1f}s")
    print(path)


if __name__ == "__main__":
    main()
