"""kill -9 at random moments, then the same command again: nothing lost, duplicated or orphaned.

The real CLI runs in a subprocess over a generated corpus and is SIGKILLed at random moments
(start-up, decoding, embedding, writing) many times, on SQLite and on PostgreSQL; then it runs to
the end. Afterwards the index files on disk must hold exactly the catalog's vectors, without
duplicates, and every file must be indexed or failed.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from bench.corpus import Spec, make_video, truncate
from core.catalog import Segment, Video
from core.library import Library
from core.settings import Settings

from .conftest import cli_env

KILLS_PER_BACKEND = 10
KILL_SEED = 20261128


@pytest.fixture(scope="module")
def crash_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    sources = ["testsrc2", "smptebars", "mandelbrot", "rgbtestsrc", "life", "cellauto"]
    for i, source in enumerate(sources):
        speech = [(0.5, f"This is clip number {i + 1} about topic {source}.")] if i % 2 == 0 else []
        make_video(Spec(f"clip{i}.mp4", [(source, 3), ("color=c=navy", 3)], speech=speech), folder)
    truncate(folder / "clip0.mp4", folder / "broken.mp4", 700)
    return folder


def _cli(*args):
    return [sys.executable, "-m", "api.cli", *args]


def test_sigkill_at_random_moments_then_resume(crash_corpus, tiny_clip, tmp_path, catalog_url):
    env = cli_env(tiny_clip, tmp_path / "data", VIDSEARCH_DATABASE_URL=catalog_url)
    seed = KILL_SEED + (catalog_url.startswith("postgresql"))  # fixed, so a failure can be replayed
    print(f"kill moments from random.Random({seed})")
    rng = random.Random(seed)
    for _ in range(KILLS_PER_BACKEND):
        process = subprocess.Popen(_cli("index", "-q", str(crash_corpus)), env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(rng.uniform(0.5, 9.0))
        os.killpg(process.pid, signal.SIGKILL)  # the indexer and its worker processes
        process.wait()
    done = subprocess.run(_cli("index", "--json", str(crash_corpus)), env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] + report["skipped"] + report["indexed"] >= 7

    check = subprocess.run(_cli("check", "--json"), env=env, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    spaces = json.loads(check.stdout)["spaces"]
    assert spaces["visual"]["catalog"] > 0 and spaces["speech"]["catalog"] > 0
    for space, row in spaces.items():
        assert row["catalog"] == row["index"] and not row["missing"] and not row["orphans"], space
        assert row["duplicates"] == 0

    library = Library(Settings(data_dir=tmp_path / "data", database_url=catalog_url, **tiny_clip))
    videos = {v.path: v for v in library.videos()}
    expected = {str(p) for p in crash_corpus.iterdir()}
    assert set(videos) == expected  # every file is there once: indexed or failed
    assert {p for p, v in videos.items() if v.status == "failed"} == {str(crash_corpus / "broken.mp4")}
    with library.sessions() as session:
        per_video = session.execute(
            select(Segment.video_id, Segment.ordinal, func.count()).group_by(Segment.video_id, Segment.ordinal)
        ).all()
        assert per_video and all(count == 1 for _, _, count in per_video)  # no segment twice
        orphans = session.scalar(select(func.count()).select_from(Segment)
                                 .where(~Segment.video_id.in_(select(Video.id))))
        assert orphans == 0
