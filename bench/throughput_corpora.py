"""The two corpora of ``bench.throughput`` beside its standard one: many short files, one long file.

Both reuse the labelled lecture topics (``bench.quality_topics``), so the runs they time are also
scored with ``vidsearch eval``'s numbers on the same queries ("equal retrieval results" is a table,
not one top moment):

* ``small``: every topic its own clip (60 clips of 6-25 s, each in its lecture's voice), as an
  archive of phone clips is thousands of short files where fixed costs per file dominate;
* ``long``: one 30-minute 720p file: all 60 topics narrated in a row over a slide per topic, then
  unspoken footage (synthetic shots, silence) up to 30 minutes, as a recorded event or a film
  where decoding, transcription and embedding of one file must overlap and memory stay flat.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bench.quality_corpus import build_corpus
from bench.quality_topics import LECTURES, Lecture

LONG_SECONDS = 1800.0
LONG_SIZE = (1280, 720)
BROLL = ["testsrc2", "mandelbrot", "smptebars", "life", "rgbtestsrc", "cellauto"]


def small_corpus(out: Path) -> tuple[Path, Path]:
    """(folder of 60 clips, their labelled queries)."""
    clips = [Lecture(f"clip_{topic.key}.mp4", [topic], lecture.voice, lecture.speed, slides=lecture.slides,
                     split=lecture.split) for lecture in LECTURES for topic in lecture.topics]
    folder = out / "small-files"
    return folder, build_corpus(folder, clips)


def long_corpus(out: Path) -> tuple[Path, Path]:
    """(folder holding the one 30-minute file, its labelled queries)."""
    parts = out / "long-parts"
    lecture = Lecture("narrated.mp4", [t for lec in LECTURES for t in lec.topics], "en-us", 160,
                      slides=True, split="test")
    queries = build_corpus(parts, [lecture])
    folder = out / "long-file"
    target = folder / "long_event.mp4"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _extend(parts / lecture.name, target)
    rows = [json.loads(line) for line in queries.read_text().splitlines() if line.strip()]
    labelled = folder / "queries.jsonl"
    labelled.write_text("".join(json.dumps({**row, "video": target.name}) + "\n" for row in rows))
    return folder, labelled


def _duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          str(path)], check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def _extend(narrated: Path, target: Path) -> None:
    """``narrated`` scaled to 720p, then unspoken shots of 60 s each up to ``LONG_SECONDS``."""
    w, h = LONG_SIZE
    spoken = _duration(narrated)
    rest = max(0.0, LONG_SECONDS - spoken)
    shots = [BROLL[i % len(BROLL)] for i in range(int(rest // 60) + 1)]
    args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(narrated)]
    for i, shot in enumerate(shots):
        seconds = min(60.0, rest - 60 * i)
        if seconds <= 0:
            break
        args += ["-f", "lavfi", "-t", f"{seconds:.3f}", "-i", f"{shot}=size={w}x{h}:rate=25"]
    count = len(args[args.index(str(narrated)) + 1:]) // 6
    graph = [f"[0:v]scale={w}:{h},fps=25,format=yuv420p[v0]"]
    graph += [f"[{i}:v]format=yuv420p[v{i}]" for i in range(1, count + 1)]
    graph.append(f"anullsrc=r=16000:cl=mono,atrim=0:{rest:.3f}[quiet]")
    graph.append(f"[0:a]aresample=16000,aformat=channel_layouts=mono[a0]")
    graph.append("".join(f"[v{i}]" for i in range(count + 1)) + f"concat=n={count + 1}:v=1:a=0[v]")
    graph.append("[a0][quiet]concat=n=2:v=0:a=1[a]")
    tmp = target.with_suffix(".part.mp4")
    subprocess.run(args + ["-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]",
                           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-g", "250",
                           "-c:a", "aac", "-b:a", "64k", str(tmp)], check=True)
    tmp.replace(target)
