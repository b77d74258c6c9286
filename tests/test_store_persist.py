"""Index files: metadata inside the file, atomic replacement, the previous copy, older files."""
import json

import faiss
import numpy as np
import pytest

from core.vectors.faiss import build_index, load_index, make_index
from core.vectors.faiss import persist
from tests.test_store import DIM, clustered


def test_save_is_atomic_and_keeps_previous(tmp_path):
    path = tmp_path / "space.faiss"
    index = make_index("flat", DIM)
    index.add([1], clustered(1, 8))
    index.save(path)
    index.add([2], clustered(1, 9))
    index.save(path)
    assert len(load_index(path)) == 2
    assert len(load_index(path.with_suffix(".faiss.prev"))) == 1
    assert not list(tmp_path.glob("*.tmp"))


def test_metadata_travels_inside_the_file(tmp_path):
    path = tmp_path / "space.faiss"
    index = build_index("hnsw", np.arange(3_000), clustered(3_000, 30), recall_target=0.9)
    index.save(path, {"model": "clip-x"})
    _, meta, arrays = persist.read(path)
    assert meta["kind"] == "hnsw" and meta["dim"] == DIM and meta["count"] == 3_000
    assert meta["model"] == "clip-x" and meta["faiss_version"] == faiss.__version__
    assert meta["params"] == {"M": 32, "efConstruction": 64}
    assert meta["search_params"]["efSearch"] >= 16 and meta["build"]["recall"] >= 0.9
    assert meta["saved_at"] > 0 and set(arrays) == {"ids", "dead"}
    json.dumps(meta)  # plain JSON, readable by any tool
    assert faiss.read_index(str(path)).ntotal == 3_000  # a plain FAISS reader still reads it


def test_plain_faiss_files_from_earlier_versions_load_as_flat(tmp_path):
    path = tmp_path / "old.faiss"
    old = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    old.add_with_ids(clustered(3, 31), np.array([4, 8, 15], np.int64))
    faiss.write_index(old, str(path))
    loaded = load_index(path)
    assert loaded.kind == "flat" and sorted(loaded.ids().tolist()) == [4, 8, 15]


def test_a_torn_or_foreign_file_fails_loudly(tmp_path):
    torn = tmp_path / "torn.faiss"
    index = make_index("flat", DIM)
    index.add(np.arange(100), clustered(100, 32))
    index.save(torn)
    torn.write_bytes(torn.read_bytes()[:5_000])
    with pytest.raises(Exception):
        load_index(torn)
    foreign = tmp_path / "lsh.faiss"
    faiss.write_index(faiss.IndexLSH(DIM, 64), str(foreign))
    with pytest.raises(ValueError, match="rebuild"):
        load_index(foreign)


def test_an_untrained_index_saves_as_an_empty_exact_one(tmp_path):
    make_index("ivf_pq", DIM).save(tmp_path / "e.faiss")
    loaded = load_index(tmp_path / "e.faiss")
    assert loaded.kind == "flat" and len(loaded) == 0
