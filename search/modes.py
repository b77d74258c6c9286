"""The search modes and what each one asks for: which vector spaces, which encoders, keywords.

The names are a setting (``core.settings.SEARCH_MODES``, the default mode is chosen from them);
what a mode means lives here only, for the searcher, the CLI and the API alike.
"""
from __future__ import annotations

from core.vectors import CLIP_TEXT_SPACES

MODE_SPACES = {"hybrid": ("fused", "visual", "speech"), "fused": ("fused",), "visual": ("visual",),
               "speech": ("speech",), "keyword": ()}
"""The vector spaces each mode searches (hybrid also uses keywords; keyword uses only them)."""


def needs_clip(mode: str) -> bool:
    return any(space in CLIP_TEXT_SPACES for space in MODE_SPACES[mode])


def needs_sentence_model(mode: str) -> bool:
    return "speech" in MODE_SPACES[mode]


def uses_keywords(mode: str) -> bool:
    return mode in ("hybrid", "keyword")


def mode_vectors(mode: str, clip_vector=None, speech_vector=None) -> dict:
    """A text query's vector per space ``mode`` searches, from its CLIP and sentence vectors
    (None: that model is not available, and its spaces are left out)."""
    vectors = {space: clip_vector for space in MODE_SPACES[mode]
               if space in CLIP_TEXT_SPACES and clip_vector is not None}
    if needs_sentence_model(mode) and speech_vector is not None:
        vectors["speech"] = speech_vector
    return vectors

