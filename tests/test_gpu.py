"""CUDA paths: encoders on the GPU when one is visible. Skipped cleanly where there is none."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible")


def test_auto_device_is_cuda(tmp_path):
    from core.settings import Settings

    assert Settings(data_dir=tmp_path).resolved_device() == "cuda"
    assert Settings(data_dir=tmp_path, device="cpu").resolved_device() == "cpu"


def test_clip_on_cuda_matches_cpu(tiny_clip, tmp_path):
    from core.encoders import Encoders
    from core.settings import Settings

    gpu = Encoders(Settings(data_dir=tmp_path, **tiny_clip)).clip
    full = Encoders(Settings(data_dir=tmp_path, image_precision="fp32", **tiny_clip)).clip
    cpu = Encoders(Settings(data_dir=tmp_path, device="cpu", **tiny_clip)).clip
    assert next(gpu.model.parameters()).is_cuda and not next(cpu.model.parameters()).is_cuda
    assert (gpu.image_precision, full.image_precision, cpu.image_precision) == ("fp16", "fp32", "fp32")
    frames = [np.random.default_rng(i).integers(0, 255, (224, 298, 3), dtype=np.uint8) for i in range(5)]
    reference = cpu.encode_images(frames)
    assert np.allclose(full.encode_images(frames), reference, atol=2e-3)
    half = gpu.encode_images(frames)  # float16 inside, unit float32 vectors out
    assert half.dtype == np.float32 and np.allclose(np.linalg.norm(half, axis=1), 1, atol=1e-5)
    assert (half * reference).sum(axis=1).min() > 0.999
    texts = ["a storm over the coast", "a dog with a frisbee"]
    assert np.allclose(gpu.encode_texts(texts), cpu.encode_texts(texts), atol=2e-3)


def test_a_whole_indexing_run_on_cuda_finds_what_the_cpu_run_finds(corpus, tiny_clip, tmp_path):
    """CLIP in float16 and faster-whisper in float16 on the GPU, decoding in the workers: the same
    files, the same moments, the same first answers as a CPU run of the same corpus."""
    on_gpu, on_cpu = index_on(("cuda", "cpu"), corpus, tiny_clip, tmp_path)
    clip = on_gpu[1].clip
    assert next(clip.model.parameters()).is_cuda and clip.image_precision == "fp16"
    assert_runs_agree(on_gpu, on_cpu)


def index_on(devices, corpus, tiny_clip, tmp_path) -> list:
    """(library, encoders, report, searcher) for each device, after indexing ``corpus`` there."""
    from indexer.pipeline import Indexer
    from core.encoders import Encoders
    from core.library import Library
    from search.service import Searcher
    from core.settings import Settings

    runs = []
    for n, device in enumerate(devices):
        settings = Settings(data_dir=tmp_path / f"{n}-{device}", device=device, asr_model="tiny.en", **tiny_clip)
        library, encoders = Library(settings), Encoders(settings)
        report = Indexer(library, encoders, settings, progress=False).index([corpus])
        runs.append((library, encoders, report, Searcher(library, encoders)))
    return runs


def assert_runs_agree(run, reference) -> None:
    names = [sorted(o.path for o in r[2].of("indexed")) for r in (run, reference)]
    assert names[0] == names[1] and len(names[0]) == 4

    def spans(library):
        return sorted((v.path, round(s.start, 1), round(s.end, 1)) for s, v in library.segments(range(1, 1000)).values())

    assert spans(run[0]) == spans(reference[0])
    for query in ("storm forecast by the sea", "education expenses went up", "a puppy chasing a flying disc outdoors"):
        for mode in ("speech", "fused", "hybrid"):
            first = [r[3].search_text(query, mode=mode, k=1)[0] for r in (run, reference)]
            assert first[0].video_path == first[1].video_path, (query, mode)
            assert abs(first[0].start - first[1].start) < 0.5, (query, mode)
