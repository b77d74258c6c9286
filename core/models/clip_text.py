"""CLIP's text tower for query processes, without torch: the checked export and CLIP's own tokenizer.

A text query in a library with CLIP vectors needs CLIP's text tower, and building it through
open_clip imports torch, torchvision and transformers first: seconds of a cold query. The full
encoder (``clip.ClipEncoder``) exports the tower to ONNX anyway on CPUs; once that graph has
given PyTorch's vectors, it also leaves what a later process needs to answer alone (as the
sentence model does, see ``exported``): the graph, CLIP's merges file, and a manifest named by
the weights' identity (architecture, weights file or tag, config file, cache folder) that keeps
the stat of the weights file, so a checkpoint replaced under the same name voids it. The check
that the tokenizer here (``clip_tokens``) and the graph give the model's vectors runs once, at
export. A plain text tower (``clip_text_numpy``) is left as its weights, which numpy runs without
the cost of opening an ONNX Runtime session; another keeps the ONNX graph. Query processes then
load numpy and ftfy (and onnxruntime for a tower that is not plain) only.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
from functools import partial
from pathlib import Path

import numpy as np

from .clip_text_numpy import NumpyClipText, save_plain_tower
from .clip_tokens import ClipTokenizer
from .exported import ExportedTextEncoder, manifest_path, save_export
from .onnx_runtime import agree

log = logging.getLogger(__name__)

# Checked at export: cases, accents, HTML entities, emoji, scripts without spaces, numbers, and
# texts longer than the context (cut with end-of-text kept).
PROBES = ["a dog", "Zürich, 2024: WHERE they talk about schools!", "rock &amp; roll 🎸🔥", "東京の夜景",
          "where they vote on the school budget " * 12, ""]


def clip_text_kind(model: str) -> str:
    # v2: a plain tower is left as numpy weights (exports made before keep ONNX and are made again)
    return "clip-text-v2-" + re.sub(r"[^\w.-]", "_", model)


def clip_text_key(model: str, pretrained: str, config_path: Path | None, cache_dir: Path | None) -> str:
    """Which weights a CLIP text export belongs to, from names alone (no file is read): the
    architecture, the checkpoint file or the tag with the cache it downloads to, the config file."""
    weights = str(Path(pretrained).resolve()) if os.path.isfile(pretrained) else f"tag:{pretrained}:{cache_dir}"
    parts = [model, weights, str(Path(config_path).resolve()) if config_path else ""]
    return hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()


class ExportedClipText(ExportedTextEncoder):
    """``encode_texts(texts)`` -> CLIP's unit text vectors, from the graph and CLIP's merges alone."""

    @staticmethod
    def load_tokenizer(manifest: dict, path: Path) -> ClipTokenizer:
        return ClipTokenizer(path, int(manifest["context_length"]))

    @staticmethod
    def open_graph(manifest: dict, path: Path, threads: int):
        if manifest.get("tower") != "numpy":
            return ExportedTextEncoder.open_graph(manifest, path, threads)
        tower = NumpyClipText(path, manifest["layout"])
        return lambda feeds: tower(feeds["tokens"])

    def tokens(self, texts: list[str]) -> dict[str, np.ndarray]:
        ids = self.tokenizer(texts)
        # cut after the longest end-of-text (the largest id): the tower never reads past it
        return {"tokens": ids[:, :int(ids.argmax(axis=1).max()) + 1]}

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


def _named(model: str, pretrained: str, config_path: Path | None, weights_cache: Path | None) -> tuple[str, str]:
    """(kind, key) under which these weights' export is kept."""
    return clip_text_kind(model), clip_text_key(model, pretrained, config_path, weights_cache)


def open_clip_text(cache_dir: Path, model: str, pretrained: str, config_path: Path | None,
                   weights_cache: Path | None) -> ExportedClipText | None:
    """The checked export of these weights' text tower, or None (the full model loads)."""
    if not pretrained:
        return None
    return ExportedClipText.open(cache_dir, *_named(model, pretrained, config_path, weights_cache))


def clip_text_exported(cache_dir: Path, model: str, pretrained: str, config_path: Path | None,
                       weights_cache: Path | None) -> bool:
    """Whether an export of these weights was left (not yet whether it still holds: ``open``)."""
    if not pretrained:
        return False
    return manifest_path(cache_dir, *_named(model, pretrained, config_path, weights_cache)).exists()


def leave_clip_text(clip, graph: Path, merges: Path, context_length: int, *, pretrained: str,
                    config_path: Path | None, weights_cache: Path | None, weights: Path | None) -> bool:
    """After ``clip`` (a ``ClipEncoder`` whose text tower runs ``graph``) has loaded: leave the
    export for query processes unless it is there already; True when one is there now."""
    kind, key = _named(clip.name, pretrained, config_path, weights_cache)
    cache_dir = graph.parent
    if ExportedClipText.exists(cache_dir, kind, key):
        return True
    if weights is None:  # a tag whose file cannot be found: no stat could tell a changed one
        log.info("CLIP %s/%s: weights file not found, so text queries keep loading the full model", clip.name,
                 pretrained)
        return False
    sources = [path for path in (weights, config_path) if path is not None and os.path.isfile(path)]
    expected, tokens = clip.encode_texts(PROBES), clip.tokenizer(PROBES).numpy()
    leave = partial(save_export, cache_dir, kind, key, tokenizer=(".bpe.txt.gz", Path(merges).read_bytes()),
                    model_id=clip.model_id, dim=clip.dim, inputs=["tokens"], encoder=ExportedClipText,
                    agrees=lambda exported: np.array_equal(exported.tokenizer(PROBES), tokens)
                    and agree(exported.encode(PROBES), expected),
                    sources=sources, context_length=int(context_length))
    weights_file = graph.with_name(graph.stem + ".text.npy")
    layout = save_plain_tower(clip.model, weights_file)
    if layout is not None:
        if leave(graph=weights_file, tower="numpy", layout=layout):
            return True
        weights_file.unlink(missing_ok=True)
    return leave(graph=graph)
