"""Shared fixtures: a small real CLIP checkpoint, real models, real generated videos, real databases.

CLIP weights cannot be downloaded here, so the tests build a small open_clip model, save it as a
checkpoint file and load it through the same local-checkpoint path users use
(``VIDSEARCH_CLIP_PRETRAINED`` + ``VIDSEARCH_CLIP_MODEL_CONFIG``). Whisper (tiny.en) and MiniLM
are the real packaged weights. Heavy objects are built once per session.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest

from bench.corpus import SAMPLE, make_sample_corpus, truncate
from core.settings import Settings

def _find_media() -> Path:
    """``../shared/media`` beside the checkout (or above it), or ``VIDSEARCH_TEST_MEDIA``."""
    if os.environ.get("VIDSEARCH_TEST_MEDIA"):
        return Path(os.environ["VIDSEARCH_TEST_MEDIA"])
    repo = Path(__file__).resolve().parents[1]
    for folder in repo.parents:
        if (folder / "shared" / "media").is_dir():
            return folder / "shared" / "media"
    return repo.parent / "shared" / "media"


MEDIA = _find_media()
TINY_CLIP = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
PG_URL = os.environ.get("VIDSEARCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def media(name: str) -> Path:
    path = MEDIA / name
    if not path.exists():
        pytest.skip(f"shared media {name} not present at {MEDIA}")
    return path


def _session_folder(tmp_path_factory, variable: str, name: str):
    """A folder of the test session in ``variable`` while the session lasts (what was there before, after)."""
    folder = tmp_path_factory.mktemp(name)
    saved = os.environ.get(variable)
    os.environ[variable] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = saved


@pytest.fixture(scope="session", autouse=True)
def onnx_cache(tmp_path_factory):
    """Exported text towers go to a folder of the test session, never to the user's home."""
    yield from _session_folder(tmp_path_factory, "VIDSEARCH_ONNX_CACHE_DIR", "onnx")


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """The packaged Whisper base is joined into a folder of the test session, never the user's home."""
    yield from _session_folder(tmp_path_factory, "VIDSEARCH_MODEL_CACHE_DIR", "models")


# The suite's own speech is English, heard by the packaged tiny.en told so (as VIDSEARCH_ASR_LANGUAGE=en
# does for a user): no language check per file. tests/test_languages.py hears other languages.
ENGLISH_TINY = {"asr_model": "tiny.en", "asr_language": "en"}


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> dict:
    """A small open_clip model saved as a checkpoint + JSON config, as a user would have them."""
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("clip")
    config = folder / "vidsearch-tiny-clip.json"
    config.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model("vidsearch-tiny-clip")
    checkpoint = folder / "vidsearch-tiny-clip.pt"
    torch.save({"state_dict": model.state_dict()}, checkpoint)
    return {"clip_model": "vidsearch-tiny-clip", "clip_pretrained": str(checkpoint),
            "clip_model_config": config}


@pytest.fixture
def make_settings(tmp_path, tiny_clip):
    def make(**overrides) -> Settings:
        values = {"data_dir": tmp_path / "data", **ENGLISH_TINY, **tiny_clip, **overrides}
        return Settings(**values)
    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def encoders(tiny_clip, tmp_path_factory):
    from core.encoders import Encoders

    return Encoders(Settings(data_dir=tmp_path_factory.mktemp("enc"), **tiny_clip))


@pytest.fixture(scope="session")
def asr(tmp_path_factory):
    from core.models.whisper import make_asr

    # The packaged tiny.en by name: faster than the default base, and what the suite's counts were measured with.
    return make_asr(Settings(data_dir=tmp_path_factory.mktemp("asr"), **ENGLISH_TINY))


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """The sample corpus (4 generated videos, one silent) plus a truncated file, in one folder."""
    folder = tmp_path_factory.mktemp("corpus")
    paths = make_sample_corpus(folder)
    truncate(paths[0], folder / "truncated.mp4", 3000)
    return folder


@pytest.fixture(scope="session")
def sample_specs():
    return {spec.name: spec for spec in SAMPLE}


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request, tmp_path):
    """A fresh catalog per test: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    admin = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"),
                                     isolation_level="AUTOCOMMIT")
    name = f"vidsearch_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        if os.environ.get("VIDSEARCH_REQUIRE_PG"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
def copy_media(tmp_path):
    def copy(name: str, folder: str = "media") -> Path:
        target = tmp_path / folder
        target.mkdir(exist_ok=True)
        return Path(shutil.copy(media(name), target / name))
    return copy


@pytest.fixture
def cli_vars(monkeypatch, tmp_path, tiny_clip):
    """VIDSEARCH_* for commands run in this process (``api.cli.main``): the test CLIP, a data dir
    in ``tmp_path / "data"``, the packaged tiny.en told the media is English; ``tmp_path``."""
    monkeypatch.setenv("VIDSEARCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIDSEARCH_CLIP_MODEL", tiny_clip["clip_model"])
    monkeypatch.setenv("VIDSEARCH_CLIP_PRETRAINED", tiny_clip["clip_pretrained"])
    monkeypatch.setenv("VIDSEARCH_CLIP_MODEL_CONFIG", str(tiny_clip["clip_model_config"]))
    monkeypatch.setenv("VIDSEARCH_ASR_MODEL", "tiny.en")  # the packaged copy: no download
    monkeypatch.setenv("VIDSEARCH_ASR_LANGUAGE", "en")  # English media: no language check
    return tmp_path


def cli_env(tiny_clip: dict, data_dir, **extra: str) -> dict:
    """The environment a ``vidsearch`` subprocess of a test runs with: the test CLIP, a data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    for folder in ("VIDSEARCH_ONNX_CACHE_DIR", "VIDSEARCH_MODEL_CACHE_DIR"):
        if os.environ.get(folder):
            env[folder] = os.environ[folder]
    env.update(VIDSEARCH_DATA_DIR=str(data_dir), VIDSEARCH_CLIP_MODEL=tiny_clip["clip_model"],
               VIDSEARCH_CLIP_PRETRAINED=tiny_clip["clip_pretrained"],
               VIDSEARCH_CLIP_MODEL_CONFIG=str(tiny_clip["clip_model_config"]), VIDSEARCH_ASR_MODEL="tiny.en",
               VIDSEARCH_ASR_LANGUAGE="en", **extra)
    return env
