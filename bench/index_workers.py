"""Indexing throughput by number of worker processes, per stage, on >= 20 minutes of video.

    python -m bench.index_workers [--videos 30] [--seconds 40] [--workers 1 2 4] [--clip ViT-B-32|tiny]

Each configuration indexes the same generated corpus (four shots and two spoken lines per video,
see bench.throughput) into a fresh data dir, with models loaded before the clock starts. Stage
columns are seconds summed over files: decode and ASR run in the workers, in parallel with the
embedding in the main process, so they can add up to more than the wall time.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
from pathlib import Path

from bench.throughput import prepare


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clip", default="ViT-B-32")
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    args = parser.parse_args(argv)

    from indexer.pipeline import Indexer
    from core.encoders import Encoders
    from core.library import Library
    from core.settings import Settings

    out = args.out.resolve()
    files, specs, clip = prepare(out, "corpus-workers", args.videos, args.seconds, args.clip)
    encoders = Encoders(Settings(data_dir=out / "enc", **clip))
    encoders.clip, encoders.sentence  # noqa: B018 - load before timing
    rows = []
    for workers in args.workers:
        data = out / f"data-workers-{workers}"
        shutil.rmtree(data, ignore_errors=True)
        settings = Settings(data_dir=data, **clip)
        report = Indexer(Library(settings), encoders, settings, workers=workers, progress=False).index([files])
        if report.of("failed"):
            raise SystemExit(f"files failed: {[(o.path, o.reason) for o in report.of('failed')]}")
        rows.append((workers, report))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; CLIP {clip['clip_model']} (untrained); "
          f"corpus {len(specs)} videos, {sum(s.duration for s in specs) / 60:.1f} min")
    header = (f"{'workers':>7} {'video s':>8} {'wall s':>7} {'video-h/h':>10} "
              f"{'decode s':>9} {'asr s':>7} {'embed s':>8} {'write s':>8}")
    print(header)
    print("-" * len(header))
    for workers, report in rows:
        st, wall = report.stage_seconds(), report.wall_seconds
        print(f"{workers:7d} {report.video_seconds:8.1f} {wall:7.1f} {report.video_seconds / wall:10.2f} "
              f"{st['decode']:9.1f} {st['transcribe']:7.1f} "
              f"{st['embed']:8.1f} {st['write']:8.2f}")


if __name__ == "__main__":
    main()
