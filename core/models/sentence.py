"""The speech space's encoder: a sentence-transformer, better than CLIP's 77-token text tower for
what is said. With no model configured it resolves to the packaged all-mpnet-base-v2, or to the
packaged MiniLM (``packaged_sentence``).
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np

from .base import ModelUnavailable, resolve_text_backend, resolve_text_runtime
from .exported import ExportedTextEncoder, save_export, source_fingerprint
from .onnx_runtime import OnnxTextTower, agree, load_tower
from .packaged_sentence import MINILM, MPNET, packaged_minilm, packaged_mpnet

# Checked on every export: cases, accents, numbers, and one longer than the model reads (truncation).
_PROBES = ["a dog", "the budget vote", "Zürich, 2024: WHERE they talk about schools!", "word " * 600]


SENTENCE_PREFIX = "sentence-transformers:"  # of a model id, as catalogs record it
SAME_TOPIC = {MINILM: 0.30, MPNET: 0.35}
"""Cosine of two neighbouring sentences above which they read as one topic, per model (each
learned on bench.quality's dev lectures, as the share of true neighbours told apart; README)."""


def default_text_model(cache_dir: Path | None = None) -> str:
    """The packaged all-mpnet-base-v2 (joined into ``cache_dir`` on first use); else the packaged
    MiniLM; else mpnet's hub name (a download)."""
    from ..settings import default_model_cache_dir

    return packaged_mpnet(cache_dir or default_model_cache_dir()) or packaged_minilm() \
        or f"sentence-transformers/{MPNET}"


def resolve_text_model(name: str, cache_dir: Path | None = None) -> str:
    """A model named as a catalog records it (``short_name``): the packaged folder of a packaged
    model when its package is installed, its hub name otherwise; any other name as it is."""
    from ..settings import default_model_cache_dir

    packaged = {MPNET: lambda: packaged_mpnet(cache_dir or default_model_cache_dir()), MINILM: packaged_minilm}
    short = short_name(name)
    if short not in packaged:
        return name
    return packaged[short]() or f"sentence-transformers/{short}"


def same_topic(model_id: str) -> float:
    """``SAME_TOPIC`` of an encoder's ``model_id`` (MiniLM's for models not measured)."""
    return SAME_TOPIC.get(short_name(model_id.removeprefix(SENTENCE_PREFIX)), SAME_TOPIC[MINILM])


class SentenceEncoder:
    """Transcript meaning (speech space): better than CLIP's 77-token text tower for speech."""

    def __init__(self, model: str, device: str = "cpu", precision: str = "fp32", runtime: str = "torch",
                 onnx_cache_dir: Path | None = None):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weight-loading bar per process is noise in a CLI

        try:
            self.model = SentenceTransformer(model, device=device)
        except Exception as exc:
            raise ModelUnavailable(f"sentence-transformers model {model!r} could not be loaded: {exc}") from exc
        self.runtime, self.precision = resolve_text_backend(runtime, device, precision)
        if self.precision == "bf16":
            import torch

            self.model.to(torch.bfloat16)
        self._onnx = None
        if self.runtime == "onnx" and _mean_pooled(self.model):
            probes = ["a dog", "the budget vote"]  # checked against sentence-transformers' own encode
            self._onnx = load_tower(
                lambda: OnnxTextTower(_mean_pooled_tower(self.model), self._tokens(probes),
                                      _export_kind(model), cache_dir=onnx_cache_dir,
                                      max_length=max(2, int(self.model.max_seq_length or 512)),
                                      expected=self.model.encode(probes, show_progress_bar=False)),
                f"sentence model {model}", required=runtime == "onnx")
        if self._onnx is None:
            self.runtime = "torch"
        self.model_id = f"{SENTENCE_PREFIX}{short_name(model)}"
        dimension = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._lock = threading.Lock()
        if self._onnx is not None:
            self._leave_export(model, Path(self._onnx.path.parent))

    def _leave_export(self, model: str, cache_dir: Path) -> None:
        """Leave the checked graph and tokenizer for query processes (``exported``)."""
        kind = _export_kind(model)
        fingerprint = source_fingerprint(model, kind)
        tokenizer = self._tokenizer_json()
        if fingerprint is None or tokenizer is None or ExportedTextEncoder.exists(cache_dir, kind, fingerprint):
            return
        expected = self.model.encode(_PROBES, show_progress_bar=False)
        save_export(cache_dir, kind, fingerprint, self._onnx.path, (".tokenizer.json", tokenizer.encode()), model_id=self.model_id,
                    dim=self.dim, inputs=self._onnx.names,
                    agrees=lambda exported: agree(exported.encode(_PROBES), expected))

    def _tokenizer_json(self) -> str | None:
        """The model's fast tokenizer with sentence-transformers' truncation and padding, as JSON."""
        hf = self.model.tokenizer
        backend = getattr(hf, "backend_tokenizer", None)
        if backend is None:  # a slow (Python) tokenizer: queries load the full model
            return None
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(backend.to_str())
        tokenizer.enable_truncation(max_length=int(self.model.max_seq_length or hf.model_max_length))
        tokenizer.enable_padding(pad_id=hf.pad_token_id, pad_token=hf.pad_token)
        return tokenizer.to_str()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if self._onnx is not None:
            return np.concatenate([self._onnx(**self._tokens(texts[i:i + 64])) for i in range(0, len(texts), 64)])
        with self._lock:
            vectors = self.model.encode(texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
        vectors = np.asarray(vectors, dtype=np.float32)  # normalised in float32 whatever ran the model
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def _tokens(self, texts: list[str]) -> dict:
        """Token ids and attention mask, exactly as sentence-transformers prepares them."""
        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        features = prepare(texts)
        return {"input_ids": features["input_ids"], "attention_mask": features["attention_mask"]}


def _mean_pooled(model) -> bool:
    """A plain Hugging Face encoder, mean-pooled (then maybe normalised): what ONNX export covers."""
    from sentence_transformers.models import Normalize, Pooling, Transformer

    modules = list(model)
    return len(modules) in (2, 3) and isinstance(modules[0], Transformer) and isinstance(modules[1], Pooling) \
        and _pooling_mode(modules[1]) == "mean" \
        and all(isinstance(m, Normalize) for m in modules[2:])


def _pooling_mode(pooling) -> str | None:
    config = pooling.get_config_dict()
    if "pooling_mode" in config:  # sentence-transformers 6
        return config["pooling_mode"]
    modes = [key[len("pooling_mode_"):] for key, on in config.items() if key.startswith("pooling_mode_") and on]
    return "mean" if modes == ["mean_tokens"] else None


def _mean_pooled_tower(model):
    """The model's transformer with mean pooling over real tokens -> unit vectors, as one module."""
    import torch
    import torch.nn.functional as F

    class MeanPooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = model[0].auto_model

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return F.normalize(pooled, dim=-1)

    return MeanPooled().eval()


def short_name(model: str) -> str:
    """A packaged model and its hub name are the same weights: one identity (the catalog's)."""
    lowered = model.lower()
    if "minilm" in lowered and "l6" in lowered:
        return MINILM
    if "all-mpnet-base-v2" in lowered:
        return MPNET
    return model


def _export_kind(model: str) -> str:
    """The model's name in the ONNX cache: one file name, whether the model is a hub name
    ("org/name") or a folder (its last part; the export's fingerprint tells folders apart)."""
    name = short_name(model)
    if Path(name).is_dir():
        name = Path(name).resolve().name
    return "sentence-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def load_sentence_encoder(model: str, device: str = "cpu", precision: str = "fp32", runtime: str = "torch",
                          onnx_cache_dir: Path | None = None) -> "SentenceEncoder | ExportedTextEncoder":
    """The cheapest encoder that gives the model's vectors: its checked export straight from the
    ONNX cache (no torch import) when it runs on ONNX Runtime and was exported before; else the
    full model (which exports, checks and leaves the export for the next process)."""
    if resolve_text_runtime(runtime, device, precision) == "onnx":
        from ..settings import default_onnx_cache_dir

        kind = _export_kind(model)
        exported = ExportedTextEncoder.open(onnx_cache_dir or default_onnx_cache_dir(), kind,
                                            source_fingerprint(model, kind))
        if exported is not None:
            return exported
    return SentenceEncoder(model, device=device, precision=precision, runtime=runtime, onnx_cache_dir=onnx_cache_dir)
