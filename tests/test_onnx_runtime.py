"""Text towers on ONNX Runtime give PyTorch's vectors, export once per set of weights, and never
answer from a graph that does not match the weights loaded."""
import logging
import shutil

import numpy as np
import pytest
import torch

from core.models import base as model_base
from core.models import onnx_runtime
from core.models.clip import ClipEncoder
from core.models.packaged_sentence import packaged_minilm
from core.models.sentence import SentenceEncoder
from core.models.base import resolve_text_runtime

TEXTS = ["a dog", "where they talk about the budget for schools next year", "", "x " * 100, "Zürich 2024!"]


def _clip(tiny_clip, runtime, cache=None, checkpoint=None):
    return ClipEncoder(tiny_clip["clip_model"], checkpoint or tiny_clip["clip_pretrained"],
                       text_precision="fp32", text_runtime=runtime, onnx_cache_dir=cache)


def test_clip_text_tower_on_onnx_runtime_gives_pytorchs_vectors(tiny_clip, tmp_path):
    fast, reference = _clip(tiny_clip, "onnx", tmp_path), _clip(tiny_clip, "torch")
    assert (fast.text_runtime, reference.text_runtime) == ("onnx", "torch")
    assert len(list(tmp_path.glob("clip-*.onnx"))) == 1
    for texts in (TEXTS, TEXTS[:1], [f"query number {i}" for i in range(70)]):  # over one batch, too
        ours, theirs = fast.encode_texts(texts), reference.encode_texts(texts)
        assert ours.dtype == np.float32 and ours.shape == (len(texts), fast.dim)
        assert np.allclose(ours, theirs, atol=1e-5)
    with torch.inference_mode():  # and both equal open_clip's own full-length path
        full = reference.model.encode_text(reference.tokenizer(TEXTS), normalize=True).numpy()
    assert np.allclose(fast.encode_texts(TEXTS), full, atol=1e-5)


def test_export_is_cached_per_weights_and_a_wrong_graph_is_replaced(tiny_clip, tmp_path, monkeypatch, caplog):
    with caplog.at_level(logging.WARNING, logger="core.models.onnx_runtime"):
        first = _clip(tiny_clip, "onnx", tmp_path)
    (graph,) = tmp_path.glob("clip-*.onnx")
    assert f"once for these weights (up to a minute): {graph}" in caplog.text  # a long pause, said

    # Other weights (the projection changed) get a graph of their own.
    state = torch.load(tiny_clip["clip_pretrained"])["state_dict"]
    state["text_projection"] = state["text_projection"] + 0.1 * torch.randn_like(state["text_projection"])
    changed = tmp_path / "changed.pt"
    torch.save({"state_dict": state}, changed)
    other = _clip(tiny_clip, "onnx", tmp_path, checkpoint=str(changed))
    graphs = sorted(tmp_path.glob("clip-*.onnx"))
    assert len(graphs) == 2
    assert not np.allclose(other.encode_texts(TEXTS), first.encode_texts(TEXTS), atol=1e-3)

    # The same weights again: no export, the cached graph answers.
    def no_export(*args):
        raise AssertionError("exported again")
    monkeypatch.setattr(onnx_runtime, "_export", no_export)
    again = _clip(tiny_clip, "onnx", tmp_path)
    assert again.text_runtime == "onnx"
    monkeypatch.undo()

    # A graph that does not reproduce the weights (here: the other model's, under this name) is
    # found out by the load-time check and exported again.
    (other_graph,) = [g for g in graphs if g != graph]
    reference = _clip(tiny_clip, "torch").encode_texts(TEXTS)
    shutil.copy(other_graph, graph)
    repaired = _clip(tiny_clip, "onnx", tmp_path)
    assert np.allclose(repaired.encode_texts(TEXTS), reference, atol=1e-5)
    # So is a file cut short (a crash while copying caches, a full disk).
    graph.write_bytes(graph.read_bytes()[:5000])
    repaired = _clip(tiny_clip, "onnx", tmp_path)
    assert repaired.text_runtime == "onnx" and np.allclose(repaired.encode_texts(TEXTS), reference, atol=1e-5)


def test_sentence_model_on_onnx_runtime_matches_sentence_transformers(tmp_path):
    """The real MiniLM weights: the same vectors as sentence-transformers' own encode."""
    fast = SentenceEncoder(packaged_minilm(), runtime="onnx", onnx_cache_dir=tmp_path)
    reference = SentenceEncoder(packaged_minilm(), runtime="torch")
    assert (fast.runtime, reference.runtime) == ("onnx", "torch")
    long_text = "the council debated the school budget " * 80  # past the 256-token limit: truncated alike
    texts = TEXTS + [long_text] + [f"speech about topic {i}" for i in range(70)]
    ours, theirs = fast.encode(texts), reference.encode(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert (ours * theirs).sum(axis=1).min() > 0.9999
    nearest = (ours[:5] @ ours.T).argsort(axis=1)[:, -1]
    assert list(nearest) == list(range(5))


def test_auto_runtime_choice_and_failures(tiny_clip, tmp_path, monkeypatch, caplog):
    assert resolve_text_runtime("auto", "cpu") == "onnx"
    assert resolve_text_runtime("auto", "cuda") == "torch"
    assert resolve_text_runtime("auto", "cpu", "bf16") == "torch"  # bf16 is PyTorch's
    assert resolve_text_runtime("torch", "cpu") == "torch"
    for bad in (("onnx", "cpu", "bf16"), ("tensorrt", "cpu", "auto")):
        with pytest.raises(ValueError):
            resolve_text_runtime(*bad)
    monkeypatch.setattr(model_base, "missing_runtime", lambda: "onnxruntime is not installed")
    assert resolve_text_runtime("auto", "cpu") == "torch"
    monkeypatch.undo()

    def broken_export(*args):
        raise RuntimeError("exporter crashed")
    monkeypatch.setattr(onnx_runtime, "_export", broken_export)
    with caplog.at_level(logging.WARNING, logger="core.models.onnx_runtime"):
        encoder = _clip(tiny_clip, "auto", tmp_path)
    assert encoder.text_runtime == "torch"  # the same weights on PyTorch, and the log says why
    assert "exporter crashed" in caplog.text
    assert encoder.encode_texts(["a dog"]).shape == (1, encoder.dim)
    with pytest.raises(RuntimeError, match="exporter crashed"):  # asked for explicitly: an error
        _clip(tiny_clip, "onnx", tmp_path)


def test_clip_image_tower_on_onnx_runtime_gives_pytorchs_vectors(tiny_clip, tmp_path):
    def clip(runtime):
        return ClipEncoder(tiny_clip["clip_model"], tiny_clip["clip_pretrained"], text_runtime="torch",
                           image_runtime=runtime, onnx_cache_dir=tmp_path)

    fast, reference = clip("onnx"), clip("torch")
    assert not list(tmp_path.glob("clip-image-*.onnx"))  # built on the first frames: a text query never pays
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(224, 398), (240, 320), (180, 180)] * 14]
    ours, theirs = fast.encode_images(frames), reference.encode_images(frames)  # 42 frames: two batches
    assert (fast.image_runtime, reference.image_runtime) == ("onnx", "torch")
    assert len(list(tmp_path.glob("clip-image-*.onnx"))) == 1
    assert ours.dtype == np.float32 and ours.shape == (42, fast.dim)
    assert np.allclose(ours, theirs, atol=1e-5)
    assert np.allclose(fast.encode_images(frames[:1]), theirs[:1], atol=1e-5)  # a batch of one, too
