"""Cold start of a query process: the real ``vidsearch search`` CLI, started afresh for every query.

    python -m bench.cold_query [--segments 100000] [--runs 10] [--work-dir DIR]

A person at a terminal, and every script that calls the CLI, pays a process's start on every
query. The bench builds (once; reused) a speech-only library of ``--segments`` synthetic segments
(``bench.serve_load.build``: MiniLM-sized vectors, speech-like transcripts, as a library indexed
where no CLIP weights exist), runs one query to fill the ONNX cache (it says so when that run
had to export the text model), then ``--runs`` fresh ``vidsearch search`` processes with
different queries. Prints p50/p90/max wall time per process, and whether torch, open_clip or
sentence-transformers were imported on the query path (they should not be).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = ["where they vote on the school budget", "a storm on the coast", "the doctor talks to a patient",
           "guitar music and a crowd", "snow in the mountains", "bread recipe in the kitchen",
           "traffic on a city street", "a lecture about physics and energy", "a cat by the window",
           "the referee and the goal", "boats in the harbour", "bees in a flower garden"]
HEAVY = ("torch", "open_clip", "sentence_transformers", "transformers")


def _cli(data_dir: Path, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "VIDSEARCH_DATA_DIR": str(data_dir), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True)


def _imported(data_dir: Path, query: str) -> list[str]:
    """The heavy packages one query process imports (from Python's own import log)."""
    done = _cli(data_dir, "search", query, env_extra={"PYTHONPROFILEIMPORTTIME": "1"})
    names = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return sorted(name for name in names if name in HEAVY)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "vidsearch-cold-query")
    args = parser.parse_args(argv)

    from bench.serve_load import build

    data_dir = args.work_dir / f"speech-{args.segments}"
    data_dir.mkdir(parents=True, exist_ok=True)
    build(data_dir, args.segments, None)
    first = _cli(data_dir, "search", "warm the cache")
    if first.returncode:
        sys.exit(f"vidsearch search failed:\n{first.stderr}")
    exported = "preparing the text model" in first.stderr
    times = []
    for run in range(args.runs):
        started = time.perf_counter()
        done = _cli(data_dir, "search", QUERIES[run % len(QUERIES)], "-k", "10")
        times.append(time.perf_counter() - started)
        if done.returncode:
            sys.exit(f"vidsearch search failed:\n{done.stderr}")
    heavy = _imported(data_dir, QUERIES[0])
    times.sort()
    print(f"cold `vidsearch search`, speech-only library of {args.segments} segments, {args.runs} runs, "
          f"{os.cpu_count()} cores")
    print(f"first run exported the text model: {'yes' if exported else 'no (cached)'}")
    print(f"{'p50 s':>7} {'p90 s':>7} {'max s':>7}  heavy imports on the query path")
    print(f"{statistics.median(times):7.2f} {times[int(0.9 * (len(times) - 1))]:7.2f} {times[-1]:7.2f}  "
          f"{', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
