"""Voices: the real speaker encoder on real recordings from ../shared/media (JFK, the two speakers
of stereo_diarization.wav, the German reader of multilingual.mp3), composed into videos; who
speaks when while indexing, voices across videos, transcripts that say who speaks, and
`similar --voice` as users run it."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from core.machine import voice_model_file

from .conftest import media
from .test_cli import run

pytestmark = pytest.mark.skipif(voice_model_file() is None, reason="resemblyzer's weights not installed")

# (file, channel or None, start, end): pieces of real speech by four people
JFK_1 = ("jfk.flac", None, 0.0, 5.6)
JFK_2 = ("jfk.flac", None, 5.6, 11.0)
LEFT = ("stereo_diarization.wav", 0, 0.0, 5.0)
READER_DE = ("multilingual.mp3", None, 35.0, 43.0)
READER_EN = ("multilingual.mp3", None, 2.0, 14.0)  # a voice no video holds


def speech(out, *pieces, gap: float = 0.6, video: bool = True) -> str:
    """``pieces`` one after another with ``gap`` seconds of silence between, as 16-kHz mono audio,
    under a navy picture when ``video``."""
    inputs, chains = [], []
    for n, (name, channel, start, end) in enumerate(pieces):
        inputs += ["-i", str(media(name))]
        pick = f"pan=mono|c0=c{channel}," if channel is not None else "pan=mono|c0=0.5*c0+0.5*c1," \
            if name != "multilingual.mp3" else ""
        chains.append(f"[{n}]aresample=16000,{pick}aformat=channel_layouts=mono,atrim={start}:{end},"
                      f"asetpts=N/SR/TB,apad=pad_dur={gap}[a{n}]")
    joined = "".join(f"[a{n}]" for n in range(len(pieces)))
    graph = ";".join(chains) + f";{joined}concat=n={len(pieces)}:v=0:a=1[out]"
    picture = ["-f", "lavfi", "-i", "color=c=navy:s=320x240:r=10"] if video else []
    mapping = ["-map", f"{len(pieces)}:v", "-c:v", "libx264", "-shortest"] if video else []
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, *picture, "-filter_complex", graph, "-map", "[out]",
                    *mapping, str(out)], check=True)
    return str(out)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    from core.models.voices import VoiceEncoder

    return VoiceEncoder(voice_model_file(), tmp_path_factory.mktemp("voice-cache"))


def _audio(path) -> np.ndarray:
    from indexer.decode import decode_audio

    return decode_audio(str(path))


def test_the_numpy_encoder_gives_pytorchs_vectors(encoder):
    import torch

    state = torch.load(voice_model_file(), map_location="cpu", weights_only=True)["model_state"]
    lstm, linear = torch.nn.LSTM(40, 256, 3, batch_first=True), torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
    mels = np.random.default_rng(3).gamma(0.5, 2.0, size=(5, 160, 40)).astype(np.float32)
    with torch.no_grad():
        _, (hidden, _) = lstm(torch.from_numpy(mels))
        expected = torch.nn.functional.normalize(torch.relu(linear(hidden[-1])), dim=1).numpy()
    got = encoder.embed_partials(mels)
    assert got.shape == (5, 256) and np.abs(got - expected).max() < 1e-5


def test_mel_frames_are_10_ms_apart_and_put_a_tone_in_its_band():
    from core.models.voices import mel_frames

    tone = np.sin(2 * np.pi * 1000 * np.arange(16_000) / 16_000).astype(np.float32)
    frames = mel_frames(tone)
    assert frames.shape == (101, 40) and frames.dtype == np.float32
    band = int(frames[50].argmax())
    quiet = mel_frames(0.1 * tone)
    # Slaney's mel scale over 0-8 kHz in 40 bands: band 12 peaks at 956 Hz, band 13 at 1031 Hz
    assert band == 13 and np.allclose(quiet * 100, frames, rtol=1e-3, atol=1e-3)  # power, not log


def test_one_voice_lies_closer_to_itself_than_to_other_voices(tmp_path, encoder):
    pieces = {"jfk_1": JFK_1, "jfk_2": JFK_2, "left": LEFT, "reader_de": READER_DE}
    vectors = {name: encoder.embed(_audio(speech(tmp_path / f"{name}.wav", piece, video=False)))
               for name, piece in pieces.items()}
    same = float(vectors["jfk_1"] @ vectors["jfk_2"])
    others = [float(vectors[a] @ vectors[b]) for a in pieces for b in pieces if a < b and {a, b} != {"jfk_1", "jfk_2"}]
    assert same > 0.75 > max(others)


def test_a_composed_recording_is_cut_into_its_speakers_turns(tmp_path, encoder):
    from core.models.vad import voiced_spans
    from indexer.voices import diarize

    audio = _audio(speech(tmp_path / "talk.wav", JFK_1, READER_DE, JFK_2, LEFT, video=False))
    found = diarize(audio, voiced_spans(audio), encoder)
    assert len(found.vectors) == 3 and found.vectors.shape[1] == 256

    def speaker_of(start, end):
        heard = {}
        for turn in found.turns:
            heard[turn.speaker] = heard.get(turn.speaker, 0) + max(0.0, min(end, turn.end) - max(start, turn.start))
        return max(heard, key=heard.get)

    starts = np.cumsum([0, 5.6 + 0.6, 8.0 + 0.6, 5.4 + 0.6])
    lengths = [5.6, 8.0, 5.4, 5.0]
    jfk, reader, jfk_again, left = (speaker_of(s + 0.3, s + n - 0.3) for s, n in zip(starts, lengths))
    assert jfk == jfk_again == 0 and len({jfk, reader, left}) == 3
    assert all(b.start >= a.end for a, b in zip(found.turns, found.turns[1:]))


def test_indexing_says_who_speaks_and_a_voice_is_found_across_videos(cli_vars, capsys):
    archive = cli_vars / "archive"
    archive.mkdir()
    speech(archive / "address.mp4", JFK_1, LEFT, JFK_2)
    # The reader first: Whisper may end its only window after the reader's sentence; what it
    # skipped is heard again (core.models.asr_gaps), so JFK's words are there.
    speech(archive / "reading.mp4", READER_DE, JFK_1)
    code, out, _ = run(capsys, "index", str(archive), "--json")
    assert code == 0 and json.loads(out)["indexed"] == 2

    def cues(name, fmt="json"):
        code, out, _ = run(capsys, "transcript", str(archive / name), "--format", fmt)
        assert code == 0
        return json.loads(out) if fmt == "json" else out

    address = cues("address.mp4")
    said = {c["speaker"] for c in address}
    assert len(said) == 2 and all(s.startswith("Speaker ") for s in said)
    kennedy = next(c["speaker"] for c in address if "fellow" in c["text"].lower())
    assert [c["speaker"] for c in cues("reading.mp4") if "fellow" in c["text"].lower()] == [kennedy]  # one voice
    assert f"<v {kennedy}>" in cues("address.mp4", "vtt") and f"{kennedy}: " in cues("address.mp4", "srt")

    code, out, _ = run(capsys, "voices", "--json")
    voices = json.loads(out)
    assert code == 0 and len(voices) == 3
    jfk = next(v for v in voices if v["label"] == kennedy)
    assert jfk["videos"] == 2
    code, out, _ = run(capsys, "voices", "name", str(jfk["id"]), "John F. Kennedy")
    assert code == 0
    assert "<v John F. Kennedy>" in cues("address.mp4", "vtt")

    query = speech(cli_vars / "query.wav", JFK_2, video=False)
    code, out, _ = run(capsys, "similar", "--voice", query, "--json")
    hits = json.loads(out)
    assert code == 0 and {h["video_path"].rsplit("/", 1)[1] for h in hits} == {"address.mp4", "reading.mp4"}
    assert {h["voice"]["name"] for h in hits} == {"John F. Kennedy"} and hits[0]["score"] >= hits[-1]["score"]
    stranger = speech(cli_vars / "stranger.wav", READER_EN, video=False)
    code, out, _ = run(capsys, "similar", "--voice", stranger, "--json")
    assert code == 0 and json.loads(out) == []  # a voice no video holds: nothing, not the nearest voice

    code, _, err = run(capsys, "similar", "--voice", str(media("sintel_2s_example3.mp4")))
    assert code == 2 and "no speech found" in err and "Traceback" not in err
    code, _, err = run(capsys, "similar", "--voice", str(cli_vars / "nowhere.wav"))
    assert code == 2 and "no such file" in err

    code, out, _ = run(capsys, "voices", "forget", "John F. Kennedy")
    assert code == 0 and "2 speaker(s)" in out
    assert "John F. Kennedy" not in cues("address.mp4", "vtt")
    code, out, _ = run(capsys, "voices", "--json")
    assert len(json.loads(out)) == 2

    # a library indexed before voices were told apart gets them without indexing again
    code, out, _ = run(capsys, "index", "--only", "voices", str(archive), "--json")
    assert code == 0 and json.loads(out)["skipped"] == 2
    code, out, _ = run(capsys, "index", "--only", "voices", "--force", str(archive), "--json")
    assert code == 0 and json.loads(out)["indexed"] == 2
    code, out, _ = run(capsys, "voices", "--json")
    assert sorted(v["videos"] for v in json.loads(out)) == [1, 1, 2]  # Kennedy is back, as a new voice


@pytest.fixture
def lib(tmp_path, catalog_url):
    from core.library import Library
    from core.settings import Settings

    return Library(Settings(data_dir=tmp_path / "data", database_url=catalog_url, voice_match=0.25))


def _said(lib, path):
    from core.catalog import Video
    from sqlalchemy import select

    with lib.sessions() as session:
        video_id = session.scalar(select(Video.id).where(Video.path == path))
    return [(c.start, c.end, c.text, c.speaker) for c in lib.transcript_cues(video_id)]


def test_speakers_join_voices_and_transcripts_are_cut_where_the_voice_changes(lib):
    """On SQLite and PostgreSQL, with speaker vectors at known distances (cosine 0.9 within a
    voice, 0 between voices)."""
    from core.errors import InvalidInput, NotFound
    from core.rows import SpeakerHeard
    from core.voices import VoiceStore

    from .test_library import video

    a, b, c = (np.eye(256, dtype=np.float32)[i] for i in range(3))
    near = lambda v, other: (0.9 * v + np.sqrt(1 - 0.81) * other).astype(np.float32)  # cosine 0.9 to v
    first = video("/a.mp4", 2)
    first.transcript = [(0.0, 4.0, "hello there how are you", [[0.0, 0.5, "hello"], [0.5, 1.0, "there"],
                                                                 [2.2, 2.6, "how"], [2.6, 3.0, "are"], [3.0, 4.0, "you"]]),
                        (5.0, 6.0, "fine", [[5.0, 6.0, "fine"]])]
    first.speakers = [SpeakerHeard(0, [(0.0, 1.1), (5.0, 6.0)], a, 2.1), SpeakerHeard(1, [(2.1, 4.0)], b, 1.9)]
    lib.write_video(first)
    voices = VoiceStore(lib)
    assert [(r.videos, r.seconds) for r in voices.list()] == [(1, 2.1), (1, 1.9)]
    anna, ben = (r.id for r in voices.list())
    assert _said(lib, "/a.mp4") == [(0.0, 1.0, "hello there", f"Speaker {anna}"),
                                     (2.2, 4.0, "how are you", f"Speaker {ben}"),
                                     (5.0, 6.0, "fine", f"Speaker {anna}")]

    second = video("/b.mp4", 1)  # Anna again (cosine 0.9), and a stranger; Ben's vector is the nearest to no one
    second.speakers = [SpeakerHeard(0, [(0.0, 1.0)], near(a, c), 1.0), SpeakerHeard(1, [(2.0, 3.0)], c, 1.0)]
    lib.write_video(second)
    rows = {r.id: (r.videos, r.seconds) for r in voices.list()}
    assert rows[anna] == (2, 3.1) and rows[ben] == (1, 1.9) and len(rows) == 3

    voices.name(anna, "Anna")
    assert voices.resolve("anna") == anna and _said(lib, "/a.mp4")[0][3] == "Anna"
    with pytest.raises(InvalidInput):
        voices.name(anna, " ")
    with pytest.raises(NotFound):
        voices.resolve("9999")
    with pytest.raises(NotFound):
        voices.resolve("Nobody")
    lib.write_video(video("/a.mp4", 2))  # indexed again without voices: Anna keeps her name and centre
    assert {r.label(): r.videos for r in voices.list()} == {"Anna": 1, f"Speaker {max(rows)}": 1}
    assert voices.forget(anna) == 1 and [r.id for r in voices.list()] == [max(rows)]
    assert _said(lib, "/b.mp4")[0][3] is None


def test_voices_and_search_by_voice_over_http(cli_vars, capsys, tiny_clip):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from core.settings import Settings

    archive = cli_vars / "archive"
    archive.mkdir()
    speech(archive / "address.mp4", JFK_1, LEFT)
    assert run(capsys, "index", str(archive))[0] == 0
    query = speech(cli_vars / "query.wav", JFK_2, video=False)
    with TestClient(create_app(Settings(data_dir=cli_vars / "data", **tiny_clip))) as client:
        voices = client.get("/api/voices").json()
        assert len(voices) == 2 and all(v["label"] == f"Speaker {v['id']}" and v["videos"] == 1 for v in voices)
        (video,) = client.get("/api/videos").json()["videos"]
        lines = client.get(f"/api/videos/{video['id']}").json()["transcript"]
        assert {line["speaker"] for line in lines} <= {v["label"] for v in voices} and lines[0]["speaker"]
        with open(query, "rb") as recording:
            found = client.post("/api/similar/voice", files={"file": ("me.wav", recording, "audio/wav")})
        assert found.status_code == 200 and found.json()["mode"] == "voice"
        moments = found.json()["moments"]
        assert moments and moments[0]["start"] < 1.0 and moments[0]["voice"]["name"] == lines[0]["speaker"]
        kennedy = moments[0]["voice"]["id"]
        named = client.put(f"/api/voices/{kennedy}/name", json={"name": "JFK"}).json()
        assert {v["id"]: v["label"] for v in named}[kennedy] == "JFK"
        assert "<v JFK>" in client.get(f"/api/videos/{video['id']}/transcript", params={"format": "vtt"}).text
        with open(media("sintel_2s_example3.mp4"), "rb") as clip:
            silent = client.post("/api/similar/voice", files={"file": ("s.mp4", clip, "video/mp4")})
        assert silent.status_code == 422 and "no speech found" in silent.json()["detail"]
        assert client.delete("/api/voices/999").status_code == 404
        assert [v["id"] for v in client.delete(f"/api/voices/{kennedy}").json()] == [
            v["id"] for v in voices if v["id"] != kennedy]


def test_a_voice_is_linked_to_the_one_person_seen_while_it_speaks(lib):
    """Faces at known places in time: Anna speaks while her face is alone on screen, Ben while two
    faces are; only Anna's voice gets a person, and her voice then goes by the person's name."""
    from core.people import PeopleStore
    from core.rows import FaceSeen, SpeakerHeard
    from core.voices import VoiceStore, link_people
    from sqlalchemy import select

    from core.catalog import Segment
    from search.filters import Filters, allowed
    from search.people import cluster_faces

    from .test_library import video

    face_a, face_b = np.eye(128, dtype=np.float32)[0], np.eye(128, dtype=np.float32)[1]
    seen = lambda vector, start, end: FaceSeen(start, end, [0.1, 0.1, 0.3, 0.4], vector, None, 2)
    talk = video("/talk.mp4", 5)
    talk.transcript = [(1.5, 3.0, "hello", [[1.5, 3.0, "hello"]])]
    talk.faces = [seen(face_a, 0.0, 8.0), seen(face_b, 10.0, 20.0), seen(face_a, 12.0, 20.0)]
    talk.speakers = [SpeakerHeard(0, [(1.0, 7.0), (21.0, 23.0)], np.eye(256, dtype=np.float32)[0], 8.0),
                     SpeakerHeard(1, [(11.0, 19.0)], np.eye(256, dtype=np.float32)[1], 7.9)]
    lib.write_video(talk)
    cluster_faces(lib, 0.55)
    assert link_people(lib) == 1 and link_people(lib) == 0
    anna = next(r.id for r in PeopleStore(lib).list() if r.appearances == 2)
    linked = {r.seconds: r.person for r in VoiceStore(lib).list()}
    assert linked[8.0]["id"] == anna and linked[7.9] is None
    PeopleStore(lib).name(anna, "Anna")
    assert {r.seconds: r.label() for r in VoiceStore(lib).list()}[8.0] == "Anna"
    assert _said(lib, "/talk.mp4")[0][3] == "Anna"
    with lib.sessions() as session:  # --person: where Anna is seen, and where only her voice is heard (20-25 s)
        segments = allowed(session, Filters(person=anna)).segments
        starts = {start for (start,) in session.execute(select(Segment.start).where(Segment.id.in_(segments)))}
    assert starts == {0.0, 5.0, 10.0, 15.0, 20.0}
