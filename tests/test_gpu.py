"""CUDA paths: encoders on the GPU when one is visible. Skipped cleanly where there is none."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible")


def test_auto_device_is_cuda(tmp_path):
    from search.settings import Settings

    assert Settings(data_dir=tmp_path).resolved_device() == "cuda"
    assert Settings(data_dir=tmp_path, device="cpu").resolved_device() == "cpu"


def test_clip_on_cuda_matches_cpu(tiny_clip, tmp_path):
    from search.encoders import Encoders
    from search.settings import Settings

    gpu = Encoders(Settings(data_dir=tmp_path, **tiny_clip)).clip
    cpu = Encoders(Settings(data_dir=tmp_path, device="cpu", **tiny_clip)).clip
    assert next(gpu.model.parameters()).is_cuda and not next(cpu.model.parameters()).is_cuda
    frames = [np.random.default_rng(i).integers(0, 255, (224, 298, 3), dtype=np.uint8) for i in range(5)]
    assert np.allclose(gpu.encode_images(frames), cpu.encode_images(frames), atol=2e-3)
    texts = ["a storm over the coast", "a dog with a frisbee"]
    assert np.allclose(gpu.encode_texts(texts), cpu.encode_texts(texts), atol=2e-3)
