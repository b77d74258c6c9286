"""Searches keep working while another process indexes into the same data dir."""
import os
import subprocess
import sys
import time

from core.library import Library
from search.service import Searcher
from core.settings import Settings

from .conftest import cli_env


def test_search_while_indexing(corpus, tiny_clip, tmp_path, encoders):
    data = tmp_path / "data"
    settings = Settings(data_dir=data, **tiny_clip)
    Library(settings)  # create the catalog first, as an earlier run would have
    env = cli_env(tiny_clip, data)
    indexing = subprocess.Popen([sys.executable, "-m", "api.cli", "index", "-q", str(corpus)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    searches, seen = 0, set()
    while indexing.poll() is None:
        searcher = Searcher(Library(settings), encoders)  # a fresh open sees what is committed so far
        for moment in searcher.search_text("rain on the coast", mode="speech", k=3):
            seen.add(os.path.basename(moment.video_path))
        searches += 1
        time.sleep(0.2)
    out, err = indexing.communicate()
    assert indexing.returncode == 0, err
    assert searches >= 3
    assert seen <= {p.name for p in corpus.iterdir()}  # searches mid-run only ever saw whole, real files
    final = Searcher(Library(settings), encoders).search_text("rain on the coast", mode="speech", k=1)
    assert final[0].video_path.endswith("weather.mp4")
