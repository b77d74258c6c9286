"""Indexing throughput: vidsearch's pipeline next to a naive one, on three generated corpora.

    python -m bench.throughput [--corpus standard small long] [--videos 8] [--seconds 40]
                               [--clip ViT-B-32|tiny] [--device cuda] [--out bench-out]
    python -m bench.throughput --ocr [--videos 4] [--seconds 40] [--repeats 3] [--ocr-models auto,ppocrv4]
                                                              # what reading on-screen text costs

Corpora: ``standard`` (``--videos`` x ``--seconds`` of shots and two spoken lines each), ``small``
(60 clips of 6-25 s, one narrated topic each) and ``long`` (one 30-minute 720p file), see
``bench.throughput_corpora``. The naive pipeline embeds every sampled frame (no repeat skipping,
no per-moment cap), runs Whisper on the whole audio without voice-activity detection, and does
each file's stages one after the other (no decode overlap), each stage with every core (Whisper's
threads too). Each pipeline runs in a process of
its own (models loaded before the clock starts) on the same files with the same models. The naive
pipeline reads no on-screen text and takes no copy descriptors (a plain script does neither) and
runs open_clip's PyTorch image tower; ``vidsearch`` runs its defaults, ``vidsearch-plain`` the
same without OCR and copy descriptors (the naive pipeline's features, for a like-for-like row). The table
shows per-stage seconds, frames embedded, video-hours per hour and the peak memory of the
process and its workers, then ``vidsearch eval``'s table for both on the corpus's labelled
queries ("equal retrieval results" is that table, not one top moment).

CLIP is the real ViT-B-32 architecture with untrained weights saved as a local checkpoint:
speed does not depend on the weights' values, and no download is possible here.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
from pathlib import Path
from typing import NamedTuple

from bench.corpus import Spec, make_video, slide

LINES = [
    "The museum will open a new exhibition about ancient Egypt next spring.",
    "Our team won the championship after a penalty shootout in the final minute.",
    "Add two cups of flour and a pinch of salt, then knead the dough for ten minutes.",
    "The train to the airport is delayed because of snow on the tracks.",
    "Scientists discovered a new species of frog in the rainforest.",
    "The company reported record profits and will hire five hundred engineers.",
    "Remember to water the tomato plants twice a week during the summer.",
    "The mayor promised to repair every bridge in the city before winter.",
    "Our spacecraft entered orbit around Mars after a journey of seven months.",
    "The orchestra will play Beethoven's ninth symphony on Saturday evening.",
    "Doctors recommend walking thirty minutes every day to stay healthy.",
    "The library now lends laptops and cameras as well as books.",
    "A strong earthquake shook the island but no one was injured.",
    "Electric cars now make up a quarter of all new vehicles sold.",
    "The chess tournament ended in a draw between the two grandmasters.",
    "Volunteers planted a thousand trees along the river this weekend.",
]
QUERIES = [
    ("a show of pharaoh artefacts coming to the gallery", 0),
    ("football club takes the trophy on penalties", 1),
    ("recipe for making bread", 2),
    ("rail service held up by bad weather", 3),
    ("biologists find an unknown amphibian", 4),
    ("firm earns more money than ever and recruits staff", 5),
    ("gardening advice for vegetables", 6),
    ("city leader vows to fix infrastructure", 7),
]
SHOTS = ["color=c=navy", "testsrc2", "mandelbrot", "smptebars", "life", "color=c=darkred",
         "rgbtestsrc", "cellauto"]


def slides_specs(videos: int, seconds: float) -> list[Spec]:
    """Text-heavy lectures: a new slide (title and three lines) every 8 s, narrated."""
    specs, n = [], 0
    for v in range(videos):
        shots, speech = [], []
        for s in range(max(1, int(seconds // 8))):
            words = LINES[n % len(LINES)].rstrip(".").split()
            shots.append((slide(["navy", "darkgreen", "black", "darkred"][s % 4], " ".join(words[:4]),
                                [" ".join(words[4:8]), " ".join(words[8:]), f"slide {s + 1} of lecture {v + 1}"]), 8))
            speech.append((8 * s + 1, LINES[n % len(LINES)]))
            n += 1
        specs.append(Spec(f"slides_{v:02d}.mp4", shots, speech, size=(854, 480), fps=25))
    return specs


def corpus_specs(videos: int, seconds: float, shots_from: list[str] = SHOTS) -> list[Spec]:
    """Videos of four shots each (one static), two spoken lines, silence in between."""
    specs, line = [], 0
    quarter = seconds / 4
    for v in range(videos):
        shots = [(shots_from[(v + s) % len(shots_from)], quarter) for s in range(4)]
        speech = []
        for at in (quarter * 0.5, quarter * 2.5):
            speech.append((at, LINES[line % len(LINES)]))
            line += 1
        specs.append(Spec(f"bench_{v:02d}.mp4", shots, speech, size=(640, 360), fps=25))
    return specs


def prepare(out: Path, folder: str, videos: int, seconds: float, arch: str,
            make=corpus_specs) -> tuple[Path, list[Spec], dict]:
    """The generated corpus (made once, reused) and the untrained CLIP checkpoint settings."""
    files = out / folder
    specs = make(videos, seconds)
    for spec in specs:
        if not (files / spec.name).exists():
            make_video(spec, files)
    return files, specs, untrained_clip(out, arch)


def untrained_clip(out: Path, arch: str) -> dict:
    import open_clip
    import torch

    if arch == "tiny":
        from tests.conftest import TINY_CLIP

        config = out / "bench-tiny-clip.json"
        config.write_text(json.dumps(TINY_CLIP))
        open_clip.add_model_config(config)
        arch, extra = "bench-tiny-clip", {"clip_model_config": config}
    else:
        extra = {}
    checkpoint = out / f"{arch}-untrained.pt"
    if not checkpoint.exists():
        torch.manual_seed(0)
        torch.save({"state_dict": open_clip.create_model(arch).state_dict()}, checkpoint)
    return {"clip_model": arch, "clip_pretrained": str(checkpoint), **extra}


def busy_core_seconds() -> float:
    """Core-seconds this machine has spent working since boot (user, system and interrupts; not
    idle, waiting or stolen by the hypervisor), from ``/proc/stat``: every process of a run
    counts, the forkserver's and the workers' too. On a machine doing nothing else, a run's
    difference is its CPU cost, which wanders far less between runs than its wall time."""
    import os

    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def run_pipeline(name: str, files: Path, data: Path, clip: dict, naive: bool, **extra):
    from indexer.pipeline import Indexer
    from core.encoders import Encoders
    from core.library import Library
    from search.service import Searcher
    from core.settings import Settings

    settings = Settings(data_dir=data, **clip, **extra)
    encoders = Encoders(settings)
    encoders.clip, encoders.sentence  # load models outside the timed run
    library = Library(settings)
    indexer = Indexer(library, encoders, settings, naive=naive, progress=False)  # Whisper loads in the workers
    busy = busy_core_seconds()
    report = indexer.index([files], force=True)
    busy = busy_core_seconds() - busy
    frames = library.counts().frames
    return report, frames, Searcher(library, encoders), busy


def standard_queries(specs: list[Spec], folder: Path) -> Path:
    """The standard corpus's paraphrases, labelled with the shot their line is spoken in."""
    rows = []
    for query, line in QUERIES:
        if line >= 2 * len(specs):
            continue
        spec = specs[line // 2]
        quarter = spec.duration / 4
        shot = 0 if line % 2 == 0 else 2
        rows.append({"query": query, "video": spec.name, "start": shot * quarter, "end": (shot + 1) * quarter,
                     "kind": "paraphrase"})
    path = folder / "queries.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def one_run(args) -> None:
    """The child process: one pipeline over one corpus, its eval table and its peak memory, as JSON."""
    from bench.peak_memory import PeakMemory
    from search.quality.evaluate import evaluate
    from search.quality.querysets import load_queries

    clip = json.loads(args.clip_settings)
    data = Path(args.data)
    shutil.rmtree(data, ignore_errors=True)
    extra = {"device": args.device} if args.device != "cpu" else {}
    if args.child in ("naive", "vidsearch-plain"):  # what a plain script reads: frames and speech
        extra.update(ocr="off", copy_rate=0.0)
    if args.child == "naive":  # ... and it runs open_clip's own PyTorch path for frames
        extra["image_runtime"] = "torch"
    with PeakMemory() as peak:
        report, frames, searcher, busy = run_pipeline(args.child, Path(args.files), data, clip,
                                                   args.child == "naive", **extra)
    if report.of("failed"):
        raise SystemExit(f"{args.child}: files failed: {[(o.path, o.reason) for o in report.of('failed')]}")
    table = evaluate(searcher, load_queries(args.queries), ["speech", "keyword"], k=10, progress=False).table()
    print(json.dumps({"video_s": report.video_seconds, "wall_s": report.wall_seconds, "core_s": busy, "frames": frames,
                      "stages": report.stage_seconds(), "peak_mb": peak.bytes / 2**20, "eval": table}))


def run_child(name: str, files: Path, queries: Path, data: Path, clip: dict, device: str = "cpu") -> dict:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bench.throughput", "--child", name, "--files", str(files),
                           "--queries", str(queries), "--data", str(data), "--clip-settings", json.dumps(clip),
                           "--device", device], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def corpus(args, out: Path, which: str) -> tuple[Path, Path, dict, str]:
    """(files, labelled queries, CLIP settings, description) of one corpus."""
    from bench.throughput_corpora import long_corpus, small_corpus

    if which == "standard":
        files, specs, clip = prepare(out, "corpus", args.videos, args.seconds, args.clip)
        return files, standard_queries(specs, files), clip, f"{len(specs)} videos x {args.seconds:.0f} s"
    files, queries = small_corpus(out) if which == "small" else long_corpus(out)
    clip = untrained_clip(out, args.clip)
    count = len(list(files.glob("*.mp4")))
    return files, queries, clip, "60 clips of 6-25 s" if which == "small" else f"{count} file of 30 min, 720p"


def throughput(args, out: Path, which: str) -> None:
    import torch

    from search.quality.evaluate import format_table

    files, queries, clip, described = corpus(args, out, which)
    runs = [("naive", "cpu"), ("vidsearch", "cpu"), ("vidsearch-plain", "cpu")] + \
        ([("vidsearch", args.device)] if args.device != "cpu" else [])
    rows = [(f"{name}" + (f" {device}" if device != "cpu" else ""),
             run_child(name, files, queries, out / f"data-{which}-{name}-{device}", clip, device))
            for name, device in runs]
    print(f"\n== {which}: {described}; {platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"{platform.processor() or 'cpu'}; CLIP {clip['clip_model']} (untrained weights)")
    header = (f"{'pipeline':<16} {'video s':>8} {'wall s':>7} {'core s':>7} {'video-h/h':>10} {'speed-up':>8} "
              f"{'clip frames':>11} "
              + " ".join(f"{stage + ' s':>9}" for stage in STAGE_COLUMNS) + f" {'peak MB':>8}")
    print(header)
    print("-" * len(header))
    base = rows[0][1]["video_s"] / rows[0][1]["wall_s"]
    for name, row in rows:
        rate = row["video_s"] / row["wall_s"]
        print(f"{name:<16} {row['video_s']:8.1f} {row['wall_s']:7.1f} {row['core_s']:7.1f} {rate:10.1f} "
              f"{rate / base:7.2f}x "
              f"{row['frames']:11d} " + " ".join(f"{row['stages'][stage]:9.1f}" for stage in STAGE_COLUMNS)
              + f" {row['peak_mb']:8.0f}")
    print("(naive and vidsearch-plain read no on-screen text and take no copy descriptors; vidsearch runs its "
          "defaults. core s: the core-seconds the machine was busy during the run, which wander less than wall "
          "time on a shared machine. Stage seconds are summed over files; vidsearch's stages overlap, so they "
          "can add up to more than its wall time)")
    print(f"retrieval, speech and keyword modes, {queries.name} ({sum(1 for _ in open(queries))} queries):")
    print(format_table({f"{name} {mode}": row["eval"][mode] for name, row in rows for mode in ("speech", "keyword")}))


STAGE_COLUMNS = ("decode", "transcribe", "embed", "write")


class OcrRun(NamedTuple):
    """One indexing run of ``ocr_cost``: seconds of video, wall seconds, busy core-seconds, frames
    read by OCR and OCR seconds, both per video-minute."""

    video_s: float
    wall: float
    busy: float
    read: float
    seconds: float


def ocr_cost(args, out: Path) -> None:
    """vidsearch with OCR off and on (with each of ``--ocr-models``), on slides and on footage
    without text; ``--repeats`` rounds run alternately, each row the median of its runs (one
    run's wall time on two busy cores wanders by several percent, as much as OCR's cost on
    footage without text; the core-seconds the run kept the machine busy wander less)."""
    from core.library import Library
    from core.settings import Settings

    rows = []
    textless = [shot for shot in SHOTS if shot != "testsrc2"]  # testsrc2 shows a running timecode
    for corpus, make in (("slides", slides_specs),
                         ("no text", lambda videos, seconds: corpus_specs(videos, seconds, textless))):
        files, specs, clip = prepare(out, f"ocr-{corpus.replace(' ', '-')}", args.videos, args.seconds,
                                     args.clip, make)
        runs = {"off": [], **{model: [] for model in args.ocr_models.split(",")}}
        for _ in range(args.repeats):
            for ocr in runs:
                data = out / f"data-ocr-{corpus.replace(' ', '-')}-{ocr}"
                shutil.rmtree(data, ignore_errors=True)  # counts below are of this run's videos only
                setting = {"ocr": "off"} if ocr == "off" else {"ocr": "on", "ocr_model": ocr}
                report, _, _, busy = run_pipeline("vidsearch", files, data, clip, False, **setting)
                if report.of("failed"):
                    raise SystemExit(f"files failed: {[(o.path, o.reason) for o in report.of('failed')]}")
                videos = Library(Settings(data_dir=data)).videos(status="indexed")
                read = sum((v.timings or {}).get("screen_frames", 0) for v in videos)
                minutes = report.video_seconds / 60
                runs[ocr].append(OcrRun(report.video_seconds, report.wall_seconds, busy, read / minutes,
                                        report.stage_seconds()["ocr"] / minutes))
        off = OcrRun(*(statistics.median(column) for column in zip(*runs["off"])))
        for ocr, measured in runs.items():
            median = OcrRun(*(statistics.median(column) for column in zip(*measured)))
            spread = " / ".join(f"{run.wall:.1f}" for run in measured)
            rows.append((corpus, ocr, *median, median.wall / off.wall - 1, median.busy / off.busy - 1, spread))
    print(f"OCR cost: vidsearch pipeline, CLIP {clip['clip_model']} (untrained), {args.videos} videos x "
          f"{args.seconds:.0f} s per corpus, {platform.processor() or platform.machine()}, "
          f"median of {args.repeats} run(s)")
    header = (f"{'corpus':<8} {'OCR':<13} {'video s':>8} {'wall s':>7} {'core s':>7} {'frames read/min':>16} "
              f"{'OCR s/min':>10} {'slowdown':>9} {'more CPU':>9}  runs (wall s)")
    print(header)
    print("-" * len(header))
    for corpus, ocr, video_s, wall, busy, read, seconds, slower, costlier, spread in rows:
        print(f"{corpus:<8} {ocr:<13} {video_s:8.1f} {wall:7.1f} {busy:7.1f} {read:16.1f} {seconds:10.2f} "
              f"{slower:9.1%} {costlier:9.1%}  {spread}")
    print("targets: OCR adds at most 25% on slides and under 10% on footage without text "
          "(slowdown: wall time; more CPU: core-seconds the machine was busy)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", nargs="+", choices=("standard", "small", "long"), default=["standard"],
                        help="standard: --videos x --seconds; small: 60 short clips; long: one 30-minute file")
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--clip", default="ViT-B-32", help="CLIP architecture, or 'tiny'")
    parser.add_argument("--device", default="cpu", help="also run vidsearch on this device (cuda) as a third row")
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--ocr", action="store_true", help="measure what reading on-screen text costs")
    parser.add_argument("--repeats", type=int, default=3, help="with --ocr: runs of each row (the median is shown)")
    parser.add_argument("--ocr-models", default="auto",
                        help="with --ocr: OCR models to compare, comma-separated (auto, ppocrv6-tiny, ppocrv6-small, ppocrv4)")
    for internal in ("--child", "--files", "--queries", "--data", "--clip-settings"):
        parser.add_argument(internal, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return one_run(args)
    out = args.out.resolve()
    if args.ocr:
        return ocr_cost(args, out)
    for which in args.corpus:
        throughput(args, out, which)
    print("\ntarget: vidsearch >= 2x the naive pipeline on every corpus, with retrieval at least as good")


if __name__ == "__main__":
    main()
