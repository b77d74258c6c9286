"""What every model of vidsearch shares: one error, one way to be loaded lazily, one place where
the device, the precision and the runtime are chosen.

A model is built on first use (a ``vidsearch status`` loads none), once, under a lock, so that
threads of a server asking at the same moment get one copy; a model that cannot load says why
once and again on every later ask, without trying again in the same process. Encoders answer to
one shape, ``Encoder``: ``model_id`` (what the catalog records, so vectors of two models never
mix), ``dim`` and ``encode``.

Precision: a text query reads every weight of a text tower for a handful of tokens, so on a CPU
its time is memory traffic; bfloat16 halves it where the CPU computes bf16 natively (AVX512-BF16,
AMX) and would be slower where it is emulated, so ``auto`` keeps float32 there and on GPUs.
Runtime: on CPUs text towers run on ONNX Runtime (the same float32 vectors, faster per query,
see ``onnx_runtime``) when it is installed; bfloat16 and GPUs stay on PyTorch.
On a GPU the image tower and Whisper run in float16 (``auto``): tensor cores work in half
precision, and CLIP and Whisper were trained for it (OpenAI ran both in fp16); on CPUs half
precision would be emulated, so there it is refused.
"""
from __future__ import annotations

import importlib.util
import threading
from typing import Callable, Generic, Protocol, TypeVar

import numpy as np

from ..errors import InvalidInput, Unavailable

PRECISIONS = ("auto", "fp32", "bf16")
RUNTIMES = ("auto", "torch", "onnx")

T = TypeVar("T")


class ModelUnavailable(Unavailable):
    """A model's weights cannot be loaded; the message says why and what to do."""


class Encoder(Protocol):
    """Items (texts, frames) in, one L2-normalised float32 vector per item out. (CLIP has two
    towers into one space: ``encode_texts`` and ``encode_images``, each of this shape.)"""

    model_id: str
    dim: int

    def encode(self, items: list) -> np.ndarray: ...


class Lazy(Generic[T]):
    """A model built on first ``get()``, once, under a lock; a failure is kept and raised again."""

    def __init__(self, build: Callable[[], T]):
        self._build = build
        self._lock = threading.Lock()
        self._value: T | None = None
        self._error: Exception | None = None

    def get(self) -> T:
        with self._lock:
            if self._value is None and self._error is None:
                try:
                    self._value = self._build()
                except ModelUnavailable as exc:
                    self._error = exc
            if self._error is not None:
                raise self._error
            return self._value

    @property
    def loaded(self) -> bool:
        return self._value is not None


def resolve_text_precision(precision: str, device: str) -> str:
    """``auto``: bfloat16 on a CPU that computes it natively (AVX512-BF16, AMX), else float32."""
    if precision not in PRECISIONS:
        raise InvalidInput(f"unknown text precision {precision!r}; use auto, fp32 or bf16")
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


def resolve_asr_compute_type(compute_type: str, device: str) -> str:
    """CTranslate2's compute type: ``auto`` is int8 on CPUs (as fast as anything there, with 0.96 of
    float32's words) and float16 on CUDA; int8 asked on CUDA keeps float16 activations."""
    on_gpu = str(device).startswith("cuda")
    if compute_type == "auto":
        return "float16" if on_gpu else "int8"
    return "int8_float16" if on_gpu and compute_type == "int8" else compute_type


def missing_runtime() -> str | None:
    """Why ONNX Runtime cannot run text towers here, or None when it can.

    Looked up, not imported: onnxscript alone takes over a second to import, and it is needed
    only on the rare start that exports a tower, not on every start that decides the runtime.
    """
    for module in ("onnxruntime", "onnx", "onnxscript"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


def resolve_text_runtime(runtime: str, device: str, precision: str = "auto") -> str:
    """``auto``: ONNX Runtime on a CPU when it is installed, else PyTorch.

    bfloat16 is a PyTorch-side setting: asking for it explicitly keeps ``auto`` on PyTorch.
    """
    if runtime not in RUNTIMES:
        raise InvalidInput(f"unknown text runtime {runtime!r}; use auto, torch or onnx")
    if runtime == "onnx" and precision == "bf16":
        raise InvalidInput("text precision bf16 runs on PyTorch; use text runtime torch or auto with it")
    if runtime != "auto":
        return runtime
    if not str(device).startswith("cpu") or precision == "bf16" or missing_runtime():
        return "torch"
    return "onnx"


def resolve_text_backend(runtime: str, device: str, precision: str) -> tuple[str, str]:
    """(runtime, precision) a text encoder starts with: on ONNX Runtime the graph is float32."""
    chosen = resolve_text_runtime(runtime, device, precision)
    return chosen, (resolve_text_precision(precision, device) if chosen == "torch" else "fp32")
