"""Cold start of a query process: the real ``vidsearch search`` CLI, started afresh for every query.

    python -m bench.cold_query [--segments 100,100000] [--libraries speech,clip] [--runs 10] [--work-dir DIR]

A person at a terminal, and every script that calls the CLI, pays a process's start on every
query. The bench builds (once; reused) two kinds of library of each ``--segments`` size from
synthetic segments (``bench.serve_load.build``: vectors clustered like real embeddings,
speech-like transcripts): ``speech``, as indexed where no CLIP weights exist, and ``clip``, with
CLIP's fused and visual vectors (the real ViT-B-32 architecture with untrained weights from a
local checkpoint: speed does not depend on the values). One query per library fills the ONNX
cache (the bench says when it had to export a model), then, for every mode the library answers,
``--runs`` fresh ``vidsearch search`` processes with different queries (Python's compiled modules
cached, as they are for an installed package). Prints p50/p90 wall time
per process, and from one more run under ``-X importtime``: how many modules it imported, their
import time, and which heavy packages (torch, open_clip, ...) were among them (none should be).
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
HEAVY = ("torch", "torchvision", "open_clip", "sentence_transformers", "transformers")
MODES = {"speech": ("hybrid", "speech", "keyword"), "clip": ("hybrid", "fused", "visual", "speech", "keyword")}


def _cli(env: dict, *args: str, importtime: bool = False) -> subprocess.CompletedProcess:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, "-m", "api.cli", *args], env=env, capture_output=True, text=True)


def imports(stderr: str) -> tuple[int, float, list[str]]:
    """(modules imported, seconds spent importing them, the heavy ones) from ``-X importtime``."""
    rows = [line[len("import time:"):].split("|") for line in stderr.splitlines() if line.startswith("import time:")]
    rows = [r for r in rows if r[0].strip().isdigit()]  # the header row names its columns
    names = {r[2].strip() for r in rows}
    return len(rows), sum(int(r[0]) for r in rows) / 1e6, sorted(n for n in names if n in HEAVY)


def _checkpoint(work_dir: Path) -> Path:
    """ViT-B-32 with untrained weights, saved as a user's local checkpoint (once)."""
    checkpoint = work_dir / "vit-b-32-untrained.pt"
    if not checkpoint.exists():
        import open_clip
        import torch

        work_dir.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": open_clip.create_model("ViT-B-32").state_dict()}, checkpoint)
    return checkpoint


def measure(env: dict, modes: tuple[str, ...], runs: int) -> list[dict]:
    rows = []
    for mode in modes:
        times = []
        for run in range(runs):
            started = time.perf_counter()
            done = _cli(env, "search", QUERIES[run % len(QUERIES)], "-k", "10", "--mode", mode)
            times.append(time.perf_counter() - started)
            if done.returncode:
                sys.exit(f"vidsearch search --mode {mode} failed:\n{done.stderr}")
        count, seconds, heavy = imports(_cli(env, "search", QUERIES[0], "--mode", mode, importtime=True).stderr)
        times.sort()
        rows.append({"mode": mode, "p50": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))],
                     "modules": count, "import_s": seconds, "heavy": heavy})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", default="100,100000", help="library sizes, comma-separated")
    parser.add_argument("--libraries", default="speech,clip", help="speech (no CLIP vectors), clip, or both")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sentence-models", default="mpnet",
                        help="the speech vectors' model: mpnet (the default for new libraries), minilm, or both")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "vidsearch-cold-query")
    args = parser.parse_args(argv)

    from bench.serve_load import MINILM_SPEECH, MPNET_SPEECH, build

    speech_models = {"minilm": MINILM_SPEECH, "mpnet": MPNET_SPEECH}

    checkpoint = _checkpoint(args.work_dir) if "clip" in args.libraries else None
    base = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    base["VIDSEARCH_ONNX_CACHE_DIR"] = str(args.work_dir / "onnx")
    # Compiled modules are cached, as an installed package has them, even where the environment
    # says not to write them (PYTHONDONTWRITEBYTECODE): kept in the work dir, not the checkout.
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base["PYTHONPYCACHEPREFIX"] = str(args.work_dir / "pycache")
    print(f"cold `vidsearch search`, {args.runs} fresh processes per mode, {os.cpu_count()} cores")
    print(f"{'library':<8} {'sentence':<8} {'segments':>9} {'mode':<8} {'p50 s':>6} {'p90 s':>6} {'modules':>8} "
          f"{'imports s':>9}  heavy imports")
    for library, sentence, segments in ((library, sentence, int(n)) for library in args.libraries.split(",")
                                        for sentence in args.sentence_models.split(",")
                                        for n in args.segments.split(",")):
        data_dir = args.work_dir / (f"{library}-{segments}" + ("" if sentence == "minilm" else f"-{sentence}"))
        data_dir.mkdir(parents=True, exist_ok=True)
        build(data_dir, segments, checkpoint if library == "clip" else None, speech_model=speech_models[sentence])
        env = {**base, "VIDSEARCH_DATA_DIR": str(data_dir)}
        if library == "clip":
            env.update(VIDSEARCH_CLIP_MODEL="ViT-B-32", VIDSEARCH_CLIP_PRETRAINED=str(checkpoint))
        first = _cli(env, "search", "warm the cache")
        if first.returncode:
            sys.exit(f"vidsearch search failed:\n{first.stderr}")
        if "preparing" in first.stderr:
            print(f"({library}-{sentence}-{segments}: the first query exported a model for ONNX Runtime; not timed)")
        for row in measure(env, MODES[library], args.runs):
            print(f"{library:<8} {sentence:<8} {segments:>9} {row['mode']:<8} {row['p50']:6.2f} {row['p90']:6.2f} "
                  f"{row['modules']:>8} {row['import_s']:9.2f}  {', '.join(row['heavy']) or 'none'}", flush=True)


if __name__ == "__main__":
    main()
