"""CLIP text vectors from the short path (tokens up to end-of-text only) equal open_clip's own."""
import numpy as np
import torch


def test_short_text_path_matches_open_clip(encoders):
    clip = encoders.clip
    texts = ["a dog", "where they talk about the budget for schools next year", "", "x " * 100]
    ours = clip.encode_texts(texts)
    with torch.inference_mode():
        reference = clip.model.encode_text(clip.tokenizer(texts), normalize=True).numpy()
    assert ours.shape == (4, clip.dim)
    assert np.allclose(ours, reference, atol=1e-5)
    tokens = clip.tokenizer(["a dog"])
    assert int(tokens.argmax(dim=-1)) + 1 < tokens.shape[1]  # the padding it skips does exist
