"""The speech space's model: the packaged all-mpnet-base-v2 (five wheels, joined and checked once),
libraries that keep the model they were built with, and any model folder a user names."""
import os
import shutil
from pathlib import Path

import pytest

from core.encoders import Encoders
from core.library import Library, NewSegment, NewVideo
from core.models import packaged_sentence
from core.models.base import ModelUnavailable
from core.models.packaged_sentence import packaged_minilm
from core.models.sentence import SentenceEncoder, default_text_model, same_topic
from core.settings import Settings


def _session_cache() -> Path:
    return Path(os.environ["VIDSEARCH_MODEL_CACHE_DIR"])  # conftest: the test session's model cache


def test_mpnet_is_joined_checked_and_unpacked_once_and_then_only_stat(monkeypatch):
    folder = Path(packaged_sentence.packaged_mpnet(_session_cache()))
    assert folder == _session_cache() / f"all-mpnet-base-v2-{packaged_sentence.MPNET_SHA256[:12]}" / "all-mpnet-base-v2"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["all-mpnet-base-v2", "vidsearch-manifest.json"]
    assert (folder / "model.safetensors").stat().st_size == 437971872 and not list(folder.rglob("desktop.ini"))

    def no_unpack(*_):
        raise AssertionError("joined again")

    monkeypatch.setattr(packaged_sentence, "_unpack", no_unpack)
    assert packaged_sentence.packaged_mpnet(_session_cache()) == str(folder)  # the manifest answers


def test_a_damaged_mpnet_part_is_refused_and_leaves_nothing_behind(tmp_path, monkeypatch):
    parts = packaged_sentence.mpnet_parts()
    damaged = Path(shutil.copy(parts[-1], tmp_path / parts[-1].name))
    with open(damaged, "r+b") as part:
        part.seek(5000)
        part.write(b"\x00\x01\x02")
    monkeypatch.setattr(packaged_sentence, "mpnet_parts", lambda: parts[:-1] + [damaged])
    with pytest.raises(ModelUnavailable, match="does not check out"):
        packaged_sentence.packaged_mpnet(tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_without_its_wheels_the_default_is_the_packaged_minilm(monkeypatch, tmp_path):
    monkeypatch.setattr(packaged_sentence, "mpnet_parts", lambda: None)
    assert default_text_model(tmp_path) == packaged_minilm()


@pytest.mark.parametrize("catalog_url", ["sqlite", "postgres"], indirect=True)
def test_a_library_keeps_the_speech_model_it_was_built_with(tmp_path, catalog_url):
    old = Settings(data_dir=tmp_path / "old", database_url=catalog_url)
    Library(old).write_video(NewVideo(
        path="/v/talk.mp4", size=1, mtime=1.0, duration=5.0, models={"speech": ("sentence-transformers:all-MiniLM-L6-v2", 384)},
        segments=[NewSegment(0.0, 5.0, "a talk", vectors={"speech": SentenceEncoder(packaged_minilm()).encode(["a talk"])[0]})]))
    kept = Encoders(old)
    assert kept.text_model() == packaged_minilm() and kept.sentence.dim == 384  # no model mismatch later

    assert Encoders(Settings(data_dir=tmp_path / "new")).text_model() == default_text_model(_session_cache())
    chosen = str(tmp_path / "my-model")
    assert Encoders(Settings(data_dir=tmp_path / "old", database_url=catalog_url, text_model=chosen)).text_model() == chosen


def test_a_model_folder_a_user_names_is_exported_under_its_folder_name(tmp_path):
    """A model given as a path (VIDSEARCH_TEXT_MODEL=/models/x) once broke the ONNX cache's file names."""
    folder = Path(shutil.copytree(packaged_minilm(), tmp_path / "models" / "house-encoder"))
    encoder = SentenceEncoder(str(folder), runtime="onnx", onnx_cache_dir=tmp_path / "onnx")
    assert encoder.runtime == "onnx" and encoder.model_id == f"sentence-transformers:{folder}"
    assert {p.name.split("-")[0:3] == ["sentence", "house", "encoder"] for p in (tmp_path / "onnx").iterdir()} == {True}


def test_each_model_reads_neighbours_as_one_topic_at_its_own_cosine():
    assert same_topic("sentence-transformers:all-MiniLM-L6-v2") == 0.30
    assert same_topic("sentence-transformers:all-mpnet-base-v2") == 0.35
    assert same_topic("sentence-transformers:/models/house-encoder") == 0.30  # not measured: MiniLM's
