"""CLIP encoder speed per device: frames per second (batched) and text-query latency.

    python -m bench.encode_speed [--arch ViT-B-32] [--images 256] [--queries 100]

Runs the real architecture with untrained weights saved as a local checkpoint (speed does not
depend on the values), through ``search.clip_encoder.ClipEncoder`` as indexing and search do,
on the CPU (text tower in float32 and in bfloat16, which ``text_precision=auto`` picks
where the CPU computes it natively) and, when one is visible, on CUDA. Prints one table.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> None:
    import open_clip
    import torch

    from search.clip_encoder import ClipEncoder
    from search.precision import resolve_text_precision

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="ViT-B-32")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)

    devices = [("cpu", "fp32"), ("cpu", "bf16")] + ([("cuda", "fp32")] if torch.cuda.is_available() else [])
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (224, 398, 3), dtype=np.uint8) for _ in range(args.images)]
    texts = [f"a person walking a dog number {i} in the park" for i in range(args.queries)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "untrained.pt"
        torch.manual_seed(0)
        torch.save({"state_dict": open_clip.create_model(args.arch).state_dict()}, checkpoint)
        for device, precision in devices:
            clip = ClipEncoder(args.arch, str(checkpoint), device=device, batch_size=64, text_precision=precision)
            clip.encode_images(frames[:8])
            clip.encode_texts(texts[:4])  # warm-up
            n = args.images if device != "cpu" else min(args.images, 64)
            started = time.perf_counter()
            clip.encode_images(frames[:n])
            if device == "cuda":
                torch.cuda.synchronize()
            images_per_s = n / (time.perf_counter() - started)
            latencies = []
            for text in texts:
                started = time.perf_counter()
                clip.encode_texts([text])
                latencies.append((time.perf_counter() - started) * 1000)
            latencies.sort()
            rows.append((f"{device} {precision}", images_per_s, statistics.median(latencies),
                         latencies[int(0.99 * (len(latencies) - 1))]))
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"CLIP {args.arch} (untrained weights); torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads; GPU: {name}; "
          f"auto text precision here: {resolve_text_precision('auto', 'cpu')}")
    print(f"{'device':<10} {'frames/s':>9} {'text p50 ms':>12} {'text p99 ms':>12}")
    for device, ips, p50, p99 in rows:
        print(f"{device:<10} {ips:9.1f} {p50:12.2f} {p99:12.2f}")


if __name__ == "__main__":
    main()
