"""Conformance of the vector index, with exact counts (build, save/load, append, delete)."""
import numpy as np
import pytest

from search.store import make_index, normalize

DIM = 32


def vectors(n, seed):
    return normalize(np.random.default_rng(seed).normal(size=(n, DIM)))


@pytest.mark.parametrize("kind", ["flat"])
def test_conformance(kind, tmp_path):
    index = make_index(kind, DIM)
    base = vectors(10_000, 1)
    index.add(np.arange(1, 10_001), base)
    assert len(index) == 10_000
    path = tmp_path / "space.faiss"
    index.save(path, {"model": "m"})
    loaded = type(index).load(path)
    assert len(loaded) == 10_000 and loaded.dim == DIM
    loaded.add(np.arange(10_001, 10_501), vectors(500, 2))
    assert len(loaded) == 10_500
    assert loaded.remove([5, 6]) == 2 and len(loaded) == 10_498
    assert loaded.remove([5, 999_999]) == 0 and len(loaded) == 10_498
    scores, ids = loaded.search(base[100], 3)
    assert ids[0][0] == 101 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    scores, ids = loaded.search(base[4], 10)
    assert 5 not in ids[0]  # deleted ids never come back
    assert set(loaded.ids().tolist()) == set(range(1, 10_501)) - {5, 6}


def test_readding_an_id_replaces_it():
    index = make_index("flat", DIM)
    index.add([7], vectors(1, 3))
    index.add([7], vectors(1, 4))
    assert len(index) == 1
    assert np.allclose(index.reconstruct(7), vectors(1, 4)[0], atol=1e-6)


def test_asking_for_more_than_exist_and_empty_index():
    index = make_index("flat", DIM)
    scores, ids = index.search(vectors(1, 5), 10)
    assert ids.shape == (1, 0)
    index.add([1, 2], vectors(2, 6))
    scores, ids = index.search(vectors(1, 7), 10)
    assert sorted(ids[0].tolist()) == [1, 2]


def test_save_is_atomic_and_keeps_previous(tmp_path):
    path = tmp_path / "space.faiss"
    index = make_index("flat", DIM)
    index.add([1], vectors(1, 8))
    index.save(path)
    index.add([2], vectors(1, 9))
    index.save(path)
    assert len(type(index).load(path)) == 2
    assert len(type(index).load(path.with_suffix(".faiss.prev"))) == 1
    assert not list(tmp_path.glob("*.tmp"))


def test_wrong_dimension_and_unknown_kind_fail():
    index = make_index("flat", DIM)
    with pytest.raises(ValueError, match="dimension"):
        index.add([1], np.ones((1, DIM + 1), np.float32))
    with pytest.raises(ValueError, match="unknown vector index kind"):
        make_index("annoy", DIM)
