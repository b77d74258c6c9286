"""Which index type for which size and budget, and when an index should be rebuilt."""
import numpy as np
import pytest

from core.vectors.faiss import build_params, choose_kind, make_index, rebuild_reason, target_kind
from tests.test_store import DIM, clustered

GB = 1 << 30


@pytest.mark.parametrize("n,dim,budget,gpu,kind", [
    (10_000, 512, 4 * GB, False, "flat"),  # one scan is ~20 MB
    (100_000, 512, 4 * GB, False, "hnsw"),
    (1_000_000, 512, 4 * GB, False, "hnsw"),  # ~2.3 GB
    (1_000_000, 512, 4 * GB, True, "ivf_flat"),  # FAISS has no GPU HNSW
    (1_000_000, 512, 1 * GB, False, "ivf_pq"),
    (3_000_000, 512, 8 * GB, False, "ivf_flat"),  # past HNSW's build-time limit
    (7_000_000, 512, 4 * GB, False, "ivf_pq"),  # the 10,000-hour archive
])
def test_choose_kind(n, dim, budget, gpu, kind):
    assert choose_kind(n, dim, budget, gpu) == kind


def test_pq_code_size_follows_the_budget():
    assert build_params("ivf_pq", 7_000_000, 512, 4 * GB)["m"] == 64
    assert build_params("ivf_pq", 7_000_000, 512, 200 << 20)["m"] == 16  # 29 bytes left a vector
    params = build_params("ivf_flat", 1_000_000, 512)
    assert params == {"nlist": 4096, "trained_for": 1_000_000}


def test_a_forced_kind_waits_for_enough_vectors_to_train():
    assert target_kind("ivf_pq", 5_000, 512, 4 * GB) == "flat"
    assert target_kind("ivf_pq", 50_000, 512, 4 * GB) == "ivf_pq"
    assert target_kind("auto", 5_000, 512, 4 * GB) == "flat"
    with pytest.raises(ValueError, match="unknown vector index kind"):
        target_kind("annoy", 5_000, 512, 4 * GB)


def test_rebuild_reasons_with_hysteresis():
    small = make_index("flat", DIM)
    small.add(np.arange(1_000), clustered(1_000, 20))
    assert rebuild_reason(small, "auto", 4 * GB) is None
    assert "hnsw" in rebuild_reason(small, "hnsw", 4 * GB)
    # a flat index just past the flat limit stays (hysteresis); far past it, it moves
    limit = (32 << 20) // (4 * DIM)
    assert choose_kind(int(limit * 1.2), DIM, 4 * GB) == "hnsw"

    class Sized:  # only len() and kind matter to the rule
        kind, dim = "flat", DIM

        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def needs_rebuild(self):
            return None

    assert rebuild_reason(Sized(int(limit * 1.2)), "auto", 4 * GB) is None
    assert "hnsw" in rebuild_reason(Sized(limit * 3), "auto", 4 * GB)
