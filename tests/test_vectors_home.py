"""The vectors package's front door, its one factory and its registry of spaces, and the search
modes built on them."""
from __future__ import annotations

import subprocess
import sys

import pytest

from core.settings import SEARCH_MODES, Settings
from core.vectors import CLIP_TEXT_SPACES, INDEXED, SPOKEN, IndexSet, make_index_set
from core.vectors.spaces import REGISTRY, space
from search.modes import MODE_SPACES, mode_vectors, needs_clip, needs_sentence_model


def test_front_door_imports_no_backend():
    """A process that only needs the protocol (the decoder's workers, a CLI that answers from
    the catalog) must not pay for FAISS or pymilvus."""
    code = ("import sys, core.vectors, core.library; "
            "print(sorted(m for m in ('faiss', 'pymilvus', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_factory_builds_the_named_backend_and_refuses_others(tmp_path):
    from core.vectors.faiss.index_set import FaissIndexSet

    settings = Settings(data_dir=tmp_path)
    made = make_index_set(settings, exact_vectors=None)
    assert isinstance(made, FaissIndexSet) and isinstance(made, IndexSet)
    with pytest.raises(ValueError, match="unknown vector backend 'qdrant'"):
        make_index_set(settings.model_copy(update={"vector_backend": "qdrant"}), exact_vectors=None)


def test_spaces_are_registered_once():
    assert INDEXED == ("fused", "visual", "speech")
    assert CLIP_TEXT_SPACES == ("fused", "visual")
    assert SPOKEN in REGISTRY and SPOKEN not in INDEXED  # kept in the catalog, never searched
    assert space("speech").query_encoder == "sentence"
    with pytest.raises(ValueError, match="unknown vector space 'faces'"):
        space("faces")


def test_every_mode_the_settings_name_has_its_rules():
    assert set(MODE_SPACES) == set(SEARCH_MODES)
    assert all(s in INDEXED for spaces in MODE_SPACES.values() for s in spaces)
    assert [m for m in SEARCH_MODES if needs_clip(m)] == ["hybrid", "fused", "visual"]
    assert [m for m in SEARCH_MODES if needs_sentence_model(m)] == ["hybrid", "speech"]
    clip, speech = object(), object()
    assert mode_vectors("hybrid", clip, speech) == {"fused": clip, "visual": clip, "speech": speech}
    assert mode_vectors("hybrid", None, speech) == {"speech": speech}  # no CLIP: its spaces drop out
    assert mode_vectors("keyword", clip, speech) == {}
