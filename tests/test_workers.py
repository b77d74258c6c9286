"""Worker processes: a crashing or hanging worker fails its file alone, and is replaced."""
import os
import signal
import time

import pytest

from bench.corpus import Spec, make_video
from indexer.decode import DecodeOptions
from indexer.workers import FrameChunk, Prepared, WorkerPool, WorkFailure
from core.settings import Settings


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """A file whose decoding never ends (a named pipe nobody writes to: opening it blocks), and a
    quick one. The stuck file makes the crash and timeout tests independent of machine speed."""
    folder = tmp_path_factory.mktemp("w")
    stuck = folder / "stuck.mp4"
    os.mkfifo(stuck)
    quick = make_video(Spec("quick.mp4", [("testsrc2", 2)], speech=[(0.2, "one two three")]), folder)
    return stuck, quick


def collect_one(pool, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        results = pool.collect(0.2)
        if results:
            return results[0]
    raise AssertionError("no result in time")


def test_results_come_back_with_transcripts(videos, tmp_path):
    _, quick = videos
    with WorkerPool(1, Settings(data_dir=tmp_path), DecodeOptions()) as pool:
        pool.submit(str(quick))
        result = collect_one(pool)
    assert isinstance(result, Prepared) and result.decoded.frames
    assert "three" in result.transcript.text.lower() or "3" in result.transcript.text
    assert set(result.timings) == {"decode", "copies", "transcribe", "voices"}


def test_a_worker_killed_by_a_signal_fails_only_its_file(videos, tmp_path):
    stuck, quick = videos
    with WorkerPool(1, Settings(data_dir=tmp_path), DecodeOptions()) as pool:
        pool.submit(str(stuck))  # the worker holds it until killed, whenever that is
        os.kill(pool.workers[0].process.pid, signal.SIGSEGV)
        failure = collect_one(pool)
        assert isinstance(failure, WorkFailure) and failure.kind == "crash"
        assert "SIGSEGV" in failure.reason and failure.path == str(stuck)
        pool.submit(str(quick))  # the replacement worker carries on
        assert isinstance(collect_one(pool), Prepared)


def test_a_stuck_worker_times_out(videos, tmp_path):
    stuck, quick = videos
    with WorkerPool(1, Settings(data_dir=tmp_path), DecodeOptions(), timeout=1.0) as pool:
        pool.submit(str(stuck))  # never finishes: any timeout fires
        failure = collect_one(pool)
        assert failure.kind == "timeout" and "gave up after" in failure.reason and failure.path == str(stuck)


def test_errors_name_the_stage(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(os.urandom(4096))
    with WorkerPool(1, Settings(data_dir=tmp_path), DecodeOptions()) as pool:
        pool.submit(str(bad))
        failure = collect_one(pool)
    assert failure.kind == "error" and failure.stage == "decode" and "InvalidData" in failure.reason


def test_kept_frames_stream_before_the_result(videos, tmp_path):
    _, quick = videos
    with WorkerPool(1, Settings(data_dir=tmp_path), DecodeOptions(), stream_frames=True) as pool:
        pool.submit(str(quick))
        messages = []
        while not messages or isinstance(messages[-1], FrameChunk):
            messages.append(collect_one(pool))
    *chunks, result = messages
    assert chunks and all(isinstance(c, FrameChunk) and c.path == str(quick) for c in chunks)
    assert isinstance(result, Prepared) and result.decoded.frames == []
    assert sum(len(c.frames) for c in chunks) == len(result.decoded.frame_times) > 0
