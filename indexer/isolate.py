"""Running untrusted decoding in a child process, so a crash fails one file, not the batch.

PyAV (FFmpeg) can die with SIGSEGV on truncated or hostile files. Each call runs in a process
forked from a clean ``forkserver`` (no torch threads, modules preloaded, a few ms to start); the
parent waits with a timeout, and a child that dies or hangs becomes an ``IsolatedFailure`` that
names the signal or the timeout instead of taking the indexer down with it.
"""
from __future__ import annotations

import multiprocessing as mp
import signal
import traceback
from typing import Any, Callable

_CONTEXT = None


class IsolatedFailure(RuntimeError):
    """The isolated call crashed, timed out, or raised; ``kind`` says which."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def forkserver_context():
    """The multiprocessing context of all our children: a clean forkserver, PyAV preloaded, and
    the OCR engine when it is installed (imported once there, not once in every worker)."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = mp.get_context("forkserver")
        from core.machine import ocr_installed

        ocr = ["rapidocr_onnxruntime"] if ocr_installed() else []
        _CONTEXT.set_forkserver_preload(["indexer.decode", "indexer.workers", "numpy", "av", *ocr])
    return _CONTEXT


def _child(conn, fn, args) -> None:
    try:
        result = ("ok", fn(*args))
    except BaseException as exc:  # report everything; the parent decides
        result = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5))
    try:
        conn.send(result)
    finally:
        conn.close()


def run_isolated(fn: Callable[..., Any], *args, timeout: float = 600.0) -> Any:
    """``fn(*args)`` in a child process; its result, or ``IsolatedFailure``."""
    ctx = forkserver_context()
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, fn, args), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            process.kill()
            raise IsolatedFailure("timeout", f"gave up after {timeout:.0f} s (the decoder hung)")
        try:
            outcome = parent.recv()
        except (EOFError, OSError):
            process.join(5)
            code = process.exitcode
            if code is not None and code < 0:
                name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
                raise IsolatedFailure("crash", f"the decoder crashed ({name}); the file is probably damaged")
            raise IsolatedFailure("crash", f"the decoder process exited unexpectedly (code {code})")
    finally:
        parent.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    if outcome[0] == "error":
        raise IsolatedFailure("error", outcome[1])
    return outcome[1]
