"""CLIP's two towers (open_clip): frames and text into one shared space.

Weights load the way open_clip users expect: a ``pretrained`` tag (downloaded once to the usual
cache) or a local checkpoint file, optionally with a JSON architecture for models open_clip
does not ship. When weights cannot be had, loading raises ``ModelUnavailable`` with the reason;
it never falls back to random weights. A failed download is remembered for a day in the data
dir, so that every command does not wait a minute on a network that is not there.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np

from ..machine import resolve_image_precision
from .base import ModelUnavailable, resolve_text_backend, resolve_text_runtime
from .clip_text import leave_clip_text
from .onnx_runtime import OnnxImageTower, OnnxTextTower, load_tower

log = logging.getLogger(__name__)

_DOWNLOAD_RETRY_AFTER = 24 * 3600


def _hf_cached(pretrained_cfg: dict, cache_dir: str | None) -> Path | None:
    """The weights file of a tag in the hub's cache, or None when it is not there."""
    hub = pretrained_cfg.get("hf_hub", "")
    if not hub:
        return None
    from huggingface_hub import try_to_load_from_cache

    repo, filename = os.path.split(hub)
    names = [filename] if filename else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
    for name in names:
        found = try_to_load_from_cache(repo, name, cache_dir=cache_dir)
        if isinstance(found, str):
            return Path(found)
    return None


def _first_sentence(exc: Exception, limit: int = 200) -> str:
    text = str(exc).split(". ")[0].strip()
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _text_tower_to(model, dtype) -> None:
    """Cast only the text tower (images keep float32); open_clip casts activations to match."""
    import torch

    for name in ("transformer", "token_embedding", "ln_final", "positional_embedding", "text_projection"):
        part = getattr(model, name, None)
        if isinstance(part, torch.nn.Module):
            part.to(dtype)
        elif isinstance(part, torch.Tensor):
            part.data = part.data.to(dtype)


class ClipEncoder:
    """Image and text embeddings from one open_clip model, L2-normalised float32."""

    def __init__(self, model: str, pretrained: str, *, device: str = "cpu",
                 config_path: Path | None = None, cache_dir: Path | None = None,
                 marker_dir: Path | None = None, batch_size: int = 32, text_precision: str = "fp32",
                 text_runtime: str = "torch", onnx_cache_dir: Path | None = None, image_runtime: str = "torch",
                 image_precision: str = "auto"):
        import open_clip
        import torch

        self.name = model
        self.device = device
        self.batch_size = batch_size
        self._lock = threading.Lock()
        if config_path is not None:
            if not Path(config_path).is_file():
                raise ModelUnavailable(f"CLIP model config {config_path} does not exist")
            open_clip.add_model_config(config_path)
        if model not in open_clip.list_models() and not model.startswith(("hf-hub:", "local-dir:")):
            raise ModelUnavailable(
                f"unknown CLIP architecture {model!r}; set VIDSEARCH_CLIP_MODEL_CONFIG to its JSON config"
            )
        self.model_id = self._identity(model, pretrained)
        self._load(open_clip, model, pretrained, cache_dir, marker_dir)
        self.model.eval().to(device)
        self.tokenizer = open_clip.get_tokenizer(model)
        self.text_runtime, self.text_precision = resolve_text_backend(text_runtime, device, text_precision)
        if self.text_precision == "bf16":
            _text_tower_to(self.model, torch.bfloat16)
        self._text = _short_text_tower(self.model) if _supports_short_text(self.model) else None
        self._onnx = None
        if self.text_runtime == "onnx" and self._text is not None:
            example = {"tokens": self.tokenizer(["a photo of a dog", "x"])[:, :8]}
            self._onnx = load_tower(lambda: OnnxTextTower(self._text, example, f"clip-{model}", cache_dir=onnx_cache_dir,
                                                          max_length=self.model.attn_mask.shape[0]),
                                    f"CLIP {model}'s text tower", required=text_runtime == "onnx")
        if self._onnx is None:
            self.text_runtime = "torch"
        # The image tower is exported on the first frames, not here: a text query never pays for it.
        self.image_runtime = resolve_text_runtime(image_runtime, device)
        self.image_precision = resolve_image_precision(image_precision, device)
        self._required_image_runtime = image_runtime == "onnx"
        self._onnx_cache_dir = onnx_cache_dir
        self._onnx_image: OnnxImageTower | None = None
        pre = getattr(self.model.visual, "preprocess_cfg", {}) or {}
        size = getattr(self.model.visual, "image_size", 224)
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self._mean = torch.tensor(pre.get("mean", open_clip.OPENAI_DATASET_MEAN), device=device).view(1, 3, 1, 1)
        self._std = torch.tensor(pre.get("std", open_clip.OPENAI_DATASET_STD), device=device).view(1, 3, 1, 1)
        with torch.inference_mode():
            self.dim = int(self.model.encode_text(self.tokenizer(["x"]).to(device)).shape[-1])
        if self._onnx is not None and _plain_bpe(self.tokenizer):
            from open_clip.tokenizer import default_bpe

            leave_clip_text(self, self._onnx.path, Path(default_bpe()), self.tokenizer.context_length,
                            pretrained=pretrained, config_path=config_path, weights_cache=cache_dir,
                            weights=self.weights)

    @staticmethod
    def _identity(model: str, pretrained: str) -> str:
        if os.path.isfile(pretrained):
            stat = os.stat(pretrained)
            return f"open_clip:{model}:{Path(pretrained).name}:{stat.st_size}"
        return f"open_clip:{model}:{pretrained}"

    def _load(self, open_clip, model, pretrained, cache_dir, marker_dir) -> None:
        cache = str(cache_dir) if cache_dir else None
        if not pretrained:
            raise ModelUnavailable(
                f"no CLIP weights configured for {model}; set VIDSEARCH_CLIP_PRETRAINED to a tag or a checkpoint file"
            )
        tag_cfg = None if os.path.isfile(pretrained) else (open_clip.get_pretrained_cfg(model, pretrained) or None)
        if tag_cfg is None and not os.path.isfile(pretrained):
            raise ModelUnavailable(
                f"CLIP weights {pretrained!r} are neither a file nor a known tag of {model} "
                f"(tags: {', '.join(open_clip.list_pretrained_tags_by_model(model)) or 'none'})"
            )
        marker = Path(marker_dir) / "clip-download-failed.json" if marker_dir else None
        if tag_cfg is not None and _hf_cached(tag_cfg, cache) is None:
            self._check_marker(marker, model, pretrained)
            log.warning("CLIP weights %s/%s are not cached: downloading them (needs the internet)", model, pretrained)
        try:
            self.model, _, _ = open_clip.create_model_and_transforms(
                model, pretrained=pretrained, cache_dir=cache, require_pretrained=True
            )
        except Exception as exc:
            if tag_cfg is not None and marker is not None:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text(json.dumps({"model": model, "pretrained": pretrained,
                                              "at": time.time(), "error": str(exc)[:500]}))
            raise ModelUnavailable(
                f"CLIP weights {model}/{pretrained} could not be loaded: {_first_sentence(exc)} "
                "(is there internet? else set VIDSEARCH_CLIP_PRETRAINED to a local checkpoint file)"
            ) from exc
        self.weights = Path(pretrained) if tag_cfg is None else _hf_cached(tag_cfg, cache)

    @staticmethod
    def _check_marker(marker: Path | None, model: str, pretrained: str) -> None:
        if marker is None or not marker.exists():
            return
        try:
            info = json.loads(marker.read_text())
        except ValueError:
            return
        if (info.get("model"), info.get("pretrained")) == (model, pretrained) and \
                time.time() - info.get("at", 0) < _DOWNLOAD_RETRY_AFTER:
            raise ModelUnavailable(
                f"CLIP weights {model}/{pretrained} are not in the cache and their download failed "
                f"{(time.time() - info.get('at', 0)) / 60:.0f} min ago (delete {marker} to try again, "
                "or set VIDSEARCH_CLIP_PRETRAINED to a local checkpoint file)"
            )

    # --- encoding
    def _pixels(self, frames: list[np.ndarray]):
        """uint8 HxWx3 frames -> normalised, centre-cropped tensors, without PIL round trips."""
        import torch
        import torch.nn.functional as F

        out = []
        for frame in frames:
            # To the device first: on a GPU the resize and normalisation run there too.
            t = torch.from_numpy(np.ascontiguousarray(frame)).to(self.device, non_blocking=True)
            t = t.permute(2, 0, 1)[None].float() / 255.0
            h, w = t.shape[-2:]
            scale = self.image_size / min(h, w)
            if abs(scale - 1.0) > 1e-3:
                t = F.interpolate(t, size=(max(self.image_size, round(h * scale)),
                                           max(self.image_size, round(w * scale))),
                                  mode="bicubic", align_corners=False, antialias=True)
            h, w = t.shape[-2:]
            top, left = (h - self.image_size) // 2, (w - self.image_size) // 2
            out.append(t[..., top:top + self.image_size, left:left + self.image_size])
        return (torch.cat(out).clamp_(0, 1) - self._mean) / self._std

    def encode_images(self, frames: list[np.ndarray]) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        if not frames:
            return np.zeros((0, self.dim), np.float32)
        chunks = []
        with self._lock, torch.inference_mode():
            tower = self._image_tower()
            for i in range(0, len(frames), self.batch_size):
                pixels = self._pixels(frames[i:i + self.batch_size])
                if tower is not None:
                    chunks.append(tower(pixels=pixels.numpy()))
                    continue
                with torch.autocast("cuda", dtype=torch.float16, enabled=self.image_precision == "fp16"):
                    vectors = self.model.encode_image(pixels)
                # normalised in float32: a half-precision unit vector is only unit to ~1e-3
                chunks.append(F.normalize(vectors.float(), dim=-1).cpu().numpy())
        return np.concatenate(chunks)

    def _image_tower(self) -> OnnxImageTower | None:
        """The image tower on ONNX Runtime (exported and checked against PyTorch on first use),
        or None: PyTorch runs it (on a GPU, when asked, or when the export failed: logged once)."""
        if self.image_runtime != "onnx" or self._onnx_image is not None:
            return self._onnx_image
        import torch

        visual = _image_tower_module(self.model)
        generator = torch.Generator().manual_seed(0)
        example = {"pixels": torch.randn(2, 3, self.image_size, self.image_size, generator=generator)}
        self._onnx_image = load_tower(lambda: OnnxImageTower(visual, example, f"clip-image-{self.name}",
                                                             cache_dir=self._onnx_cache_dir),
                                      f"CLIP {self.name}'s image tower", required=self._required_image_runtime)
        if self._onnx_image is None:
            self.image_runtime = "torch"
        return self._onnx_image

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        if not texts:
            return np.zeros((0, self.dim), np.float32)
        chunks = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                tokens = self.tokenizer(texts[i:i + self.batch_size])
                if self._text is not None:  # cut after the longest end-of-text token (see _short_text_tower)
                    tokens = tokens[:, :int(tokens.argmax(dim=-1).max()) + 1]
                if self._onnx is not None:  # numpy in and out: no torch threads woken per query
                    chunks.append(self._onnx(tokens=tokens.numpy()))
                    continue
                tokens = tokens.to(self.device)
                vectors = self._text(tokens) if self._text is not None else \
                    self.model.encode_text(tokens, normalize=True)
                # normalised again in float32: a bf16 tower's unit vectors are only unit to ~1e-2
                chunks.append(F.normalize(vectors.float(), dim=-1).cpu().numpy())
        return np.concatenate(chunks)


def _image_tower_module(model):
    """CLIP's image tower as a module of its own (pixels -> unit vectors): what is exported and
    hashed holds the image weights only."""
    import torch
    import torch.nn.functional as F

    class Image(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.visual = model.visual

        def forward(self, pixels):
            return F.normalize(self.visual(pixels), dim=-1)

    return Image().eval()


def _plain_bpe(tokenizer) -> bool:
    """open_clip's own BPE tokenizer as OpenAI's CLIP uses it (``clip_tokens`` gives its ids)."""
    from open_clip.tokenizer import SimpleTokenizer, _clean_lower

    return type(tokenizer) is SimpleTokenizer and tokenizer.clean_fn is _clean_lower \
        and tokenizer.reduction_fn is None and tokenizer.vocab_size == 49408


def _supports_short_text(model) -> bool:
    return getattr(model, "text_pool_type", None) == "argmax" and getattr(model, "attn_mask", None) is not None \
        and all(hasattr(model, name) for name in ("token_embedding", "positional_embedding", "transformer"))


def _short_text_tower(model):
    """CLIP's text tower up to end-of-text as a module of its own: ``tokens`` (batch x length, cut
    after the longest end-of-text token) -> unit vectors.

    The same vectors as open_clip's ``encode_text``, several times faster: the tower is causal and
    pools the end-of-text token, so the padding after it can never change the result, and a query
    of 10 tokens need not pay for 77. Models that pool or mask differently take open_clip's full
    path. The module holds only the text weights, so exporting or hashing it never touches the
    image tower."""
    import torch
    import torch.nn.functional as F

    class ShortText(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding, self.transformer = model.token_embedding, model.transformer
            self.ln_final, self.positional_embedding = model.ln_final, model.positional_embedding
            self.text_projection = model.text_projection
            self.register_buffer("attn_mask", model.attn_mask, persistent=False)

        def forward(self, tokens):
            length = tokens.shape[1]
            cast = self.transformer.get_cast_dtype()
            x = self.token_embedding(tokens).to(cast) + self.positional_embedding[:length].to(cast)
            x = self.ln_final(self.transformer(x, attn_mask=self.attn_mask[:length, :length]))
            x = x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
            projection = self.text_projection
            if projection is not None:
                x = projection(x) if isinstance(projection, torch.nn.Linear) else x @ projection
            return F.normalize(x, dim=-1)

    return ShortText().eval()
