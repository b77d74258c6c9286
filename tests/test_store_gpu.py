"""Vector search on a GPU with faiss-gpu; skipped cleanly where FAISS sees none.

The CPU-only checks below run everywhere: asking for CUDA without one falls back to the CPU.
"""
import numpy as np
import pytest

from core.vectors.faiss import build_index, gpu_count, make_index
from tests.test_store import DIM, clustered

needs_gpu = pytest.mark.skipif(gpu_count() == 0, reason="FAISS sees no GPU (faiss-cpu, or none visible)")


def test_without_a_gpu_the_same_code_runs_on_the_cpu():
    index = make_index("flat", DIM)
    index.add(np.arange(100), clustered(100, 40))
    assert index.to_device("cpu") is False and index.device == "cpu"
    assert index.to_device("auto") is (gpu_count() > 0)
    if gpu_count() == 0:
        assert index.to_device("cuda:0") is False and index.device == "cpu"
    assert index.search(clustered(1, 41), 5)[1].shape == (1, 5)
    with pytest.raises(ValueError, match="unknown device"):
        index.to_device("tpu")


@needs_gpu
@pytest.mark.parametrize("kind", ["flat", "ivf_flat", "ivf_pq"])
def test_gpu_search_matches_cpu_and_follows_writes(kind):
    vectors = clustered(12_000, 42)
    index = build_index(kind, np.arange(12_000), vectors, recall_target=0.9)
    queries = clustered(50, 43)
    cpu_ids = index.search(queries, 10)[1]
    assert index.to_device("cuda") and index.device == "cuda:0"
    gpu_ids = index.search(queries, 10)[1]
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(cpu_ids, gpu_ids)])
    assert overlap >= (0.99 if kind != "ivf_pq" else 0.8)
    index.add([99_999], queries[:1])  # the GPU copy is refreshed after a write
    assert index.search(queries[:1], 1)[1][0][0] == 99_999
    index.remove([99_999])
    assert 99_999 not in index.search(queries[:1], 10)[1][0]


@needs_gpu
def test_hnsw_stays_on_the_cpu():
    index = make_index("hnsw", DIM)
    index.add(np.arange(100), clustered(100, 44))
    assert index.to_device("cuda") is False and index.device == "cpu"
