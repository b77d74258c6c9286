"""CLIP encoder speed per device: frames per second (batched) and text-query latency.

    python -m bench.encode_speed [--arch ViT-B-32] [--images 256] [--queries 100]

Runs the real architecture with untrained weights saved as a local checkpoint (speed does not
depend on the values), through ``core.models.clip.ClipEncoder`` as indexing and search do,
on the CPU (text towers on PyTorch in float32 and bfloat16, and on ONNX Runtime, which
``text_runtime=auto`` picks on CPUs) and, when one is visible, on CUDA. MiniLM's query latency
is shown beside CLIP's (the speech space's half of a hybrid query). Prints one table.
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

    from core.models.base import resolve_text_precision, resolve_text_runtime
    from core.models.clip import ClipEncoder
    from core.models.sentence import SentenceEncoder, default_text_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="ViT-B-32")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)

    devices = [("cpu", "torch", "fp32"), ("cpu", "torch", "bf16"), ("cpu", "onnx", "fp32")] + \
        ([("cuda", "torch", "fp32")] if torch.cuda.is_available() else [])
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (224, 398, 3), dtype=np.uint8) for _ in range(args.images)]
    texts = [f"a person walking a dog number {i} in the park" for i in range(args.queries)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "untrained.pt"
        torch.manual_seed(0)
        torch.save({"state_dict": open_clip.create_model(args.arch).state_dict()}, checkpoint)
        for device, runtime, precision in devices:
            clip = ClipEncoder(args.arch, str(checkpoint), device=device, batch_size=64, text_precision=precision,
                               text_runtime=runtime, onnx_cache_dir=Path(tmp) / "onnx")
            sentence = SentenceEncoder(default_text_model(), device=device, precision=precision, runtime=runtime,
                                       onnx_cache_dir=Path(tmp) / "onnx")
            clip.encode_images(frames[:8])  # warm-up
            n = args.images if device != "cpu" else min(args.images, 64)
            started = time.perf_counter()
            clip.encode_images(frames[:n])
            if device == "cuda":
                torch.cuda.synchronize()
            images_per_s = n / (time.perf_counter() - started)
            latencies, sentence_ms = _latencies(clip.encode_texts, texts), _latencies(sentence.encode, texts)
            rows.append((f"{device} {runtime} {precision}", images_per_s, statistics.median(latencies),
                         latencies[int(0.99 * (len(latencies) - 1))], statistics.median(sentence_ms)))
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"CLIP {args.arch} (untrained weights); torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads; GPU: {name}; "
          f"auto text runtime here: {resolve_text_runtime('auto', 'cpu')}, "
          f"auto precision on PyTorch: {resolve_text_precision('auto', 'cpu')}")
    print(f"{'device, text runtime':<21} {'frames/s':>9} {'text p50 ms':>12} {'text p99 ms':>12} {'MiniLM p50 ms':>14}")
    for device, ips, p50, p99, sentence_p50 in rows:
        print(f"{device:<21} {ips:9.1f} {p50:12.2f} {p99:12.2f} {sentence_p50:14.2f}")


def _latencies(encode, texts: list[str]) -> list[float]:
    """Milliseconds per single-query call, sorted, after a warm-up."""
    encode(texts[:4])
    out = []
    for text in texts:
        started = time.perf_counter()
        encode([text])
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


if __name__ == "__main__":
    main()
