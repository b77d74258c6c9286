"""FAISS on a GPU when there is one: which device, the upload, and search settings there.

The CPU index stays the one that is written and changed; the GPU holds a search copy made
from it (``index_cpu_to_gpu``). Without faiss-gpu or a visible GPU every function here says
"no GPU" and the same code runs on the CPU.
"""
from __future__ import annotations

import logging

import faiss

log = logging.getLogger(__name__)

MAX_K = 2048  # FAISS GPU k-selection limit; larger k searches on the CPU copy
_resources: dict[int, object] = {}


def gpu_count() -> int:
    """GPUs FAISS can use (0 with faiss-cpu)."""
    if not hasattr(faiss, "StandardGpuResources"):
        return 0
    try:
        return int(faiss.get_num_gpus())
    except Exception:  # a broken driver is "no GPU", not a crash at search time
        return 0


def resolve(device: str | None) -> int | None:
    """The GPU number that ``device`` (auto | cpu | cuda | cuda:N) means for FAISS, or None."""
    device = (device or "auto").strip().lower()
    if device == "cpu":
        return None
    if device != "auto" and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    count = gpu_count()
    number = int(device.split(":", 1)[1]) if ":" in device else 0
    if count == 0 or number >= count:
        if device != "auto":
            log.warning("device %s asked for, but FAISS sees %d GPU(s) (install faiss-gpu?); "
                        "vector search runs on the CPU", device, count)
        return None
    return number


def to_gpu(index: faiss.Index, number: int, kind: str) -> faiss.Index:
    """A GPU search copy of a CPU index."""
    if number not in _resources:
        _resources[number] = faiss.StandardGpuResources()
    options = faiss.GpuClonerOptions()
    # PQ with 64 sub-quantizers needs float16 lookup tables to fit GPU shared memory; flat
    # vectors stay float32 so exact search stays exact.
    options.useFloat16 = kind == "ivf_pq"
    return faiss.index_cpu_to_gpu(_resources[number], number, index, options)


def apply_search_params(gpu_index: faiss.Index, search_params: dict) -> None:
    if "nprobe" in search_params:
        faiss.GpuParameterSpace().set_index_parameter(gpu_index, "nprobe", int(search_params["nprobe"]))
