"""What only some index types do: HNSW tombstones, IVF training and growth."""
import numpy as np
import pytest

from core.vectors.faiss import load_index, make_index
from tests.test_store import DIM, clustered


def test_hnsw_tombstones_are_counted_skipped_persisted_and_trigger_a_rebuild(tmp_path):
    index = make_index("hnsw", DIM)
    vectors = clustered(2_000, 11)
    index.add(np.arange(2_000), vectors)
    assert index.needs_rebuild() is None
    assert index.remove(np.arange(0, 2_000, 2)) == 1_000  # half the graph
    assert len(index) == 1_000 and index.dead_count == 1_000
    assert "deleted" in index.needs_rebuild()
    scores, ids = index.search(vectors[:50], 10)
    assert ids.shape == (50, 10) and (ids >= 0).all() and (ids % 2 == 1).all()
    index.save(tmp_path / "h.faiss")
    loaded = load_index(tmp_path / "h.faiss")
    assert len(loaded) == 1_000 and loaded.dead_count == 1_000
    assert sorted(loaded.ids().tolist()) == list(range(1, 2_000, 2))


def test_hnsw_rows_stay_full_when_almost_everything_is_deleted():
    index = make_index("hnsw", DIM)
    vectors = clustered(3_000, 12)
    index.add(np.arange(3_000), vectors)
    index.remove(np.arange(20, 3_000))  # the graph walk mostly meets dead nodes
    index.search_params = {"efSearch": 16}
    scores, ids = index.search(vectors[2_500:2_520], 10)
    assert (ids >= 0).all() and (ids < 20).all()
    assert all(len(set(row)) == 10 for row in ids.tolist())


def test_hnsw_readding_a_deleted_id_brings_back_only_the_new_vector():
    index = make_index("hnsw", DIM)
    old, new = clustered(2, 13)
    index.add([1, 2], np.stack([old, clustered(1, 14)[0]]))
    index.remove([1])
    index.add([1], new)
    assert len(index) == 2 and sorted(index.ids().tolist()) == [1, 2]
    assert np.allclose(index.reconstruct(1), new, atol=1e-6)


def test_ivf_trains_on_its_first_batch_or_says_how_many_it_needs():
    with pytest.raises(ValueError, match="at least 10000"):
        make_index("ivf_pq", DIM).add(np.arange(500), clustered(500, 15))
    index = make_index("ivf_flat", DIM)
    index.add(np.arange(2_000), clustered(2_000, 16))
    assert index.is_trained and len(index) == 2_000 and index.params["trained_for"] == 2_000
    assert index.needs_rebuild() is None
    index.add(np.arange(2_000, 10_001), clustered(8_001, 17))
    assert "trained for 2000" in index.needs_rebuild()


def test_ivf_reconstruct_builds_its_id_table_once_and_deletes_still_work():
    index = make_index("ivf_flat", DIM)
    vectors = clustered(3_000, 18)
    index.add(np.arange(10, 3_010), vectors)
    assert np.allclose(index.reconstruct(10), vectors[0], atol=1e-6)
    assert index.remove([10, 11, 5]) == 2 and len(index) == 2_998
    with pytest.raises(KeyError):
        index.reconstruct(10)
