"""A text query in a library with CLIP vectors runs without torch: CLIP's tokenizer here gives
open_clip's ids, the checked export gives the full model's vectors, and a `vidsearch` query
process imports none of torch, torchvision, transformers or open_clip, yet answers as a warm one."""
import json
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest

from core.models.clip_text import ExportedClipText, clip_text_kind, clip_text_key, open_clip_text
from core.models.clip_tokens import ClipTokenizer

HEAVY = ("torch", "torchvision", "transformers", "open_clip")
MODES = ("hybrid", "fused", "visual", "speech", "keyword")

_PIECES = ["dog", "the", "WHERE", "budget's", "they'll", "we've", "café", "Zürich", "naïve", "Ñandú", "straße",
           "東京", "北京の夜", "안녕하세요", "Привет", "مرحبا", "שלום", "नमस्ते", "🎸", "🔥🔥", "👩‍👩‍👧", "🇩🇪", "&amp;",
           "&lt;b&gt;", "&#39;", "2024", "3.14", "1,000,000", "x²", "½", "—", "...", "!?", "#hashtag", "@user",
           "https://example.org/a?b=c", "C++", "e-mail", "l'été", "don't", "<start_of_text>", "<end_of_text>",
           "Ã©", "â€™", "\u00a0", "\t", "\n", "  ", "ＡＢＣ", "ﬁ", "İstanbul", "ǅ", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
           "supercalifragilisticexpialidocious", "antidisestablishmentarianism", "\u200b", "ß", "ΣΊΣΥΦΟΣ"]


def varied_texts(count: int, seed: int = 7) -> list[str]:
    """Strings of every kind a user may type: scripts, emoji, entities, mojibake, odd spaces,
    and some far longer than CLIP's 77 tokens."""
    rng = random.Random(seed)
    texts = []
    for i in range(count):
        words = rng.randint(1, 120 if i % 10 == 0 else 12)
        texts.append(rng.choice(["", " ", "\n"]).join(rng.choice(_PIECES) for _ in range(words)) if i % 7 else
                     "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 40))))
    return texts + ["", " ", "a", "A" * 500, "word " * 200]


def test_token_ids_equal_open_clips_on_thousands_of_strings():
    from open_clip.tokenizer import SimpleTokenizer, default_bpe

    texts = varied_texts(3000)
    ours = ClipTokenizer(default_bpe())(texts)
    theirs = SimpleTokenizer()(texts).numpy()
    assert ours.shape == theirs.shape == (len(texts), 77)
    different = [text for text, a, b in zip(texts, ours, theirs) if not np.array_equal(a, b)]
    assert different == []
    assert (ours[:, 76] != 0).sum() >= 100  # many were cut at the context length


@pytest.fixture(scope="module")
def full_clip(tiny_clip, tmp_path_factory):
    """The full model on ONNX Runtime: loading it exports the text tower and leaves the checked export."""
    from core.models.clip import ClipEncoder

    cache = tmp_path_factory.mktemp("clip-onnx")
    clip = ClipEncoder(tiny_clip["clip_model"], tiny_clip["clip_pretrained"],
                       config_path=tiny_clip["clip_model_config"], text_runtime="onnx", onnx_cache_dir=cache)
    return clip, cache


def _open(tiny_clip, cache):
    return open_clip_text(cache, tiny_clip["clip_model"], tiny_clip["clip_pretrained"],
                          tiny_clip["clip_model_config"], None)


def test_the_export_gives_the_full_models_vectors(full_clip, tiny_clip):
    from core.models.clip import ClipEncoder

    clip, cache = full_clip
    exported = _open(tiny_clip, cache)
    assert isinstance(exported, ExportedClipText)
    assert exported.graph.name.endswith(".text.npy")  # a plain tower: numpy runs its weights
    assert (exported.model_id, exported.dim) == (clip.model_id, clip.dim)
    texts = varied_texts(200, seed=3)
    ours, warm = exported.encode_texts(texts), clip.encode_texts(texts)
    assert ours.shape == (len(texts), clip.dim) and (ours * warm).sum(axis=1).min() > 1 - 1e-5
    torch_clip = ClipEncoder(tiny_clip["clip_model"], tiny_clip["clip_pretrained"],
                             config_path=tiny_clip["clip_model_config"], text_runtime="torch")
    assert (ours * torch_clip.encode_texts(texts)).sum(axis=1).min() > 1 - 1e-5


def test_an_export_of_other_weights_is_never_used(full_clip, tiny_clip, tmp_path):
    _, cache = full_clip
    cache = shutil.copytree(cache, tmp_path / "onnx")
    kind = clip_text_kind(tiny_clip["clip_model"])
    key = clip_text_key(tiny_clip["clip_model"], tiny_clip["clip_pretrained"], tiny_clip["clip_model_config"], None)
    assert ExportedClipText.open(cache, kind, key) is not None
    assert clip_text_key(tiny_clip["clip_model"], "openai", None, None) != key  # a tag is other weights

    # The checkpoint rewritten under the same name (another stat): the manifest is void.
    (manifest,) = cache.glob("clip-text-*.manifest.json")
    saved = json.loads(manifest.read_text())
    weights = saved["sources"][0]
    manifest.write_text(json.dumps({**saved, "sources": [[weights[0], weights[1] + 1, weights[2]]]}))
    assert ExportedClipText.open(cache, kind, key) is None
    # Merges other than the ones checked: void too.
    manifest.write_text(json.dumps({**saved, "tokenizer_sha256": "0" * 64, "tokenizer_stat": None}))
    assert ExportedClipText.open(cache, kind, key) is None
    manifest.write_text(json.dumps(saved))
    assert ExportedClipText.open(cache, kind, key) is not None


# A fresh interpreter, as `vidsearch` starts: the CLIP text encoder the settings give, and its vectors.
FRESH = """
import json, sys
import numpy as np
from core.encoders import Encoders
from core.settings import Settings
encoders = Encoders(Settings())
clip = encoders.clip_text
np.save(sys.argv[1], clip.encode_texts(json.loads(sys.argv[2])))
print(json.dumps({"kind": type(clip).__name__, "heavy": sorted(m for m in %r if m in sys.modules)}))
""" % (HEAVY,)


def test_a_fresh_process_encodes_clip_text_without_torch(full_clip, tiny_clip, tmp_path):
    from tests.conftest import cli_env

    clip, cache = full_clip
    texts = ["a storm on the coast", "rock &amp; roll 🎸", "東京"]
    env = cli_env(tiny_clip, tmp_path / "data", VIDSEARCH_ONNX_CACHE_DIR=str(cache))
    out = tmp_path / "vectors.npy"
    done = subprocess.run([sys.executable, "-c", FRESH, str(out), json.dumps(texts)], env=env,
                          capture_output=True, text=True, check=True)
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info == {"kind": "ExportedClipText", "heavy": []}
    assert (np.load(out) * clip.encode_texts(texts)).sum(axis=1).min() > 1 - 1e-5


def _cold(env, *argv, heavy=HEAVY) -> tuple[list, list[str]]:
    """A `vidsearch` process started afresh: its JSON answer and the ``heavy`` packages it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "api.cli", *argv, "--json"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return json.loads(done.stdout), sorted(name for name in imported if name in heavy)


def _top(results) -> list:
    return [(r["segment_id"], round(r["score"], 4)) for r in results]


def test_cold_queries_in_a_library_with_clip_vectors_import_no_torch_and_answer_as_warm(
        tiny_clip, corpus, tmp_path, monkeypatch, capsys):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.cli import main
    from core.settings import Settings
    from tests.conftest import cli_env

    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("weather.mp4", "budget.mp4"):
        shutil.copy(corpus / name, folder / name)
    env = cli_env(tiny_clip, tmp_path / "data", VIDSEARCH_ONNX_CACHE_DIR=str(tmp_path / "onnx"))
    for key, value in env.items():
        if key.startswith("VIDSEARCH_"):
            monkeypatch.setenv(key, value)
    assert main(["index", str(folder), "-q"]) == 0  # the full CLIP, on ONNX Runtime: it leaves the export
    assert len(list((tmp_path / "onnx").glob("clip-text-*.manifest.json"))) == 1
    capsys.readouterr()

    query = "heavy weather on the shore"
    warm = {}
    with TestClient(create_app(Settings())) as client:  # today's warm server: the full CLIP, loaded at start
        for mode in MODES:
            answer = client.get("/api/search", params={"q": query, "mode": mode, "k": 10})
            assert answer.status_code == 200, answer.text
            warm[mode] = answer.json()["moments"]
    for mode in MODES:
        cold, heavy = _cold(env, "search", query, "--mode", mode, heavy=HEAVY + ("onnxruntime",))
        # CLIP's plain text tower runs on numpy; only the sentence model's modes open ONNX Runtime
        assert heavy == (["onnxruntime"] if mode in ("hybrid", "speech") else []), mode
        assert cold and _top(cold) == _top(warm[mode]), mode

    similar, heavy = _cold(env, "similar", "--segment", str(cold[0]["segment_id"]))
    assert heavy == [] and similar

    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"query": query, "video": "weather.mp4", "start": 0, "end": 14}) + "\n")
    report, heavy = _cold(env, "eval", str(queries), "-q")
    assert heavy == [] and report["evaluated"] == 1 and {"hybrid", "fused", "visual"} <= set(report["modes"])
