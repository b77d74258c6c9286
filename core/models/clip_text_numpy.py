"""CLIP's text transformer run by numpy on weights mapped from one file, for query processes.

A cold text query in a library with CLIP vectors must not import torch. ONNX Runtime answers
without it, but opening its session over CLIP's text graph costs a cold query more than the tower
itself: cut at the end-of-text token, a query is a dozen small matrix products. So the weights of
open_clip's plain text tower (OpenAI's CLIP and most open_clip models: pre-norm blocks of causal
multi-head attention and a GELU or QuickGELU MLP, pooled at end-of-text) are written once to one
float32 ``.npy`` file that a query process maps instead of reading (the page cache keeps it
between processes), and ``NumpyClipText`` runs the tower on it. A tower of another shape is not
written (``save_plain_tower`` returns None) and keeps its ONNX graph; whether this one gives the
model's vectors is checked once, at export, like every export (``clip_text``).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..files import write_atomically

_ACTIVATIONS = {"GELU": "gelu", "QuickGELU": "quick_gelu"}


def plain_tower_shape(model) -> dict | None:
    """What ``NumpyClipText`` needs to know besides the weights (heads, blocks, activation, the
    projection's kind), or None when ``model``'s text tower is not the plain one it runs."""
    import torch

    transformer = getattr(model, "transformer", None)
    blocks = list(getattr(transformer, "resblocks", []))
    if not blocks or getattr(model, "text_pool_type", None) != "argmax" or getattr(model, "attn_mask", None) is None:
        return None
    if not all(hasattr(model, name) for name in ("token_embedding", "positional_embedding", "ln_final")):
        return None
    activations = set()
    for block in blocks:
        attn, mlp = getattr(block, "attn", None), getattr(block, "mlp", None)
        plain = type(block).__name__ == "ResidualAttentionBlock" and isinstance(attn, torch.nn.MultiheadAttention) \
            and attn.in_proj_weight is not None and attn.in_proj_bias is not None \
            and all(isinstance(getattr(block, name, None), torch.nn.Identity) for name in ("ls_1", "ls_2")) \
            and not hasattr(block, "ln_1_kv") and mlp is not None and list(mlp._modules) == ["c_fc", "gelu", "c_proj"] \
            and type(mlp.gelu).__name__ in _ACTIVATIONS \
            and getattr(mlp.gelu, "approximate", "none") == "none"
        if not plain:
            return None
        activations.add(_ACTIVATIONS[type(mlp.gelu).__name__])
    projection = getattr(model, "text_projection", None)
    if len(activations) != 1 or not (projection is None or isinstance(projection, (torch.nn.Linear, torch.Tensor))):
        return None
    return {"heads": int(blocks[0].attn.num_heads), "blocks": len(blocks), "activation": activations.pop(),
            "eps": float(blocks[0].ln_1.eps), "final_eps": float(model.ln_final.eps),
            "projection": "none" if projection is None else "linear" if isinstance(projection, torch.nn.Linear)
            else "matrix"}


def save_plain_tower(model, path: Path) -> dict | None:
    """Write the weights of ``model``'s plain text tower to ``path`` (whole or not at all) and
    return its layout (the shape plus where each weight lies in the file), or None when the tower
    is not plain."""
    shape = plain_tower_shape(model)
    if shape is None:
        return None
    names = ["token_embedding.weight", "positional_embedding", "ln_final.weight", "ln_final.bias"]
    for i in range(shape["blocks"]):
        names += [f"transformer.resblocks.{i}.{part}" for part in (
            "ln_1.weight", "ln_1.bias", "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight",
            "attn.out_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
            "mlp.c_proj.weight", "mlp.c_proj.bias")]
    if shape["projection"] == "matrix":
        names.append("text_projection")
    elif shape["projection"] == "linear":
        names += ["text_projection.weight"] + (["text_projection.bias"] if model.text_projection.bias is not None else [])
    state = model.state_dict()
    arrays = [state[name].detach().float().cpu().numpy() for name in names]
    offsets, start = {}, 0
    for name, array in zip(names, arrays):
        offsets[name] = [start, list(array.shape)]
        start += array.size
    flat = np.concatenate([array.ravel() for array in arrays]).astype(np.float32, copy=False)
    write_atomically(Path(path), lambda out: np.save(out, flat))
    return {**shape, "weights": offsets}


class NumpyClipText:
    """``tokens`` (batch x length, cut after the longest end-of-text token) -> unit text vectors."""

    def __init__(self, path: Path, layout: dict):
        self._flat = np.asarray(np.load(path, mmap_mode="r"))
        self._layout = layout
        self._heads, self._blocks = int(layout["heads"]), int(layout["blocks"])

    def _w(self, name: str) -> np.ndarray:
        start, shape = self._layout["weights"][name]
        return self._flat[start:start + math.prod(shape)].reshape(shape)

    def _norm(self, x: np.ndarray, name: str, eps: float) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        centred = x - mean
        scale = 1.0 / np.sqrt((centred * centred).mean(-1, keepdims=True) + eps)
        return centred * scale * self._w(name + ".weight") + self._w(name + ".bias")

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self._w(name + ".weight").T + self._w(name + ".bias")

    def _activation(self, x: np.ndarray) -> np.ndarray:
        if self._layout["activation"] == "quick_gelu":
            return x / (1.0 + np.exp(-1.702 * x))
        return 0.5 * x * (1.0 + _erf(x * (1.0 / math.sqrt(2.0))))

    def _attention(self, x: np.ndarray, block: str, mask: np.ndarray) -> np.ndarray:
        batch, length, width = x.shape
        head = width // self._heads
        qkv = x @ self._w(block + "attn.in_proj_weight").T + self._w(block + "attn.in_proj_bias")
        q, k, v = (part.reshape(batch, length, self._heads, head).transpose(0, 2, 1, 3)
                   for part in np.split(qkv, 3, axis=-1))
        scores = (q * (1.0 / math.sqrt(head))) @ k.transpose(0, 1, 3, 2) + mask
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        out = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        return self._linear(out, block + "attn.out_proj")

    def __call__(self, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens, np.int64)
        length = tokens.shape[1]
        x = self._w("token_embedding.weight")[tokens] + self._w("positional_embedding")[:length]
        mask = np.triu(np.full((length, length), -np.inf, np.float32), 1)  # causal: nothing reads ahead
        eps = float(self._layout["eps"])
        for i in range(self._blocks):
            block = f"transformer.resblocks.{i}."
            x = x + self._attention(self._norm(x, block + "ln_1", eps), block, mask)
            hidden = self._activation(self._linear(self._norm(x, block + "ln_2", eps), block + "mlp.c_fc"))
            x = x + self._linear(hidden, block + "mlp.c_proj")
        x = self._norm(x, "ln_final", float(self._layout["final_eps"]))
        x = x[np.arange(len(tokens)), tokens.argmax(axis=-1)]  # end-of-text has the largest id
        if self._layout["projection"] == "matrix":
            x = x @ self._w("text_projection")
        elif self._layout["projection"] == "linear":
            x = x @ self._w("text_projection.weight").T
            if "text_projection.bias" in self._layout["weights"]:
                x = x + self._w("text_projection.bias")
        x = x.astype(np.float32, copy=False)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function to within 1.5e-7 (Abramowitz and Stegun 7.1.26): numpy has none, and
    scipy would cost a cold query its import."""
    sign, x = np.sign(x), np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    return sign * (1.0 - poly * np.exp(-x * x))
