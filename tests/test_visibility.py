"""A running server finds what another process indexed, without a restart (SQLite and PostgreSQL)."""
import shutil
import subprocess
import sys
import time

import httpx

from api.app import create_app
from api.serve import ServerThread
from indexer.pipeline import Indexer
from core.library import Library
from core.settings import Settings

from .conftest import cli_env

QUERY = {"q": "a dog catching a frisbee in the park", "mode": "speech", "k": 3}


def _names(url: str) -> list[str]:
    return [m["video_name"] for m in httpx.get(f"{url}/api/search", params=QUERY, timeout=30).json()["moments"]]


def test_a_server_sees_another_process_index_and_remove(tmp_path, corpus, tiny_clip, encoders, catalog_url):
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir(), later.mkdir()
    shutil.copy(corpus / "weather.mp4", first)
    shutil.copy(corpus / "dog.mp4", later)
    data = tmp_path / "data"
    settings = Settings(data_dir=data, database_url=catalog_url, refresh_seconds=0.5, asr_model="tiny.en",
                        **tiny_clip)
    Indexer(Library(settings), encoders, settings, progress=False).index([first])
    env = cli_env(tiny_clip, data, VIDSEARCH_DATABASE_URL=catalog_url)
    with ServerThread(create_app(settings, encoders=encoders, warm=False)) as url:
        assert "dog.mp4" not in _names(url)
        done = subprocess.run([sys.executable, "-m", "api.cli", "index", "-q", str(later)], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert _eventually(lambda: _names(url)[:1] == ["dog.mp4"]), "the new video never became searchable"
        removed = subprocess.run([sys.executable, "-m", "api.cli", "remove", str(later / "dog.mp4")], env=env,
                                 capture_output=True, text=True, timeout=300)
        assert removed.returncode == 0, removed.stderr
        assert _eventually(lambda: "dog.mp4" not in _names(url)), "the removed video was still found"


def _eventually(condition, within: float = 5.0) -> bool:
    """Whether ``condition`` holds within ``within`` seconds (the promise to users), polling."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()
