"""Model towers on ONNX Runtime: the same float32 vectors, faster on a CPU.

A text query is a handful of tokens through a small transformer. In eager PyTorch on a CPU much
of that time is per-operator overhead around small matrix products; ONNX Runtime runs one
optimised graph instead (``bench.encode_speed`` measures both; the README has the numbers). For
large batches the gain is smaller, as the arithmetic dominates; the vectors agree with
PyTorch's to float32 rounding. CLIP's image tower, the indexer's largest cost on a CPU, runs there
too (``OnnxImageTower``): batches of frames, float32 pixels in, the same vectors out.

A tower is exported once per set of weights (``torch.export``, batch and length dynamic) into a
cache folder, under a hash of its weights, so a changed checkpoint can never meet an old graph.
Every load also checks the runtime's vectors against PyTorch's on probe inputs before the session
answers anything. ``auto`` uses this on CPUs when onnxruntime and the exporter are installed; on
a GPU, or when asked, PyTorch runs the tower as before (the same weights, only slower: a failed
export is logged, never hidden).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import Unavailable
from ..settings import default_onnx_cache_dir

log = logging.getLogger(__name__)

_FORMAT = "1"  # bump when what is exported changes, so old files are not used
_OPSET = 18
_AGREE = 1e-4  # largest 1 - cosine between the runtime's vectors and PyTorch's on the probes


def weights_key(module, kind: str) -> str:
    """A hash of everything the exported graph depends on: the weights, their shapes, the tools."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{kind}|{_FORMAT}|{_OPSET}|{torch.__version__}".encode())
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(f"{name}|{tuple(tensor.shape)}|{tensor.dtype}".encode())
        digest.update(tensor.detach().to("cpu").contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class OnnxTextTower:
    """An exported text tower and its ONNX Runtime session: ``tower(**inputs) -> float32 vectors``.

    ``module`` maps int64 inputs (batch x length) to one vector per row; ``example`` holds inputs
    with at least two rows and two positions (torch.export fixes dimensions of size 1);
    ``expected``: the vectors the example must give (default: what ``module`` gives in PyTorch).
    """

    dtype = np.int64
    what = "the text model"

    def __init__(self, module, example: dict, kind: str, *, cache_dir: Path | None = None,
                 threads: int = 0, max_length: int = 512, expected: np.ndarray | None = None):
        import torch

        self.names = list(example)
        self.path = Path(cache_dir or default_onnx_cache_dir()) / f"{kind}-{weights_key(module, kind)}.onnx"
        if expected is None:
            with torch.inference_mode():
                expected = module(**example).float().numpy()
        for attempt in (1, 2):
            if not self.path.exists():
                _export(module, example, self.path, self.shapes(example, max_length), self.what)
            try:
                self.session = open_session(self.path, threads)
                got = self(**{name: value.numpy() for name, value in example.items()})
            except Exception as exc:  # an unreadable file (cut short, say): export it again
                problem = f"cannot be run ({_first_line(exc)})"
            else:
                if agree(got, expected):
                    return
                problem = "gives other vectors than PyTorch"
            log.warning("%s %s (attempt %d); exporting it again", self.path.name, problem, attempt)
            self.path.unlink(missing_ok=True)
        raise Unavailable(f"the exported tower {self.path.name} {problem}")

    @staticmethod
    def shapes(example: dict, max_length: int) -> dict:
        """The dimensions that vary: rows and positions."""
        import torch

        batch, length = torch.export.Dim("batch", max=65536), torch.export.Dim("length", min=2, max=max_length)
        return {name: {0: batch, 1: length} for name in example}

    def __call__(self, **inputs: np.ndarray) -> np.ndarray:
        return run_tower(self.session, self.names, inputs, self.dtype)


class OnnxImageTower(OnnxTextTower):
    """An exported image tower: ``tower(pixels=float32 batch x 3 x S x S) -> unit float32 vectors``.
    Only the batch varies; the pixels are already resized and normalised."""

    dtype = np.float32
    what = "the image model"

    @staticmethod
    def shapes(example: dict, max_length: int) -> dict:
        import torch

        return {name: {0: torch.export.Dim("batch", max=65536)} for name in example}


def run_tower(session, names: list[str], inputs: dict, dtype=np.int64) -> np.ndarray:
    """A tower's session on ``inputs`` (only ``names`` are fed) -> unit float32 vectors."""
    feeds = {name: np.ascontiguousarray(inputs[name], dtype=dtype) for name in names}
    vectors = session.run(None, feeds)[0].astype(np.float32, copy=False)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def load_tower(build: Callable[[], "OnnxTextTower"], what: str, required: bool) -> "OnnxTextTower | None":
    """``build()``, or None with the reason logged (PyTorch then runs the same weights)."""
    try:
        return build()
    except Exception as exc:
        if required:
            raise
        log.warning("%s runs on PyTorch: ONNX Runtime could not take it (%s)", what, exc)
        return None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def agree(got: np.ndarray, expected: np.ndarray) -> bool:
    if got.shape != expected.shape:
        return False
    norms = np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1)
    return bool((1 - (got * expected).sum(axis=1) / np.maximum(norms, 1e-12)).max() <= _AGREE)


def _export(module, example: dict, path: Path, shapes: dict, what: str) -> None:
    """Export to a temporary file, then rename: readers never see half a graph."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    # Said at warning level: ViT-B-32's text tower takes ~30 s, which would otherwise look like a hang.
    log.warning("preparing %s for ONNX Runtime, once for these weights (up to a minute): %s", what, path)
    started = time.monotonic()
    try:
        # The exporter reports its steps on stdout, and logs and warns about its internals: none of
        # that is the user's business.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), _quiet("onnx_ir", "onnxscript"):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module, (), kwargs=dict(example), dynamo=True, opset_version=_OPSET, external_data=False,
                input_names=list(example), dynamic_shapes=shapes)
            program.save(str(partial))
        os.replace(partial, path)
        log.info("exported %s in %.0f s", path.name, time.monotonic() - started)
    finally:
        partial.unlink(missing_ok=True)


@contextlib.contextmanager
def _quiet(*loggers: str):
    saved = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def open_session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(0, threads)  # 0: one per core
    options.inter_op_num_threads = 1
    # Idle threads sleep instead of spinning: in a server they would take the CPU from the threads
    # doing the search (measured: no slower for one query).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its warnings are about graph internals
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
