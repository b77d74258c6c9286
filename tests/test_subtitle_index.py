"""A video's own subtitles replace Whisper: sidecar files and embedded streams are read, searched
and recorded as the transcript's source; a broken or unwanted file falls back to Whisper with the
reason kept; a sidecar that appears or changes gets the video indexed again; transcripts go out
as WebVTT/SRT through the CLI and the API."""
import json
import subprocess

import pytest

from bench.corpus import Spec, make_video
from indexer.pipeline import Indexer
from core.library import Library
from search.service import Searcher
from core.subtitles import Cue, parse

SIDECAR = ("1\r\n00:00:01,000 --> 00:00:03,500\r\n<i>Quarterly results</i> beat the forecasts\r\n\r\n"
           "2\r\n00:00:05,000 --> 00:00:07,000\r\nThe harbour bridge opens in spring\r\n")


def _spoken(name, text, seconds=8):
    return Spec(name, [("color=c=navy", seconds)], speech=[(1.0, text)])


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "videos"
    make_video(_spoken("lecture.mp4", "the weather is sunny today"), folder)
    (folder / "lecture.en.srt").write_bytes(SIDECAR.encode("utf-8-sig"))
    make_video(_spoken("broken.mp4", "the museum opens at nine"), folder)
    (folder / "broken.srt").write_text("1\n00:00:01,000 --> 00:00:xx,000\nhello\n")
    make_video(_spoken("french.mp4", "the night train to the city leaves the station at noon every day"), folder)
    (folder / "french.fr.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nle train part à midi\n")
    plain = make_video(Spec("plain.mp4", [("color=c=teal", 6)], audio=False), folder / "src")
    srt = folder / "src" / "stream.srt"
    srt.write_text("1\n00:00:01,500 --> 00:00:04,000\nA volcano erupts near the village\n")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(plain), "-i", str(srt),
                    "-map", "0", "-map", "1", "-c:v", "copy", "-c:s", "mov_text",
                    "-metadata:s:s:0", "language=eng", str(folder / "embedded.mp4")], check=True)
    for leftover in (folder / "src").iterdir():
        leftover.unlink()
    (folder / "src").rmdir()
    return folder


def _video(library, path):
    return library.known_file(str(path))


def test_subtitles_replace_whisper_and_fall_back_with_the_reason(folder, settings, encoders):
    library = Library(settings)
    report = Indexer(library, encoders, settings, progress=False).index([folder])
    assert len(report.of("indexed")) == 4, report.of("failed")

    lecture = _video(library, folder / "lecture.mp4")
    assert (lecture.transcript_source, lecture.asr_model, lecture.subtitle_note) == \
        ("sidecar:lecture.en.srt", None, None)
    # the video's voice speaks during the first cue only (the sidecar's words are not what it says)
    cues = library.transcript_cues(lecture.id)
    assert [(c.start, c.end, c.text) for c in cues] == [
        (1.0, 3.5, "Quarterly results beat the forecasts"), (5.0, 7.0, "The harbour bridge opens in spring")]
    assert cues[0].speaker.startswith("Speaker ") and cues[1].speaker is None

    embedded = _video(library, folder / "embedded.mp4")
    assert embedded.transcript_source.startswith("stream:") and embedded.transcript_source.endswith("(eng)")
    assert [c.text for c in library.transcript_cues(embedded.id)] == ["A volcano erupts near the village"]

    broken = _video(library, folder / "broken.mp4")
    assert broken.transcript_source == "asr" and broken.asr_model == "faster-whisper:tiny.en"
    assert "broken.srt:2: cannot read the timing" in broken.subtitle_note
    assert "museum" in " ".join(c.text for c in library.transcript_cues(broken.id)).lower()

    french = _video(library, folder / "french.mp4")
    assert french.transcript_source == "asr" and "none in en: sidecar:french.fr.srt" in french.subtitle_note
    assert library.transcript_sources() == {"faster-whisper:tiny.en": 2, "subtitle files": 1, "subtitle streams": 1}

    # Words only in the subtitles are found, at their time; words only spoken are not.
    searcher = Searcher(library, encoders)
    (hit, *_) = searcher.search_text("quarterly forecasts", mode="keyword", k=3)
    assert hit.video_path == str(folder / "lecture.mp4") and hit.start <= 1.0 < hit.end
    (hit, *_) = searcher.search_text("volcano village", mode="keyword", k=3)
    assert hit.video_path == str(folder / "embedded.mp4") and hit.start <= 1.5 < hit.end
    assert not [m for m in searcher.search_text("sunny weather", mode="keyword", k=5)
                if m.video_path == str(folder / "lecture.mp4")]


def test_a_sidecar_that_appears_or_changes_gets_the_video_indexed_again(tmp_path, settings, encoders):
    folder = tmp_path / "videos"
    make_video(Spec("clip.mp4", [("color=c=navy", 5)], audio=False), folder)
    library = Library(settings)
    indexer = Indexer(library, encoders, settings, progress=False)
    assert len(indexer.index([folder]).of("indexed")) == 1
    assert _video(library, folder / "clip.mp4").transcript_source is None
    assert len(indexer.index([folder]).of("skipped")) == 1

    (folder / "clip.vtt").write_text("WEBVTT\n\n00:01.000 --> 00:03.000\nA lighthouse in the fog\n")
    assert [o.path for o in indexer.index([folder]).of("indexed")] == [str(folder / "clip.mp4")]
    assert _video(library, folder / "clip.mp4").transcript_source == "sidecar:clip.vtt"
    assert len(indexer.index([folder]).of("skipped")) == 1  # read once, then unchanged

    (folder / "clip.vtt").write_text("WEBVTT\n\n00:01.000 --> 00:03.000\nA lighthouse in the storm\n")
    assert len(indexer.index([folder]).of("indexed")) == 1
    video = _video(library, folder / "clip.mp4")
    assert [c.text for c in library.transcript_cues(video.id)] == ["A lighthouse in the storm"]

    asr_only = Indexer(library, encoders, settings.model_copy(update={"transcripts": "asr"}), progress=False)
    (folder / "clip.vtt").unlink()
    assert len(asr_only.index([folder]).of("skipped")) == 1  # subtitles off: sidecars are not looked at


def test_transcripts_go_out_as_webvtt_and_srt(tmp_path, settings, encoders, monkeypatch, capsys):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.cli import main

    folder = tmp_path / "videos"
    make_video(Spec("talk.mp4", [("color=c=navy", 5)], audio=False), folder)
    (folder / "talk.srt").write_text("1\n00:00:00,500 --> 00:00:02,000\nHello & welcome <b>all</b>\n")
    Indexer(Library(settings), encoders, settings, progress=False).index([folder])

    monkeypatch.setenv("VIDSEARCH_DATA_DIR", str(settings.data_dir))
    assert main(["transcript", str(folder / "talk.mp4"), "--format", "srt"]) == 0
    assert capsys.readouterr().out == "1\n00:00:00,500 --> 00:00:02,000\nHello & welcome all\n\n"
    assert main(["transcript", str(folder / "missing.mp4")]) == 2
    assert "no indexed video" in capsys.readouterr().err

    with TestClient(create_app(settings, encoders=encoders)) as client:
        video_id = client.get("/api/videos").json()["videos"][0]["id"]
        vtt = client.get(f"/api/videos/{video_id}/transcript")
        assert vtt.status_code == 200 and vtt.headers["content-type"] == "text/vtt; charset=utf-8"
        assert vtt.text.startswith("WEBVTT\n\n") and parse(vtt.text) == [Cue(0.5, 2.0, "Hello & welcome all")]
        as_json = client.get(f"/api/videos/{video_id}/transcript", params={"format": "json"}).json()
        assert as_json == [{"start": 0.5, "end": 2.0, "text": "Hello & welcome all"}]
        assert client.get("/api/videos/999/transcript").status_code == 404
        assert client.get(f"/api/videos/{video_id}/transcript", params={"format": "ass"}).status_code == 422
