import os
import signal
import time

import pytest

from indexer.isolate import IsolatedFailure, run_isolated


def add(a, b):
    return a + b


def segfault():
    os.kill(os.getpid(), signal.SIGSEGV)


def hang():
    time.sleep(60)


def boom():
    raise ValueError("bad frame")


def loaded(name):
    import sys

    return name in sys.modules


def test_result_comes_back():
    assert run_isolated(add, 2, 3) == 5


def test_a_crashing_child_becomes_a_failure_and_the_parent_lives():
    with pytest.raises(IsolatedFailure, match="SIGSEGV") as info:
        run_isolated(segfault)
    assert info.value.kind == "crash"
    assert run_isolated(add, 1, 1) == 2  # and the next call works


def test_a_hanging_child_is_killed():
    started = time.monotonic()
    with pytest.raises(IsolatedFailure, match="gave up") as info:
        run_isolated(hang, timeout=1.0)
    assert info.value.kind == "timeout" and time.monotonic() - started < 10


def test_exceptions_carry_their_message():
    with pytest.raises(IsolatedFailure, match="ValueError: bad frame"):
        run_isolated(boom)


def test_children_start_with_the_decoder_and_the_ocr_engine_already_imported():
    """Imported once in the forkserver, not again in every worker (the OCR engine is a dependency)."""
    assert run_isolated(loaded, "av") and run_isolated(loaded, "rapidocr_onnxruntime")
    assert not run_isolated(loaded, "faiss")  # only what children need: the index lives in the parent
