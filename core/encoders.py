"""The encoders a run needs, built once from settings and shared by indexing and search.

CLIP (shared space) is optional at run time: when its weights cannot be had, ``clip`` is
``None`` and ``clip_error`` says why, so indexing runs speech-only and says so, unless the user
required visual search. The sentence-transformer (speech space) is the configured one, else the
one the library was built with, else the packaged default (``models.sentence``).
"""
from __future__ import annotations

import logging
import threading

from .errors import Unavailable
from .models.base import Lazy, ModelUnavailable, resolve_text_runtime
from .models.clip import ClipEncoder
from .models.clip_text import ExportedClipText, clip_text_exported, open_clip_text
from .models.exported import ExportedTextEncoder
from .catalog import recorded_model
from .models.sentence import (SENTENCE_PREFIX, SentenceEncoder, default_text_model, load_sentence_encoder,
                              resolve_text_model)
from .settings import Settings
from .vectors.spaces import space

log = logging.getLogger(__name__)


class VisualSearchUnavailable(Unavailable):
    """The user asked for visual search but CLIP weights are not available."""


class Encoders:
    """The models a run needs, each built on first use (``models.base.Lazy``) and then shared."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.clip_error: str | None = None
        self._clip = Lazy(self._build_clip)
        self._clip_text = Lazy(self._build_clip_text)
        self._sentence = Lazy(self._build_sentence)
        if settings.torch_threads:
            import torch

            torch.set_num_threads(settings.torch_threads)

    def _build_clip(self) -> ClipEncoder:
        s = self.settings
        try:
            return ClipEncoder(
                s.clip_model, s.clip_pretrained, device=s.resolved_device(),
                config_path=s.clip_model_config, cache_dir=s.model_cache_dir,
                marker_dir=s.data_dir, batch_size=s.clip_batch_size,
                text_precision=s.text_precision, text_runtime=s.text_runtime,
                onnx_cache_dir=s.onnx_cache_dir, image_runtime=s.image_runtime,
                image_precision=s.image_precision,
            )
        except ModelUnavailable as exc:  # said once: later asks get the kept error
            self.clip_error = str(exc)
            if not s.require_visual:
                log.warning("visual search is off, running speech-only: %s", exc)
            raise

    def _build_clip_text(self) -> ClipEncoder | ExportedClipText:
        """CLIP's text tower alone from its checked export (no torch) when there is one; else the
        full model, which leaves the export for the next process."""
        s = self.settings
        if self._clip.loaded:  # a process with the full model (a server, the indexer) keeps one copy
            return self._clip.get()
        if resolve_text_runtime(s.text_runtime, s.resolved_device(), s.text_precision) == "onnx":
            exported = open_clip_text(s.onnx_cache_dir, s.clip_model,
                                      s.clip_pretrained, s.clip_model_config, s.model_cache_dir)
            if exported is not None:
                return exported
        return self._clip.get()

    def load_for_query(self, spaces) -> list[threading.Thread]:
        """Build on threads what a text query into ``spaces`` will encode with, while the caller opens
        the library's indexes: each takes a quarter second or more, and they overlap on a
        multi-core CPU. CLIP only from its export, as a library without CLIP vectors never needs
        the full model."""
        s = self.settings
        encoders = {space(name).query_encoder for name in spaces}
        wanted = []
        if "clip_text" in encoders and clip_text_exported(s.onnx_cache_dir, s.clip_model, s.clip_pretrained,
                                                   s.clip_model_config, s.model_cache_dir):
            wanted.append(lambda: self.clip_text)
        if "sentence" in encoders:
            wanted.append(lambda: self.sentence)
        threads = [threading.Thread(target=_quietly, args=(load,), name="load-encoder", daemon=True)
                   for load in wanted]
        for thread in threads:
            thread.start()
        return threads

    def text_model(self) -> str:
        """The speech space's model: the configured one; else the one the catalog's speech vectors
        come from (a library keeps its model when the default changes); else the default."""
        s = self.settings
        if s.text_model:
            return s.text_model
        recorded = recorded_model(s.catalog_url, "speech")
        if recorded and recorded.startswith(SENTENCE_PREFIX):
            return resolve_text_model(recorded[len(SENTENCE_PREFIX):], s.model_cache_dir)
        return default_text_model(s.model_cache_dir)

    def _build_sentence(self) -> SentenceEncoder | ExportedTextEncoder:
        s = self.settings
        return load_sentence_encoder(self.text_model(), device=s.resolved_device(),
                                     precision=s.text_precision, runtime=s.text_runtime,
                                     onnx_cache_dir=s.onnx_cache_dir)

    @property
    def clip(self) -> ClipEncoder | None:
        """CLIP, or None when its weights cannot be had (``clip_error`` says why), unless the
        settings require visual search."""
        return self._optional(self._clip)

    @property
    def clip_text(self) -> ClipEncoder | ExportedClipText | None:
        """What encodes text queries into CLIP's space (``encode_texts``), as ``clip``; without
        torch when the text tower was exported and checked before."""
        return self._optional(self._clip_text)

    def _optional(self, lazy: Lazy):
        try:
            return lazy.get()
        except ModelUnavailable as exc:
            if self.settings.require_visual:
                raise VisualSearchUnavailable(str(exc)) from exc
            return None

    def require_clip(self, text_only: bool = False) -> ClipEncoder | ExportedClipText:
        clip = self.clip_text if text_only else self.clip
        if clip is None:
            raise VisualSearchUnavailable(
                f"this needs CLIP, which is not available: {self.clip_error}"
            )
        return clip

    @property
    def sentence(self) -> SentenceEncoder | ExportedTextEncoder:
        return self._sentence.get()


def _quietly(load) -> None:
    try:
        load()
    except Exception:  # the query asks again and reports it
        log.debug("loading a query encoder ahead failed", exc_info=True)
