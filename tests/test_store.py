"""Conformance of every vector index type, with exact counts.

Each type goes through the same life: build N -> save -> load -> append -> replace -> delete ->
deleting a missing id changes nothing -> ask for more than exist -> save/load again -> recall@10
on held-out queries against exact search, above that type's target.
"""
import faiss
import numpy as np
import pytest

from core.vectors import normalize
from core.vectors.faiss import build_index, exact_search, load_index, make_index, recall_at_k, rows_source

DIM = 32
N = 12_000  # IVF-PQ trains 256 centroids per sub-quantiser: FAISS wants ~10k vectors
CASES = [
    ("flat", {}),
    ("hnsw", {}),
    ("ivf_flat", {}),
    ("ivf_pq", {}),
    ("ivf_pq", {"opq": True, "opq_niter": 2}),
    ("ivf_flat", {"graph_from": 64}),  # buckets found through an HNSW graph, as from 8k buckets
    ("ivf_pq", {"graph_from": 64}),
]
# recall@10 on held-out queries; PQ's codes cap its recall, so it is also held to its own ceiling
RECALL = {"flat": 0.99, "hnsw": 0.9, "ivf_flat": 0.9, "ivf_pq": 0.5}


def clustered(n, seed, dim=DIM, clusters=64, rank=8):
    """Unit vectors around cluster centres in a low-dimensional subspace (like real embeddings)."""
    shared = np.random.default_rng(99)
    basis = np.linalg.qr(shared.standard_normal((dim, rank)))[0].T
    centres = shared.standard_normal((clusters, dim))
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, clusters, n)] + 0.5 * rng.standard_normal((n, rank)) @ basis * np.sqrt(dim / rank)
    return normalize(x + 0.05 * rng.standard_normal((n, dim)))


@pytest.fixture(scope="module")
def data():
    return clustered(N, 1), clustered(200, 2)


def case_id(case):
    kind, params = case
    return kind + ("+opq" if params.get("opq") else "") + ("+graph" if params.get("graph_from") else "")


@pytest.mark.parametrize("kind,params", CASES, ids=[case_id(c) for c in CASES])
def test_conformance(kind, params, data, tmp_path):
    base, queries = data
    index = build_index(kind, np.arange(1, N + 1), base, params=params, recall_target=0.95)
    assert index.kind == kind and len(index) == N
    assert sorted(index.ids().tolist()) == list(range(1, N + 1))

    path = tmp_path / "space.faiss"
    index.save(path, {"model": "m"})
    loaded = load_index(path)
    assert type(loaded) is type(index) and len(loaded) == N and loaded.dim == DIM
    assert loaded.params == index.params and loaded.search_params == index.search_params
    assert loaded.meta["model"] == "m" and loaded.meta["faiss_version"] == faiss.__version__
    assert loaded.meta["kind"] == kind and loaded.build_info["build_seconds"] > 0
    if params.get("graph_from"):
        quantizer = faiss.downcast_index(faiss.extract_index_ivf(loaded._faiss()).quantizer)
        assert isinstance(quantizer, faiss.IndexHNSW) and quantizer.ntotal == loaded.params["nlist"]
    assert np.array_equal(loaded.search(queries[:20], 10)[1], index.search(queries[:20], 10)[1])

    extra = clustered(500, 3)
    loaded.add(np.arange(N + 1, N + 501), extra)
    assert len(loaded) == N + 500
    assert N + 250 in loaded.search(extra[249], 10)[1][0]

    replacement = clustered(1, 4)
    loaded.add([7], replacement)  # re-adding an id replaces it
    assert len(loaded) == N + 500
    assert float(loaded.reconstruct(7) @ replacement[0]) > (0.999 if kind != "ivf_pq" else 0.8)

    assert loaded.remove([5, 6]) == 2 and len(loaded) == N + 498
    assert loaded.remove([5, 999_999]) == 0 and len(loaded) == N + 498
    assert loaded.remove([]) == 0 and len(loaded) == N + 498
    live = set(range(1, N + 501)) - {5, 6}
    assert set(loaded.ids().tolist()) == live and len(loaded.ids()) == N + 498
    with pytest.raises(KeyError):
        loaded.reconstruct(5)
    for row in (4, 5):  # deleted ids never come back, even for their own vectors
        assert not {5, 6} & set(loaded.search(base[row], 50)[1][0].tolist())

    scores, ids = loaded.search(base[100], N + 1000)  # more than exist: all of them, once
    assert ids.shape == (1, N + 498) and set(ids[0].tolist()) == live
    assert np.all(np.diff(scores[0]) <= 1e-6)

    loaded.save(path)
    again = load_index(path)
    assert len(again) == N + 498 and set(again.ids().tolist()) == live
    assert len(load_index(path.with_name("space.faiss.prev"))) == N

    vectors = np.concatenate([base, extra])
    vectors[6] = replacement[0]
    keep = np.array([i not in (5, 6) for i in range(1, N + 501)])
    truth = exact_search(queries, np.arange(1, N + 501)[keep], vectors[keep], 10)[1]
    recall = recall_at_k(again.search(queries, 10)[1], truth, 10)
    assert recall >= RECALL[kind], f"{kind}: recall@10 {recall:.3f}"
    if kind == "ivf_pq":  # tuned to within reach of what its codes allow
        again.search_params = {"nprobe": again.params["nlist"]}
        ceiling = recall_at_k(again.search(queries, 10)[1], truth, 10)
        assert recall >= ceiling - 0.05, f"tuned {recall:.3f}, ceiling {ceiling:.3f}"
    elif kind != "flat":
        assert index.build_info["target_met"] and index.build_info["recall"] >= 0.95


def test_tuning_picks_the_cheapest_setting_that_reaches_the_target(data):
    base, _ = data
    loose = build_index("ivf_flat", np.arange(N), base, recall_target=0.5)
    strict = build_index("ivf_flat", np.arange(N), base, recall_target=0.99)
    assert loose.search_params["nprobe"] < strict.search_params["nprobe"]
    assert 0.5 <= loose.build_info["recall"] < strict.build_info["recall"]
    tried = strict.build_info["tried"]
    assert all(r < 0.99 for _, r in tried[:-1]) and tried[-1][1] >= 0.99


def test_asking_for_more_than_exist_and_empty_index():
    for kind in ("flat", "hnsw", "ivf_flat", "ivf_pq"):
        index = make_index(kind, DIM)
        scores, ids = index.search(clustered(1, 5), 10)
        assert ids.shape == (1, 0) and len(index) == 0 and len(index.ids()) == 0
        assert index.remove([1]) == 0
    index = make_index("flat", DIM)
    index.add([1, 2], clustered(2, 6))
    scores, ids = index.search(clustered(1, 7), 10)
    assert sorted(ids[0].tolist()) == [1, 2]


def test_wrong_dimension_duplicates_and_unknown_kind_fail():
    index = make_index("flat", DIM)
    with pytest.raises(ValueError, match="dimension"):
        index.add([1], np.ones((1, DIM + 1), np.float32))
    with pytest.raises(ValueError, match="twice"):
        index.add([1, 1], clustered(2, 8))
    with pytest.raises(ValueError, match="unknown vector index kind"):
        make_index("annoy", DIM)
    with pytest.raises(ValueError, match="unknown parameter"):
        make_index("hnsw", DIM, nprobe=3)
    with pytest.raises(ValueError, match="must divide"):
        make_index("ivf_pq", DIM, m=7)


def test_pq_reranked_from_exact_vectors_reaches_the_target(data, tmp_path):
    base, queries = data
    ids = np.arange(1, N + 1)
    index = build_index("ivf_pq", ids, base, recall_target=0.95, exact_source=rows_source(ids, base))
    assert index.build_info["target_met"] and index.search_params.get("rerank", 0) > 1
    truth = exact_search(queries, ids, base, 10)[1]
    assert recall_at_k(index.search(queries, 10)[1], truth, 10) >= 0.93
    scores, found = index.search(queries[:1], 10)  # re-ranked scores are the exact ones
    assert np.allclose(scores[0], base[found[0] - 1] @ queries[0], atol=1e-5)

    index.save(tmp_path / "pq.faiss")
    loaded = load_index(tmp_path / "pq.faiss")  # the setting travels; the source is the owner's
    assert loaded.search_params == index.search_params and loaded.exact_source is None
    alone = recall_at_k(loaded.search(queries, 10)[1], truth, 10)
    assert alone < 0.9, f"PQ codes alone: recall {alone:.3f}"

    gone = int(found[0][0])  # an id the catalog no longer has is dropped, not returned with junk
    everything = rows_source(ids, base)
    loaded.exact_source = lambda wanted: everything(wanted[wanted != gone])
    again = loaded.search(queries[:1], 10)[1][0]
    assert gone not in again and list(again[:9]) == list(found[0][1:10])
