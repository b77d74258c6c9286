"""Sound as a second witness of copies: landmarks that survive re-encoding, a cut and a level
change, nothing shared between unrelated recordings, steady tones and silence telling nothing,
and over a real index: an inset copy found by its sound alone (listed, never grouped), a crop
found by both witnesses, a copy with other sound found by its pictures."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.app import create_app
from core.catalog import CopyDescriptors
from core.library import Library
from core.settings import Settings
from indexer.decode import decode_audio
from search.copies.align import CopiedSpan
from search.copies.finder import witnessed
from search.copies.sound import SoundIndex, SoundPrints, sound_landmarks
from search.copies.stored import copy_descriptors, videos_without_copies

from .conftest import cli_env, media

FILM = "tears-of-steel-battle-clip-medium.webm"
RUN = [sys.executable, "-m", "api.cli"]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _prints(path: Path, video_id: int) -> SoundPrints:
    return SoundPrints(video_id, *sound_landmarks(decode_audio(str(path))))


def test_landmarks_find_a_cut_reencoded_quieter_copy_and_nothing_else(tmp_path):
    cut = tmp_path / "cut.m4a"  # 40 s from 10 s in: half as loud, no bass, AAC at 48 kb/s
    _ffmpeg("-ss", "10", "-t", "40", "-i", str(media(FILM)), "-vn", "-af", "volume=0.5,highpass=f=200",
            "-c:a", "aac", "-b:a", "48k", str(cut))
    film, copy = _prints(media(FILM), 0), _prints(cut, 1)
    others = [_prints(media(name), n) for n, name in enumerate(
        ("jfk.flac", "multilingual.mp3", "big_buck_bunny_0_30.webm", "stereo_diarization.wav", "friday.mp4"), 2)]
    index = SoundIndex([film, copy, *others])
    found = index.spans(copy)
    assert set(found) == {0}
    offsets = {round(s.b_start - s.a_start, 1) for s in found[0]}
    assert all(abs(offset - 10.0) <= 0.2 for offset in offsets), found[0]
    assert sum(s.seconds for s in found[0]) >= 30 and all(s.witness == "sound" for s in found[0])
    for other in others:  # real speech and music of other recordings share no span with anything
        assert index.spans(other) == {}


def test_silence_and_steady_tones_leave_nothing_to_match(tmp_path):
    assert len(sound_landmarks(np.zeros(16_000 * 10, np.float32))[0]) == 0
    assert len(sound_landmarks(None)[0]) == 0
    rng = np.random.default_rng(1)
    hiss = [SoundPrints(n, *sound_landmarks(rng.normal(0, 0.1, 16_000 * 60).astype(np.float32))) for n in range(2)]
    assert SoundIndex(hiss).spans(hiss[0]) == {}  # two minutes of noise: chance peaks, at no common offset
    t = np.arange(16_000 * 20) / 16_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    hum = SoundPrints(0, *sound_landmarks(tone))
    again = SoundPrints(1, *sound_landmarks(tone[16_000 * 3:]))
    assert len(hum) < 10 and SoundIndex([hum, again]).spans(again) == {}


def _span(a_start: float, a_end: float, offset: float, witness: str = "picture") -> CopiedSpan:
    return CopiedSpan(0, 1, a_start, a_end, a_start + offset, a_end + offset, 0.8, 10.0, witness=witness)


def test_the_witnesses_agree_or_the_sound_stands_alone():
    weak_asked = []

    def weak(spans):
        def asked():
            weak_asked.append(1)
            return spans
        return asked

    # a picture span the sound agrees with
    (both,) = witnessed([_span(0, 20, 3.0)], [_span(0.5, 19, 3.2, "sound")], weak([]))
    assert both.witness == "picture and sound" and (both.a_start, both.a_end) == (0, 20) and not weak_asked
    # no picture span: the weak pictures are asked once; one at the sound's offset joins it
    out = witnessed([], [_span(0, 20, 3.0, "sound"), _span(40, 60, 3.0, "sound")],
                    weak([_span(1, 18, 3.1), _span(40, 60, -7.0)]))
    assert [(s.a_start, s.witness) for s in out] == [(1, "picture and sound"), (40, "sound")] and len(weak_asked) == 1
    # pictures at another offset (another scene) and the sound stand apart
    out = witnessed([_span(0, 20, 30.0)], [_span(0, 20, 3.0, "sound")], weak([]))
    assert [s.witness for s in out] == ["picture"]  # the sound span overlaps it in a: not listed twice


@pytest.fixture(scope="module")
def sounding(tmp_path_factory, tiny_clip) -> tuple[Path, Path]:
    """(folder, data dir): a 20 s film excerpt with its sound; its crop with the sound; an inset of
    it at a quarter of the frame over other pictures, sound kept; its pictures under other sound;
    a stranger. Indexed."""
    tmp = tmp_path_factory.mktemp("sounding")
    folder = tmp / "archive"
    folder.mkdir()
    source = folder / "source.mp4"
    _ffmpeg("-ss", "0", "-t", "20", "-i", str(media(FILM)), "-vf", "scale=480:-2", "-crf", "20", "-c:a", "aac",
            str(source))
    _ffmpeg("-i", str(source), "-vf", "crop=iw*0.85:ih*0.85,eq=saturation=0.3", "-c:a", "aac", "-b:a", "64k",
            str(folder / "crop.mp4"))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=20", "-i", str(source), "-filter_complex",
            "[1:v]scale=160:-2[inset];[0:v][inset]overlay=440:20[v]", "-map", "[v]", "-map", "1:a",
            "-c:a", "aac", "-b:a", "96k", "-shortest", str(folder / "inset.mp4"))
    _ffmpeg("-i", str(source), "-i", str(media("big_buck_bunny_0_30.webm")), "-map", "0:v", "-map", "1:a",
            "-c:v", "copy", "-c:a", "aac", "-shortest", str(folder / "dubbed.mp4"))
    _ffmpeg("-ss", "45", "-t", "15", "-i", str(media(FILM)), "-vf", "scale=480:-2", "-c:a", "aac",
            str(folder / "stranger.mp4"))
    data = tmp / "data"
    subprocess.run([*RUN, "index", str(folder), "-q"], env=cli_env(tiny_clip, data), check=True, capture_output=True)
    return folder, data


def test_duplicates_over_an_index_say_which_witness_found_each_copy(sounding, tiny_clip):
    folder, data = sounding
    env = cli_env(tiny_clip, data)
    report = json.loads(subprocess.run([*RUN, "duplicates", "--json"], env=env, check=True, capture_output=True,
                                       text=True).stdout)
    (group,) = report["groups"]
    assert Path(group["master"]["video_path"]).name == "source.mp4"
    why = {Path(c["video_path"]).name: c["why"]["witness"] for c in group["copies"]}
    assert why == {"crop.mp4": "picture and sound", "dubbed.mp4": "picture"}
    pairs = {frozenset((Path(s["video_path"]).name, Path(s["other"]["video_path"]).name)): s["witness"]
             for s in report["spans"]}
    # the inset is heard in every member of the group, and only heard: listed, never grouped
    assert pairs == {frozenset(("inset.mp4", "source.mp4")): "sound", frozenset(("inset.mp4", "crop.mp4")): "sound"}
    inset = next(s for s in report["spans"] if Path(s["other"]["video_path"]).name == "source.mp4"
                 or Path(s["video_path"]).name == "source.mp4")
    assert abs(inset["start"] - inset["other_start"]) <= 0.5 and inset["end"] - inset["start"] >= 15
    listed = subprocess.run([*RUN, "duplicates"], env=env, check=True, capture_output=True, text=True).stdout
    assert "same pictures and sound as the master" in listed and "same sound" in listed.split("copied footage")[1]
    with TestClient(create_app(Settings(data_dir=data, **tiny_clip), warm=False)) as client:
        answer = client.get("/api/duplicates").json()
        assert [s["witness"] for s in answer["spans"]] == ["sound", "sound"]
        assert sorted(c["why"]["witness"] for c in answer["groups"][0]["copies"]) == ["picture", "picture and sound"]

    # where else is the inset's footage? its sound says: in the source and the crop
    asked = json.loads(subprocess.run([*RUN, "similar", str(folder / "inset.mp4"), "--copies", "--json"], env=env,
                                      check=True, capture_output=True, text=True).stdout)
    assert {(Path(s["video_path"]).name, s["witness"]) for s in asked} == {("source.mp4", "sound"),
                                                                          ("crop.mp4", "sound")}


def test_a_library_from_before_sound_gets_it_without_indexing_again(sounding, tiny_clip):
    folder, data = sounding
    library = Library(Settings(data_dir=data, **tiny_clip))
    with library.sessions.begin() as session:
        session.execute(update(CopyDescriptors).values(sound_times=None, sound_hashes=None))
    assert len(videos_without_copies(library.sessions)) == 5
    env = cli_env(tiny_clip, data)
    subprocess.run([*RUN, "index", "--only", "copies", str(folder)], env=env, check=True, capture_output=True)
    assert videos_without_copies(library.sessions) == []
    heard = {d.video_id: len(d.sound_times) for d in copy_descriptors(library.sessions)}
    assert len(heard) == 5 and min(heard.values()) > 100
