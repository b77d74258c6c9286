"""The precision text encoders run in on PyTorch: float32, or bfloat16 where the CPU has it natively.

(On CPUs the text towers run on ONNX Runtime in float32 by default, see ``onnx_text``; this
applies when they run on PyTorch.)

A text query reads every weight of a text tower for a handful of tokens (ViT-B-32's: 150 MB;
MiniLM's: 90 MB), so on a CPU its time is memory traffic. bfloat16 halves that traffic, and
native bf16 instructions (AVX512-BF16, AMX) keep the arithmetic fast (the README has the
measured gain, and the fidelity of MiniLM's real weights). Where bf16 is emulated it would be
slower, and on a GPU it gains nothing measurable here, so ``auto`` keeps float32 there. Image towers stay float32.
Indexing and search use the same setting, so both sides of a comparison match.
"""
from __future__ import annotations

PRECISIONS = ("auto", "fp32", "bf16")


def resolve_text_precision(precision: str, device: str) -> str:
    """``auto``: bfloat16 on a CPU that computes it natively (AVX512-BF16, AMX), else float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown text precision {precision!r}; use auto, fp32 or bf16")
    if precision != "auto":
        return precision
    if not str(device).startswith("cpu"):
        return "fp32"
    import torch

    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        native = False
    return "bf16" if native else "fp32"
