"""The shared contract of models: built once on first use, a load failure kept and said again,
the device chosen without importing torch where there can be no GPU."""
import threading

import pytest

from search.models.base import Lazy, ModelUnavailable, gpu_present, resolve_device


def test_lazy_builds_once_for_many_threads():
    built = []
    gate = threading.Barrier(8)

    def build():
        built.append(1)
        return object()

    lazy = Lazy(build)
    assert not lazy.loaded
    got = []

    def ask():
        gate.wait()
        got.append(lazy.get())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and lazy.loaded
    assert len(got) == 8 and all(value is got[0] for value in got)


def test_lazy_keeps_a_model_failure_and_does_not_retry():
    calls = []

    def build():
        calls.append(1)
        raise ModelUnavailable("no weights here")

    lazy = Lazy(build)
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match="no weights here"):
            lazy.get()
    assert calls == [1] and not lazy.loaded


def test_lazy_tries_again_after_a_bug():
    """Only a model that cannot load is remembered; any other error is raised and tried again."""
    calls = []

    def build():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("transient")
        return "model"

    lazy = Lazy(build)
    with pytest.raises(RuntimeError):
        lazy.get()
    assert lazy.get() == "model" and calls == [1, 1]


def test_device_choice():
    assert resolve_device("cpu") == "cpu" and resolve_device("cuda:1") == "cuda:1"
    if not gpu_present():
        assert resolve_device("auto") == "cpu"
