"""Chapters: a generated talk with titled slides is cut where its sections start and each chapter
is named by its slide; the exports are read back by their consumers (ffmpeg writes the FFmpeg
metadata into a file and PyAV reads the marks back; the WebVTT parser reads the track); a file's
own chapter marks are kept; old libraries get chapters with ``index --only chapters``."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench.chapters_corpus import Talk, plan
from bench.corpus import make_video
from core.rows import ChapterMark

from .test_cli import run

TALK = Talk("talk.mp4", [
    ("Restless Earth", ["volcanoes", "earthquakes"]),
    ("Prices and money", ["inflation", "interest_rates"]),
    ("Moon and eclipses", ["moon_phases", "eclipses"]),
], "titled", "en-us", 160, "test")


@pytest.fixture(scope="module")
def talk(tmp_path_factory, tiny_clip):
    """The talk rendered and indexed once: (settings, its labels, its path)."""
    from core.encoders import Encoders
    from core.library import Library
    from core.settings import Settings
    from indexer.pipeline import Indexer

    folder = tmp_path_factory.mktemp("chapters")
    videos = folder / "videos"
    videos.mkdir()
    label, spec = plan(TALK, folder)
    make_video(spec, videos)
    settings = Settings(data_dir=folder / "data", asr_model="tiny.en", asr_language="en", **tiny_clip)
    report = Indexer(Library(settings), Encoders(settings), settings, progress=False).index([videos])
    assert len(report.of("indexed")) == 1
    return settings, label, videos / TALK.name


def _stored(settings, path: Path):
    from core.library import Library

    library = Library(settings, read_only=True)
    video = library.known_file(str(path))
    return video, *library.chapters_of(video.id)


def test_a_talk_is_cut_where_its_sections_start_and_named_by_its_slides(talk):
    settings, label, path = talk
    video, marks, summary = _stored(settings, path)
    assert video.chapters_version is not None and video.timings["chapters"] >= 0
    assert [m.source for m in marks] == ["computed"] * 3
    starts = [s[0] for s in label["sections"]]
    assert marks[0].start == 0 and all(abs(m.start - t) <= 2.0 for m, t in zip(marks[1:], starts[1:]))
    assert [m.end for m in marks] == [m.start for m in marks[1:]] + [video.duration]
    assert [" ".join(m.title.lower().split()) for m in marks] == [s[1].lower() for s in label["sections"]]
    # The summary: whole sentences said in the talk, in time order, at most one per chapter.
    assert 1 <= len(summary) <= 3 and [s[0] for s in summary] == sorted(s[0] for s in summary)
    assert all(any(a <= line[0] < b for a, b, _, _ in marks) for line in summary)
    assert all(line[2][-1] in ".?!" for line in summary)


def test_ffmpeg_writes_the_exported_chapters_into_a_file_and_indexing_keeps_them(talk, tmp_path, capsys, monkeypatch):
    """The FFmpeg metadata export, written by ffmpeg into a copy of the talk, comes back from
    the container exactly (titles with the characters the format escapes included); indexing the
    copy shows the file's own chapters unless VIDSEARCH_CHAPTERS_FROM=computed."""
    from core.chapter_formats import to_ffmetadata
    from indexer.probe import probe

    settings, _, path = talk
    marks = [ChapterMark(0.0, 20.5, "Intro = start; part #1 \\ welcome", "file"),
             ChapterMark(20.5, 50.0, "Zwei: Mitte", "file"), ChapterMark(50.0, 60.0, "Q&A <live>", "file")]
    metadata = tmp_path / "chapters.txt"
    metadata.write_text(to_ffmetadata(marks))
    marked = tmp_path / "archive" / "marked.mp4"
    marked.parent.mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(path), "-i", str(metadata), "-map", "0",
                    "-map_metadata", "1", "-codec", "copy", "-t", "60", str(marked)], check=True)
    assert probe(str(marked)).chapters == [(m.start, m.end, m.title) for m in marks]

    monkeypatch.setenv("VIDSEARCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("clip_model", "clip_pretrained", "clip_model_config", "asr_model", "asr_language"):
        monkeypatch.setenv(f"VIDSEARCH_{name.upper()}", str(getattr(settings, name)))
    assert run(capsys, "index", str(marked.parent))[0] == 0
    code, out, _ = run(capsys, "chapters", str(marked), "--json")
    shown = json.loads(out)
    assert code == 0 and [(c["start"], c["title"], c["source"]) for c in shown["chapters"]] == \
        [(m.start, m.title, "file") for m in marks]
    monkeypatch.setenv("VIDSEARCH_CHAPTERS_FROM", "computed")
    code, out, _ = run(capsys, "chapters", str(marked), "--json")
    shown = json.loads(out)
    assert {c["source"] for c in shown["chapters"]} == {"computed"} and len(shown["file_chapters"]) == 3


def test_each_export_is_read_back(talk, capsys, monkeypatch):
    from core.subtitles import parse

    settings, label, path = talk
    monkeypatch.setenv("VIDSEARCH_DATA_DIR", str(settings.data_dir))
    _, marks, _ = _stored(settings, path)
    code, vtt, _ = run(capsys, "chapters", str(path), "--format", "vtt")
    assert code == 0 and [(c.start, c.end, c.text) for c in parse(vtt, "chapters.vtt")] == \
        [(round(m.start, 3), round(m.end, 3), m.title) for m in marks]
    code, lines, _ = run(capsys, "chapters", str(path), "--format", "youtube")
    assert lines.splitlines()[0] == f"0:00 {marks[0].title}"
    assert [line.split(" ", 1)[0] for line in lines.splitlines()[1:]] == \
        [f"{int(m.start) // 60}:{int(m.start) % 60:02d}" for m in marks[1:]]
    code, text, _ = run(capsys, "chapters", str(path))
    assert code == 0 and "3 chapter(s), computed" in text and "summary:" in text
    code, _, err = run(capsys, "chapters", "/nowhere/at/all.mp4")
    assert code == 2 and "no indexed video" in err


def test_results_say_their_chapter_and_per_video_answers_list_the_chapters(talk, capsys, monkeypatch):
    settings, _, path = talk
    for name in ("data_dir", "clip_model", "clip_pretrained", "clip_model_config"):
        monkeypatch.setenv(f"VIDSEARCH_{name.upper()}", str(getattr(settings, name)))
    _, marks, _ = _stored(settings, path)
    code, out, _ = run(capsys, "search", "interest rates and loans", "--mode", "speech", "--json")
    moments = json.loads(out)
    assert code == 0 and moments[0]["chapter"] == "Prices and money" and "chapters" not in moments[0]
    assert all(m["chapter"] == [c.title for c in marks if c.start <= m["start"] + 1e-6][-1] for m in moments)
    code, out, _ = run(capsys, "search", "interest rates and loans", "--mode", "speech", "--per-video", "--json")
    (moment,) = json.loads(out)
    assert [(c["start"], c["title"]) for c in moment["chapters"]] == [(m.start, m.title) for m in marks]
    code, out, _ = run(capsys, "search", "interest rates and loans", "--mode", "speech", "--per-video")
    assert "chapter: Prices and money" in out and "chapters: 00:00.0 Restless Earth · " in out


def test_old_libraries_get_chapters_with_index_only_chapters(talk, tmp_path, capsys, monkeypatch):
    import shutil

    from core.library import Library

    settings, _, path = talk
    copy = tmp_path / "data"
    shutil.copytree(settings.data_dir, copy)
    monkeypatch.setenv("VIDSEARCH_DATA_DIR", str(copy))
    library = Library(settings.model_copy(update={"data_dir": copy}))
    video = library.known_file(str(path))
    made, summary = library.chapters_of(video.id)
    library.replace_chapters(video.id, [], None, None)  # as a library indexed before chapters
    code, out, _ = run(capsys, "chapters", str(path))
    assert "no chapters yet" in out
    code, out, _ = run(capsys, "index", "--only", "chapters", str(path.parent), "--json")
    assert code == 0 and json.loads(out)["indexed"] == 1
    again, summary_again = library.chapters_of(video.id)
    assert again == made and summary_again == summary
    code, out, _ = run(capsys, "index", "--only", "chapters", str(path.parent), "--json")
    assert json.loads(out)["skipped"] == 1


def test_the_api_serves_chapters_and_summary(talk):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from core.subtitles import parse

    settings, _, path = talk
    _, marks, summary = _stored(settings, path)
    video_id = _stored(settings, path)[0].id
    with TestClient(create_app(settings)) as client:
        body = client.get(f"/api/videos/{video_id}/chapters").json()
        assert body["computed"] and body["file_chapters"] == []
        assert [(c["start"], c["title"]) for c in body["chapters"]] == [(m.start, m.title) for m in marks]
        track = client.get(f"/api/videos/{video_id}/chapters?format=vtt")
        assert track.headers["content-type"].startswith("text/vtt")
        assert [c.text for c in parse(track.text, "track.vtt")] == [m.title for m in marks]
        ff = client.get(f"/api/videos/{video_id}/chapters", params={"format": "ffmetadata"}).text
        assert ff.startswith(";FFMETADATA1\n") and ff.count("[CHAPTER]") == 3
        assert client.get(f"/api/videos/{video_id}/summary").json()["summary"] == \
            [{"start": a, "end": b, "text": t} for a, b, t in summary]
        assert client.get(f"/api/videos/{video_id}/chapters?format=docx").status_code == 422
        assert client.get("/api/videos/999999/chapters").status_code == 404
        assert client.get("/api/videos/999999/summary").status_code == 404
        asked = {"q": "interest rates and loans", "mode": "speech"}
        (moment,) = client.get("/api/search", params={**asked, "per_video": "true"}).json()["moments"]
        assert moment["chapter"] == "Prices and money"
        assert [(c["start"], c["title"], c["source"]) for c in moment["chapters"]] == \
            [(m.start, m.title, "computed") for m in marks]
        assert all(m["chapters"] is None for m in client.get("/api/search", params=asked).json()["moments"])


def test_chapter_borders_keep_their_lengths():
    """The strongest borders win while every chapter stays min_len long; a chapter over max_len
    is split at its strongest inner border even when that is weak."""
    from indexer.chapters import chapter_lengths, pick_borders

    starts = [0, 10, 20, 25, 40, 60, 80, 100, 130, 170]
    scores = [0, 0.9, 0.1, 0.95, 0.2, 0.1, 0.05, 0.3, 0.1, 0.0]
    assert pick_borders(starts, scores, 200.0, 15.0, 90.0) == [0.0, 25, 100, 130]
    assert pick_borders(starts, scores, 200.0, 15.0, 1000.0) == [0.0, 25]  # only 25 clears the threshold
    assert chapter_lengths(45.0) == (45.0, 45.0) and pick_borders(starts[:4], scores[:4], 45.0, 45.0, 45.0) == [0.0]
    assert chapter_lengths(3600.0) == (120.0, 900.0) and chapter_lengths(200.0) == (15.0, 200.0 / 3)


def test_the_page_shows_chapters_and_a_click_lands_there(talk):
    """The video view lists the chapters and marks them on the timeline; the player loads them as
    a chapters track (the browser's own WebVTT parser reads it); a click on a chapter seeks there."""
    import os

    from api.app import create_app
    from api.serve import ServerThread

    from .test_browser import ARTIFACTS, CHROMIUM, browser_page

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    settings, _, path = talk
    _, marks, _ = _stored(settings, path)
    with ServerThread(create_app(settings)) as url, browser_page() as page:
        page.goto(url + "/")
        page.fill("#q", "interest rates and loans")
        page.select_option("#mode", "speech")
        page.press("#q", "Enter")
        page.wait_for_selector("#results .result .chapter", timeout=30_000)
        assert page.inner_text("#results .result .chapter") == "in “Prices and money”"
        page.click("#results .result .play")
        page.wait_for_function("n => document.querySelectorAll('#chapter-list button').length === n",
                               arg=len(marks), timeout=30_000)
        assert [b.inner_text().split(" ", 1)[1] for b in page.query_selector_all("#chapter-list button")] == \
            [m.title for m in marks]
        assert len(page.query_selector_all("#timeline .chapter-mark")) == len(marks) - 1
        page.wait_for_function("n => [...document.querySelector('#player').textTracks].some(t => "
                               "t.kind === 'chapters' && t.cues && t.cues.length === n)", arg=len(marks), timeout=30_000)
        cues = page.evaluate("() => [...[...document.querySelector('#player').textTracks].find(t => t.kind === "
                             "'chapters').cues].map(c => [c.startTime, c.text])")
        assert cues == [[pytest.approx(m.start, abs=1e-3), m.title] for m in marks]
        page.query_selector_all("#chapter-list button")[2].click()
        page.wait_for_function("s => { const v = document.querySelector('#player');"
                               " return v.readyState >= 1 && Math.abs(v.currentTime - s) < 0.6; }",
                               arg=marks[2].start, timeout=30_000)
        page.wait_for_function("() => document.querySelector('#chapter-list button.now')?.textContent"
                               ".endsWith('Moon and eclipses')", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "chapters.png"), full_page=True)
        assert not page.errors
