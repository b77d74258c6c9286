"""CLIP through the local-checkpoint path, MiniLM from its package, and honest failures."""
import numpy as np
import open_clip
import pytest
import torch

from core.models.base import ModelUnavailable
from core.models.clip import ClipEncoder
from core.encoders import Encoders, VisualSearchUnavailable
from core.settings import Settings


def test_clip_loads_from_a_local_checkpoint(encoders, tiny_clip):
    clip = encoders.clip
    assert clip is not None and clip.dim == 64
    assert clip.model_id.startswith("open_clip:vidsearch-tiny-clip:vidsearch-tiny-clip.pt")
    frames = [np.full((224, 300, 3), c, np.uint8) for c in (0, 128, 255)]
    images = clip.encode_images(frames)
    texts = clip.encode_texts(["a red flower", "a sailor"])
    assert images.shape == (3, 64) and texts.shape == (2, 64)
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-4)
    assert not np.allclose(texts[0], texts[1])


def test_checkpoint_weights_are_really_loaded(tiny_clip, tmp_path):
    import torch

    clip = ClipEncoder(tiny_clip["clip_model"], tiny_clip["clip_pretrained"],
                       config_path=tiny_clip["clip_model_config"])
    saved = torch.load(tiny_clip["clip_pretrained"])["state_dict"]
    loaded = clip.model.state_dict()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)


def test_unavailable_weights_are_said_plainly_and_remembered(tmp_path, monkeypatch):
    calls = []

    def no_network(*args, **kwargs):  # the download is the one thing that cannot exist here
        calls.append(args)
        raise OSError("network unreachable")

    monkeypatch.setattr(open_clip.factory, "download_pretrained", no_network)
    with pytest.raises(ModelUnavailable, match="could not be loaded: .*network unreachable"):
        ClipEncoder("ViT-B-32", "laion2b_s34b_b79k", marker_dir=tmp_path)
    assert len(calls) == 1
    with pytest.raises(ModelUnavailable, match="download failed .* min ago"):
        ClipEncoder("ViT-B-32", "laion2b_s34b_b79k", marker_dir=tmp_path)
    assert len(calls) == 1  # no second minute-long wait on a dead network


def test_never_random_weights(tmp_path):
    with pytest.raises(ModelUnavailable, match="neither a file nor a known tag"):
        ClipEncoder("ViT-B-32", "no-such-tag", marker_dir=tmp_path)
    with pytest.raises(ModelUnavailable, match="no CLIP weights"):
        ClipEncoder("ViT-B-32", "", marker_dir=tmp_path)
    with pytest.raises(ModelUnavailable, match="unknown CLIP architecture"):
        ClipEncoder("ViT-Nope", str(tmp_path / "x.pt"), marker_dir=tmp_path)


def test_speech_only_when_clip_is_missing_unless_visual_is_required(tmp_path, caplog):
    settings = Settings(data_dir=tmp_path, clip_pretrained=str(tmp_path / "missing.pt"))
    encoders = Encoders(settings)
    assert encoders.clip is None and "neither a file" in encoders.clip_error
    assert "speech-only" in caplog.text
    with pytest.raises(VisualSearchUnavailable):
        encoders.require_clip()
    strict = Encoders(Settings(data_dir=tmp_path, clip_pretrained=str(tmp_path / "missing.pt"),
                               require_visual=True))
    with pytest.raises(VisualSearchUnavailable):
        strict.clip


def test_the_speech_model_is_the_packaged_mpnet(encoders):
    assert encoders.sentence.model_id == "sentence-transformers:all-mpnet-base-v2"
    vecs = encoders.sentence.encode(["the budget for schools", "money spent on education", "a dog"])
    assert vecs.shape == (3, 768)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2


def test_minilm_in_bfloat16_gives_the_same_meanings():
    """Real MiniLM weights: bf16 vectors stay within cosine 0.99 of float32's, and unit length."""
    from core.models.packaged_sentence import packaged_minilm
    from core.models.sentence import SentenceEncoder

    texts = ["where they talk about the budget for schools", "a dog catching a frisbee in the park",
             "heavy rain and strong winds on the coast", "the striker scored twice in the second half"]
    full = SentenceEncoder(packaged_minilm(), precision="fp32")
    half = SentenceEncoder(packaged_minilm(), precision="bf16")
    assert half.precision == "bf16" and next(half.model.parameters()).dtype == torch.bfloat16
    a, b = full.encode(texts), half.encode(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.99
    assert np.array_equal(np.argmax(a @ a.T, axis=1), np.argmax(b @ a.T, axis=1))  # same nearest text
