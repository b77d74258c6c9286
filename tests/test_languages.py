"""Every language heard, each stretch in its own: the packaged multilingual base, language per line,
English-only models that refuse other languages, and search across languages.

Real recordings (``multilingual.mp3``: English, then German from about 29.8 s, where the English
reading ends at 28.9 s and the German begins at 30.6 s; ``sr_french.wav``; ``sr_chinese.flac``) and a
Spanish espeak-ng clip whose words the base model hears (its volcano, lava and village).
"""
import shutil
import subprocess
from pathlib import Path

import pytest

from indexer.decode import decode_audio
from indexer.pipeline import Indexer
from search.filters import Filters
from core.library import Library
from core.models import packaged_whisper
from core.models.base import ModelUnavailable
from core.models.whisper import FasterWhisper, foreign_stretches
from search.service import Searcher
from core.settings import Settings

from .conftest import media

SWITCH = 29.8  # seconds into multilingual.mp3 where English gives way to German
SPANISH = ("El volcán entró en erupción y la lava cubrió todo el pueblo. "
           "Los vecinos escaparon en autobuses hacia la ciudad.")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return FasterWhisper("base", threads=2, join_dir=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def tiny_en(tmp_path_factory):
    return FasterWhisper("tiny.en", threads=2, join_dir=tmp_path_factory.mktemp("models"))


# --- the packaged base
def test_base_is_joined_once_checked_by_hash_and_then_only_stat(tmp_path, monkeypatch):
    folder = packaged_whisper.packaged_base(tmp_path)
    model = tmp_path / f"whisper-base-{packaged_whisper.BASE_SHA256[:12]}" / "model.bin"
    assert folder == str(model.parent)
    assert model.stat().st_size == sum(p.stat().st_size for p in packaged_whisper.base_parts())
    assert sorted(p.name for p in model.parent.iterdir()) == [
        "config.json", "model.bin", "tokenizer.json", "vidsearch-manifest.json", "vocabulary.txt"]

    def no_join(*_):
        raise AssertionError("joined again")

    monkeypatch.setattr(packaged_whisper, "_join", no_join)
    assert packaged_whisper.packaged_base(tmp_path) == folder  # the manifest answers


def test_a_damaged_part_is_refused_and_leaves_no_model(tmp_path, monkeypatch):
    parts = [Path(shutil.copy(p, tmp_path / p.name)) for p in packaged_whisper.base_parts()]
    with open(parts[1], "r+b") as part:
        part.seek(1000)
        part.write(b"\x00\x01\x02")
    monkeypatch.setattr(packaged_whisper, "base_parts", lambda: parts)
    with pytest.raises(ModelUnavailable, match="does not check out"):
        packaged_whisper.packaged_base(tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("model.bin"))


# --- language per stretch
def test_a_file_that_switches_language_is_heard_in_both_each_line_in_its_own(base):
    from core.models.asr_windows import transcribe_windows

    transcript = transcribe_windows(base, decode_audio(str(media("multilingual.mp3"))))
    languages = [line.language for line in transcript.lines]
    assert set(languages) == {"en", "de"} and languages == sorted(languages, key=lambda c: c == "de")
    last_english = max(line.end for line in transcript.lines if line.language == "en")
    first_german = min(line.start for line in transcript.lines if line.language == "de")
    assert abs(last_english - SWITCH) < 3 and abs(first_german - SWITCH) < 3
    english = " ".join(line.text for line in transcript.lines if line.language == "en").lower()
    german = " ".join(line.text for line in transcript.lines if line.language == "de").lower()
    assert "permission is hereby granted" in english and "substantial portions" in english
    assert "software" in german and "genehmigung" in german and "permission" not in german
    assert transcript.languages()[0] in ("en", "de") and transcript.unheard == []
    # The English rendering covers the German only, and says what it says in English.
    assert transcript.rendering and all(line.start > SWITCH - 3 for line in transcript.rendering)
    assert "software" in " ".join(line.text for line in transcript.rendering).lower()


def test_a_second_speaker_after_a_short_first_is_not_lost(tmp_path, base):
    from core.models.asr_windows import transcribe_windows

    from .test_voices import JFK_1, READER_DE, speech

    # A German reader, then JFK, in one short file: base writes the end of text after the reader's
    # sentences and never decodes the rest of its window; the voice it skipped is heard again.
    audio = decode_audio(speech(tmp_path / "reading.wav", READER_DE, JFK_1, video=False))
    lines = transcribe_windows(base, audio).lines
    assert [line.language for line in lines][0] == "de" and "genehmigung" in lines[0].text.lower()
    kennedy = " ".join(line.text.lower() for line in lines if line.language == "en")
    assert "fellow americans" in kennedy and "ask not" in kennedy, kennedy


def test_foreign_stretches_join_neighbouring_lines_of_one_language():
    from core.models.whisper import Line

    lines = [Line(0, 2, "a", [], "en"), Line(2, 4, "b", [], "de"), Line(4, 6, "c", [], "de"),
             Line(6, 8, "d", [], "fr"), Line(8, 9, "e", [], "en"), Line(9, 10, "f", [], "de")]
    assert [(a / 16000, b / 16000, code) for a, b, code in foreign_stretches(lines, 16000 * 10)] == [
        (1.7, 6.3, "de"), (5.7, 8.3, "fr"), (8.7, 10.0, "de")]


def test_french_is_heard_by_base_and_rendered_in_english(base):
    transcript = base.transcribe(decode_audio(str(media("sr_french.wav"))))
    assert transcript.language == "fr" and "dictée" in transcript.text.lower()
    assert "dictation" in " ".join(line.text for line in transcript.rendering).lower()


@pytest.mark.parametrize("name, language, said", [("sr_french.wav", "fr", "French (0:00-0:03)"),
                                                  ("sr_chinese.flac", "zh", "Chinese (0:00-0:01)")])
def test_an_english_only_model_never_transcribes_another_language_and_says_so(tiny_en, name, language, said):
    transcript = tiny_en.transcribe(decode_audio(str(media(name))))
    assert transcript.lines == [] and [code for _, _, code in transcript.unheard] == [language]
    assert transcript.unheard_note() == (f"speech in {said}, not transcribed by tiny.en (English only); "
                                         "unset VIDSEARCH_ASR_MODEL for the multilingual base")


def test_an_english_only_model_still_hears_english(tiny_en):
    transcript = tiny_en.transcribe(decode_audio(str(media("jfk.flac"))))
    assert "ask not what your country" in transcript.text.lower() and transcript.unheard == []
    assert {line.language for line in transcript.lines} == {"en"}


# --- indexed, searched, reported
def _video(audio, target, seconds=None):
    """A grey picture under ``audio``: a video file with that speech."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:s=160x120:r=4",
                    "-i", str(audio), "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    str(target)], check=True)
    return target


@pytest.fixture(scope="module")
def library_of_languages(tmp_path_factory, tiny_clip, encoders):
    folder = tmp_path_factory.mktemp("spoken")
    _video(media("multilingual.mp3"), folder / "licence.mp4")
    _video(media("jfk.flac"), folder / "jfk.mp4")
    _video(media("sr_french.wav"), folder / "dictee.mp4")
    spanish = folder / "volcan.wav"
    subprocess.run(["espeak-ng", "-v", "es", "-s", "125", SPANISH, "-w", str(spanish)], check=True)
    _video(spanish, folder / "volcan.mp4")
    spanish.unlink()
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), model_cache_dir=tmp_path_factory.mktemp("m"),
                        **tiny_clip)
    library = Library(settings)
    report = Indexer(library, encoders, settings, progress=False).index([folder])
    return library, report, Searcher(library, encoders), folder


def test_segments_and_lines_keep_their_language_and_results_carry_it(library_of_languages):
    library, report, searcher, folder = library_of_languages
    assert sorted(o.path.rsplit("/", 1)[-1] for o in report.of("indexed")) == [
        "dictee.mp4", "jfk.mp4", "licence.mp4", "volcan.mp4"]
    licence = library.known_file(str(folder / "licence.mp4"))
    assert licence.asr_model == "faster-whisper:base" and sorted(licence.languages) == ["de", "en"]
    detail = library.video_detail(licence.id)
    spoken = [(s.language, s.start) for s in detail.segments if s.transcript]
    assert {code for code, _ in spoken} == {"en", "de"}
    assert all(abs(start - SWITCH) < 3 or (code == "de") == (start > SWITCH) for code, start in spoken)
    assert {line.language for line in detail.lines} == {"en", "de"}
    german = [s for s in detail.segments if s.language == "de"]
    assert german and all(s.rendering and "software" in s.rendering.lower() for s in german)
    english = [s for s in detail.segments if s.language == "en"]
    assert all(s.rendering is None for s in english)
    languages, speech = library.speech_languages()
    assert set(languages) == {"en", "de", "fr", "es"} and languages["en"]["videos"] == 2
    assert {v.path.rsplit("/", 1)[-1]: v.languages for v in speech}["volcan.mp4"] == ["es"]


def test_the_language_filter_keeps_moments_spoken_in_it(library_of_languages):
    _, _, searcher, _ = library_of_languages
    found = searcher.search_text("permission to use the software", "speech", 10, filters=Filters(language="de"))
    assert found and {m.language for m in found} == {"de"}
    assert all(m.video_path.endswith("licence.mp4") for m in found)
    assert searcher.search_text("permission to use the software", "speech", 10, filters=Filters(language="ja")) == []
    for wrong in ("German", "DE", "de\n"):
        with pytest.raises(ValueError, match="not a language code"):
            Filters(language=wrong)


def test_an_english_question_finds_the_spanish_moment(library_of_languages):
    _, _, searcher, _ = library_of_languages
    for mode in ("speech", "hybrid"):
        (top, *_) = searcher.search_text("a volcano erupted and lava buried the village", mode, 3)
        assert top.video_path.endswith("volcan.mp4") and top.language == "es", mode


def test_a_word_typed_as_spoken_finds_its_moment(library_of_languages):
    _, _, searcher, _ = library_of_languages
    (top, *_) = searcher.search_text("volcán", "keyword", 3)
    assert top.video_path.endswith("volcan.mp4") and "volcán" in top.transcript.lower()
    (top, *_) = searcher.search_text("dictée", "hybrid", 3)
    assert top.video_path.endswith("dictee.mp4") and top.language == "fr"


def test_an_english_only_model_reports_the_language_it_could_not_hear(tmp_path, tiny_clip):
    from core.encoders import Encoders

    folder = tmp_path / "in"
    folder.mkdir()
    _video(media("sr_french.wav"), folder / "dictee.mp4")
    # No CLIP weights (speech-only, as on a machine that cannot download them): speech is all there is.
    settings = Settings(data_dir=tmp_path / "data", asr_model="tiny.en",
                        **{**tiny_clip, "clip_pretrained": str(tmp_path / "no-such-checkpoint.pt")})
    library = Library(settings)
    report = Indexer(library, Encoders(settings), settings, progress=False).index([folder])
    (failed,) = report.of("failed")
    assert "speech in French (0:00-0:03), not transcribed by tiny.en" in failed.reason
    assert "no speech was found" not in failed.reason


# --- keywords in scripts without spaces, SQLite and PostgreSQL alike
def test_query_words_cut_cjk_runs_into_character_pairs_and_keep_other_words():
    from core.cjk import cjk_grams
    from search.keyword import query_words

    assert cjk_grams("砸自己的脚", None, "東京") == "砸自 自己 己的 的脚 東京"
    assert cjk_grams("no such script here") is None
    assert query_words("自己 tortugas Sauerteig 的脚abc") == ["自己", "tortugas", "sauerteig", "的脚", "abc"]


def test_a_chinese_word_inside_a_phrase_is_found_by_keyword(tmp_path, catalog_url):
    import numpy as np

    from search.keyword import KeywordSearch
    from core.library import NewSegment, NewVideo

    library = Library(Settings(data_dir=tmp_path / "data", database_url=catalog_url))
    said = [("砸自己的脚", "zh"), ("東京の天気は晴れです", "ja"), ("Las tortugas ponen huevos", "es"),
            ("the weather in Tokyo is fine", "en")]
    vector = np.eye(8, dtype=np.float32)
    library.write_video(NewVideo(path="/said.mp4", size=1, mtime=1.0, duration=20.0, models={"speech": ("s", 8)},
                                 segments=[NewSegment(start=5.0 * n, end=5.0 * (n + 1), transcript=text, language=code,
                                                      vectors={"speech": vector[n]})
                                           for n, (text, code) in enumerate(said)]))
    keywords = KeywordSearch()
    with library.sessions() as session:
        def found(query):
            return [library.segments([i])[i][0].transcript for i, _ in keywords.search(session, query, 5)]

        assert found("自己") == ["砸自己的脚"]
        assert found("天気") == ["東京の天気は晴れです"]
        assert found("tortugas") == ["Las tortugas ponen huevos"]
        assert found("天京") == []  # both characters are said, never next to each other
