"""CLIP's plain text tower in numpy (``core.models.clip_text_numpy``) against open_clip's own, for
the tower shapes it takes, and the shapes it must leave to ONNX."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.models.clip_text_numpy import NumpyClipText, plain_tower_shape, save_plain_tower
from tests.conftest import TINY_CLIP
from tests.test_clip_text import varied_texts

TEXT = TINY_CLIP["text_cfg"]


def _model(tmp_path, name: str, quick_gelu: bool = False, **text_cfg):
    import open_clip
    import torch

    config = tmp_path / f"{name}.json"
    config.write_text(json.dumps({**TINY_CLIP, "quick_gelu": quick_gelu, "text_cfg": {**TEXT, **text_cfg}}))
    open_clip.add_model_config(config)
    torch.manual_seed(1)
    model = open_clip.create_model(name).eval()
    with torch.no_grad():  # untrained LayerNorms are 1 and 0: make them matter
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return model, open_clip.get_tokenizer(name)


@pytest.mark.parametrize("name, kwargs", [
    ("np-gelu", {}),
    ("np-quick-gelu", {"quick_gelu": True}),
    ("np-linear-projection", {"proj_bias": True}),
    ("np-no-projection", {"proj_type": "none"}),
])
def test_the_numpy_tower_gives_open_clips_vectors(tmp_path, name, kwargs):
    import torch

    model, tokenizer = _model(tmp_path, name, **kwargs)
    layout = save_plain_tower(model, tmp_path / "text.npy")
    assert layout is not None
    tower = NumpyClipText(tmp_path / "text.npy", layout)
    texts = varied_texts(120, seed=5) + ["", "where they vote on the school budget " * 12]
    tokens = tokenizer(texts)
    with torch.no_grad():
        expected = model.encode_text(tokens, normalize=True).numpy()
    cut = tokens.numpy()[:, :int(tokens.argmax(dim=-1).max()) + 1]  # as ExportedClipText feeds it
    got = tower(cut)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert (got * expected).sum(axis=1).min() > 1 - 1e-5
    assert np.abs(got - expected).max() < 1e-4


@pytest.mark.parametrize("name, kwargs", [
    ("np-layer-scale", {"ls_init_value": 0.1}),
    ("np-first-token", {"pool_type": "first"}),
    ("np-no-mask", {"no_causal_mask": True}),
])
def test_a_tower_of_another_shape_is_not_written(tmp_path, name, kwargs):
    model, _ = _model(tmp_path, name, **kwargs)
    assert plain_tower_shape(model) is None
    assert save_plain_tower(model, tmp_path / "text.npy") is None
    assert not (tmp_path / "text.npy").exists()
