"""The vector spaces a library keeps, registered once.

A space is a kind of vector every segment may have, with the model that makes it. The index
sets keep one searchable index per indexed space (persisted, filtered, checked, repaired and
migrated alike), and a query reaches a space through the encoder named here. A new space (faces,
voices) is one more entry.
"""
from __future__ import annotations

from typing import NamedTuple


class Space(NamedTuple):
    name: str
    query_encoder: str  # what encodes a text query into it: "clip_text", "sentence" (or "" for none)
    indexed: bool = True  # False: kept in the catalog only, no index searches it
    about: str = ""


REGISTRY: dict[str, Space] = {space.name: space for space in (
    Space("fused", "clip_text", about="CLIP: a segment's frames and transcript, weighted and re-normalised"),
    Space("visual", "clip_text", about="CLIP: a segment's frames alone"),
    Space("speech", "sentence", about="the sentence-transformer: a segment's transcript"),
    Space("spoken", "clip_text", indexed=False,
          about="a segment's transcript in CLIP's space, so the fused space can be re-fused with other "
                "weights without decoding anything again"),
)}

INDEXED = tuple(name for name, space in REGISTRY.items() if space.indexed)
"""The spaces with a searchable index, in a fixed order."""
CLIP_TEXT_SPACES = tuple(name for name in INDEXED if REGISTRY[name].query_encoder == "clip_text")
"""Indexed spaces a text query reaches through CLIP's text tower."""
SPOKEN = "spoken"


def space(name: str) -> Space:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown vector space {name!r}; known: {', '.join(REGISTRY)}") from None
