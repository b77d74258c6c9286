"""The shared contract of models: built once on first use, a load failure kept and said again,
the device chosen without importing torch where there can be no GPU."""
import threading

import pytest

from core.machine import gpu_present, resolve_device
from core.models.base import Lazy, ModelUnavailable


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


def test_half_precision_only_where_a_gpu_computes_it():
    from core.errors import InvalidInput
    from core.machine import resolve_image_precision
    from core.models.base import resolve_asr_compute_type

    assert resolve_image_precision("auto", "cpu") == "fp32" and resolve_image_precision("auto", "cuda:1") == "fp16"
    assert resolve_image_precision("fp32", "cuda") == "fp32"
    with pytest.raises(InvalidInput, match="fp16 runs on CUDA only"):
        resolve_image_precision("fp16", "cpu")
    with pytest.raises(InvalidInput, match="unknown image precision"):
        resolve_image_precision("half", "cuda")
    assert [resolve_asr_compute_type(c, "cpu") for c in ("auto", "int8", "float32")] == ["int8", "int8", "float32"]
    assert [resolve_asr_compute_type(c, "cuda") for c in ("auto", "int8", "float32")] == \
        ["float16", "int8_float16", "float32"]


def test_fp16_images_on_a_cpu_is_a_user_error_not_a_defect(tmp_path):
    """Said as one error line by the CLI, not a traceback; with device auto on a machine without
    a GPU, CLIP's loading says it (resolve_image_precision above)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "VIDSEARCH_DEVICE": "cpu", "VIDSEARCH_IMAGE_PRECISION": "fp16",
           "VIDSEARCH_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "api.cli", "status"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "fp16 runs on CUDA only" in done.stderr
    assert "Traceback" not in done.stderr
