"""CLIP text vectors from the short path (tokens up to end-of-text only) equal open_clip's own."""
import numpy as np
import pytest
import torch


def test_short_text_path_matches_open_clip(tiny_clip):
    from core.models.clip import ClipEncoder

    clip = ClipEncoder(tiny_clip["clip_model"], tiny_clip["clip_pretrained"], text_precision="fp32")
    texts = ["a dog", "where they talk about the budget for schools next year", "", "x " * 100]
    ours = clip.encode_texts(texts)
    with torch.inference_mode():
        reference = clip.model.encode_text(clip.tokenizer(texts), normalize=True).numpy()
    assert ours.shape == (4, clip.dim)
    assert np.allclose(ours, reference, atol=1e-5)
    tokens = clip.tokenizer(["a dog"])
    assert int(tokens.argmax(dim=-1)) + 1 < tokens.shape[1]  # the padding it skips does exist


def test_bfloat16_text_tower_stays_close_to_float32(tiny_clip):
    """bf16 halves the text weights' memory traffic; the vectors must stay those of the same model."""
    from core.models.clip import ClipEncoder
    from core.models.base import resolve_text_precision

    texts = ["a dog", "where they talk about the budget for schools next year", "x " * 100]
    args = (tiny_clip["clip_model"], tiny_clip["clip_pretrained"])
    full = ClipEncoder(*args, text_precision="fp32")
    half = ClipEncoder(*args, text_precision="bf16")
    assert half.text_precision == "bf16" and half.model.transformer.get_cast_dtype() == torch.bfloat16
    assert half.model.visual.conv1.weight.dtype == torch.float32  # frames keep float32
    a, b = full.encode_texts(texts), half.encode_texts(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-3)
    assert (a * b).sum(axis=1).min() > 0.99
    assert resolve_text_precision("auto", "cuda") == "fp32"
    assert resolve_text_precision("auto", "cpu") in ("fp32", "bf16")
    with pytest.raises(ValueError):
        resolve_text_precision("fp8", "cpu")
