"""A query process encodes with the checked export alone (onnxruntime + tokenizers, no torch),
gives the full model's vectors, and never uses an export that does not match its model or graph."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from core.models.exported import ExportedTextEncoder, source_fingerprint
from core.models.packaged_sentence import packaged_minilm
from core.models.sentence import SentenceEncoder, load_sentence_encoder

TEXTS = ["a dog", "WHERE they talk about the budget", "Zürich 2024!", "", "the council " * 200]

# A fresh interpreter: what a `vidsearch search` process would import and encode.
FRESH = """
import json, sys
import numpy as np
from core.models.sentence import load_sentence_encoder
encoder = load_sentence_encoder(sys.argv[1], runtime="auto", onnx_cache_dir=sys.argv[2])
np.save(sys.argv[3], encoder.encode(json.loads(sys.argv[4])))
print(json.dumps({"kind": type(encoder).__name__, "model_id": encoder.model_id, "dim": encoder.dim,
                  "heavy": sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)}))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One export of the real MiniLM (it takes seconds); each test works on its own copy."""
    cache = tmp_path_factory.mktemp("exported")
    full = SentenceEncoder(packaged_minilm(), runtime="onnx", onnx_cache_dir=cache)
    return cache, full.model_id


@pytest.fixture
def cache(exported, tmp_path):
    return shutil.copytree(exported[0], tmp_path / "onnx")


def _fresh(model, cache, tmp_path):
    out = tmp_path / "vectors.npy"
    done = subprocess.run([sys.executable, "-c", FRESH, str(model), str(cache), str(out), json.dumps(TEXTS)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), np.load(out)


def test_a_query_process_encodes_without_torch_and_gets_the_models_vectors(exported, cache, tmp_path):
    assert len(list(cache.glob("sentence-*.manifest.json"))) == 1
    info, vectors = _fresh(packaged_minilm(), cache, tmp_path)
    assert info == {"kind": "ExportedTextEncoder", "model_id": exported[1], "dim": 384, "heavy": []}
    reference = SentenceEncoder(packaged_minilm(), runtime="torch").encode(TEXTS)
    assert vectors.shape == reference.shape and (vectors * reference).sum(axis=1).min() > 0.9999


def test_an_export_that_does_not_match_its_graph_or_model_is_not_used(cache, tmp_path):
    (manifest,) = cache.glob("sentence-*.manifest.json")
    kind = "sentence-all-MiniLM-L6-v2"
    fingerprint = source_fingerprint(packaged_minilm(), kind)
    assert ExportedTextEncoder.open(cache, kind, fingerprint) is not None

    # A graph other than the one checked (here: another stat and digest than its own): the full model.
    saved = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**saved, "graph_stat": [1, 2]}))
    assert ExportedTextEncoder.open(cache, kind, fingerprint) is not None  # the same digest: still it
    manifest.write_text(json.dumps({**saved, "graph_stat": [1, 2], "graph_sha256": "0" * 64}))
    assert ExportedTextEncoder.open(cache, kind, fingerprint) is None
    assert isinstance(load_sentence_encoder(packaged_minilm(), runtime="onnx", onnx_cache_dir=cache),
                      SentenceEncoder)
    assert ExportedTextEncoder.open(cache, kind, fingerprint) is not None  # ...which checked and wrote it again

    # A model folder whose files changed has another fingerprint: no export is found for it.
    copy = tmp_path / "model"
    shutil.copytree(packaged_minilm(), copy)
    before = source_fingerprint(copy, kind)
    (copy / "config.json").write_text((copy / "config.json").read_text() + "\n")
    assert source_fingerprint(copy, kind) != before
    assert ExportedTextEncoder.open(cache, kind, source_fingerprint(copy, kind)) is None
    assert source_fingerprint("sentence-transformers/all-MiniLM-L6-v2", kind) is None  # a hub name


def test_a_torn_manifest_falls_back_to_the_full_model(cache):
    (manifest,) = cache.glob("sentence-*.manifest.json")
    manifest.write_text(manifest.read_text()[:40])
    encoder = load_sentence_encoder(packaged_minilm(), runtime="onnx", onnx_cache_dir=cache)
    assert isinstance(encoder, SentenceEncoder) and encoder.encode(["a dog"]).shape == (1, 384)
