"""The HTTP API against a real app: a real catalog and FAISS indexes built from generated videos.

Real models (tiny CLIP checkpoint, Whisper tiny.en, MiniLM), real SQLite, the app's own
lifespan (``TestClient`` as a context manager). Security tests try what an attacker would:
no key, a wrong key, oversized and lying uploads, ``..`` and symlinks out of the allowed roots.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import check_exposure
from bench.corpus import excerpt
from indexer.pipeline import Indexer
from core.library import Library
from search.service import Searcher
from core.settings import Settings

CLI_FIELDS = {"video_path", "video_id", "segment_id", "start", "end", "score", "transcript", "segment_ids", "screen_text",
              "matched", "relevance", "language", "chapter"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, corpus, tiny_clip, encoders, asr):
    """A data dir with the sample corpus indexed through the ordinary indexer."""
    folder = tmp_path_factory.mktemp("api-data")
    settings = Settings(data_dir=folder, **tiny_clip)
    Indexer(Library(settings), encoders, settings, progress=False).index([corpus])
    return folder


@pytest.fixture(scope="module")
def client(data_dir, tiny_clip, encoders, asr):
    app = create_app(Settings(data_dir=data_dir, **tiny_clip), encoders=encoders, asr=asr)
    with TestClient(app) as client:
        yield client


def wait_for(client, job_id, headers=None, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish: {job}")


# --- search
def test_text_search_lands_on_the_spoken_moment_with_cli_fields(client, data_dir, tiny_clip, encoders):
    r = client.get("/api/search", params={"q": "storm forecast by the sea", "mode": "speech", "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    top = body["moments"][0]
    assert top["video_name"] == "weather.mp4" and top["start"] < 14.0 and top["end"] > 10.0
    assert top["thumbnail_url"] == f"/api/segments/{top['segment_id']}/thumbnail"
    assert top["playback_url"] == f"/api/videos/{top['video_id']}/stream#t={top['start']:g}"
    # The same moments, field for field, as the CLI's --json prints.
    library = Library(Settings(data_dir=data_dir, **tiny_clip))
    expected = [m.as_dict() for m in Searcher(library, encoders).search_text(
        "storm forecast by the sea", "speech", 3)]
    assert [{k: m[k] for k in CLI_FIELDS} for m in body["moments"]] == expected
    assert "encode;dur=" in r.headers["server-timing"]
    assert top["matched"] == {"speech": 1}  # why: the speech list put it first (no other list in this mode)
    assert top["matched_words"] == {"transcript": [], "screen_text": []}  # by meaning: no query word is said


def test_hybrid_results_say_which_lists_and_words_matched(client):
    body = client.get("/api/search", params={"q": "heavy rain along the coast", "mode": "hybrid", "k": 5}).json()
    top = body["moments"][0]
    assert top["video_name"] == "weather.mp4"
    assert top["matched"]["speech"] == 1 and top["matched"]["keyword"] == 1
    assert set(top["matched"]) <= {"fused", "visual", "speech", "keyword"}
    assert top["matched_words"]["transcript"] == ["heavy", "rain", "along", "coast"]
    assert top["relevance"] == "strong"  # every word of the query, said in its sentence
    # A question nothing in the library is about: answers still come (nearest neighbours always
    # do), labelled for what they are.
    unrelated = client.get("/api/search", params={"q": "lattice gauge theory of quarks", "k": 5}).json()
    labels = {m["relevance"] for m in unrelated["moments"]}
    assert "weak" in labels and labels <= {"weak", None}  # None: found by CLIP's spaces alone (a silent shot)
    by_example = client.get(f"/api/segments/{top['segment_id']}/similar", params={"mode": "speech"}).json()
    assert by_example["moments"] and {m["relevance"] for m in by_example["moments"]} == {None}  # not calibrated
    tags = client.get("/api/tags").json()
    assert isinstance(tags, list)


def test_repeated_query_skips_encoding(client):
    params = {"q": "education expenses went up", "mode": "speech", "k": 5}
    first = client.get("/api/search", params=params).json()
    again = client.get("/api/search", params={**params, "q": "  education   expenses went up "}).json()
    assert first["timings"]["cached"] is False and first["timings"]["encode_ms"] > 0
    assert again["timings"] == {**again["timings"], "cached": True, "encode_ms": 0.0}
    assert [m["segment_id"] for m in again["moments"]] == [m["segment_id"] for m in first["moments"]]
    assert again["moments"][0]["video_name"] == "budget.mp4"
    assert again["query"] == "  education   expenses went up "  # the answer echoes the text it was asked
    third = client.get("/api/search", params=params)  # the same request: the answer as sent before
    assert third.json() == {**first, "timings": {"encode_ms": 0.0, "search_ms": 0.0, "cached": True}}
    assert third.headers["content-type"] == "application/json"
    assert third.headers["server-timing"] == "encode;dur=0.00, search;dur=0.00"


@pytest.mark.parametrize("params, status", [
    ({"q": "   "}, 400), ({"q": "x", "k": 0}, 422), ({"q": "x", "k": 101}, 422),
    ({"q": "x", "mode": "telepathy"}, 422), ({}, 422), ({"q": "x" * 1001}, 422),
    ({"q": "x", "language": "German"}, 422),
])
def test_bad_search_parameters_are_client_errors(client, params, status):
    r = client.get("/api/search", params=params)
    assert r.status_code == status and "detail" in r.json()


def test_search_pages_with_offset_never_repeat_a_moment(client):
    params = {"q": "the weather and the budget", "mode": "speech", "k": 2}
    first = client.get("/api/search", params=params).json()
    second = client.get("/api/search", params={**params, "offset": 2}).json()
    assert first["offset"] == 0 and second["offset"] == 2 and len(first["moments"]) == 2
    shown = {s for m in first["moments"] for s in m["segment_ids"]}
    assert second["moments"] and not shown & {s for m in second["moments"] for s in m["segment_ids"]}
    assert client.get("/api/search", params={**params, "offset": -1}).status_code == 422


def test_more_like_this_excludes_the_moment_itself(client):
    r = client.get("/api/segments/1/similar", params={"k": 20})
    assert r.status_code == 200
    moments = r.json()["moments"]
    assert moments and all(1 not in m["segment_ids"] for m in moments)
    assert client.get("/api/segments/987654/similar").status_code == 404


def test_uploaded_excerpt_finds_its_source_moment(client, corpus, tmp_path, data_dir):
    clip = excerpt(corpus / "weather.mp4", tmp_path / "excerpt.mp4", start=9.8, seconds=4)
    with open(clip, "rb") as handle:
        r = client.post("/api/similar", files={"file": ("../../../etc/cron.d/x.mp4", handle, "video/mp4")})
    assert r.status_code == 200, r.text
    top = r.json()["moments"][0]
    assert top["video_name"] == "weather.mp4" and top["start"] < 14.0 and top["end"] > 10.0
    assert r.json()["timings"]["encode_ms"] > 0
    assert list((data_dir / "uploads").iterdir()) == []  # stored under a server name, then removed
    assert not os.path.exists("/etc/cron.d/x.mp4")


def test_uploaded_image_and_garbage(client, corpus, tmp_path):
    import subprocess

    still = tmp_path / "still.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", "2", "-i", str(corpus / "dog.mp4"),
                    "-frames:v", "1", str(still)], check=True)
    r = client.post("/api/similar", params={"mode": "visual", "k": 3},
                    files={"file": ("still.png", still.read_bytes(), "image/png")})
    assert r.status_code == 200 and r.json()["moments"][0]["video_name"] == "dog.mp4"
    r = client.post("/api/similar", files={"file": ("notes.mp4", b"not a video at all", "video/mp4")})
    assert r.status_code == 422 and "cannot read the upload" in r.json()["detail"]
    assert client.post("/api/similar", data={"other": "x"}).status_code in (415, 422)
    assert client.post("/api/similar", content=b"{}", headers={"content-type": "application/json"}).status_code == 415


# --- videos, thumbnails, streams
def test_videos_list_and_detail_with_transcript(client, corpus):
    page = client.get("/api/videos").json()
    assert page["total"] == 5
    by_name = {v["name"]: v for v in page["videos"]}
    assert by_name["truncated.mp4"]["status"] == "failed" and by_name["truncated.mp4"]["stream_url"] is None
    weather = by_name["weather.mp4"]
    assert weather["segments"] == 3
    detail = client.get(f"/api/videos/{weather['id']}").json()
    assert [(s["start"], s["end"]) for s in detail["segment_list"]] == [(0, 5), (5, 10), (10, 14)]
    assert "rain" in " ".join(line["text"] for line in detail["transcript"]).lower()
    assert client.get("/api/videos", params={"status": "failed"}).json()["total"] == 1
    assert client.get("/api/videos/999999").status_code == 404
    longest = client.get("/api/videos", params={"sort": "-duration", "limit": 2}).json()
    durations = [v["duration"] for v in client.get("/api/videos", params={"sort": "-duration"}).json()["videos"]]
    assert durations == sorted(durations, reverse=True) and longest["total"] == 5
    assert [v["id"] for v in longest["videos"]] == [v["id"] for v in
                                                    client.get("/api/videos", params={"sort": "-duration"}).json()["videos"][:2]]
    by_segments = [v["segments"] for v in client.get("/api/videos", params={"sort": "segments"}).json()["videos"]]
    assert by_segments == sorted(by_segments)
    assert client.get("/api/videos", params={"sort": "size"}).status_code == 422


def test_tags_are_replaced_and_filter_searches(client):
    weather = next(v for v in client.get("/api/videos").json()["videos"] if v["name"] == "weather.mp4")
    params = {"q": "a dog catching a frisbee", "mode": "speech", "k": 5, "tag": "forecast"}
    assert client.get("/api/search", params=params).json()["moments"] == []  # cached empty answer...
    r = client.put(f"/api/videos/{weather['id']}/tags", json={"tags": ["forecast", " news ", "forecast"]})
    assert r.status_code == 200 and r.json() == ["forecast", "news"]
    found = client.get("/api/search", params=params).json()["moments"]  # ...not served after the edit
    assert found and {m["video_name"] for m in found} == {"weather.mp4"}
    assert {"tag": "forecast", "videos": 1} in client.get("/api/tags").json()
    assert client.put(f"/api/videos/{weather['id']}/tags", json={"tags": ["news"]}).json() == ["news"]
    assert client.put(f"/api/videos/{weather['id']}/tags", json={"tags": []}).json() == []
    assert client.put("/api/videos/999999/tags", json={"tags": ["x"]}).status_code == 404
    assert client.put(f"/api/videos/{weather['id']}/tags", json={"tags": [""]}).status_code == 422


def test_thumbnail_is_a_jpeg_of_the_segment(client, data_dir):
    from PIL import Image

    r = client.get("/api/segments/1/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(r.content))
    assert image.format == "JPEG" and image.width == 320
    assert (data_dir / "thumbnails" / "1.jpg").read_bytes() == r.content  # cached, then reused
    assert client.get("/api/segments/1/thumbnail").content == r.content
    assert client.get("/api/segments/987654/thumbnail").status_code == 404


def test_stream_serves_byte_ranges(client, corpus):
    weather = next(v for v in client.get("/api/videos").json()["videos"] if v["name"] == "weather.mp4")
    url, data = weather["stream_url"], (corpus / "weather.mp4").read_bytes()
    full = client.get(url)
    assert full.status_code == 200 and full.content == data and full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"] == "video/mp4"
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = client.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    assert client.get(url, headers={"Range": f"bytes={len(data) + 10}-"}).status_code == 416


# --- traversal: nothing but indexed videos and generated thumbnails can be read
@pytest.mark.parametrize("path", [
    "/static/../../core/settings.py", "/static/%2e%2e/%2e%2e/core/settings.py",
    "/static/..%2f..%2fsearch%2fsettings.py", "/api/videos/..%2f..%2fetc%2fpasswd/stream",
    "/api/videos/-1/stream", "/api/segments/0/thumbnail", "/%2e%2e/%2e%2e/etc/passwd",
    "/static//etc/passwd", "/api/videos/1%00/stream",
])
def test_traversal_attempts_are_refused(client, path):
    r = client.get(path)
    assert r.status_code in (404, 422), (path, r.status_code)
    assert b"root:" not in r.content and b"class Settings" not in r.content


def test_the_page_and_its_assets_are_served_without_external_resources(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        r = client.get(asset)
        assert r.status_code == 200 and "https://" not in r.text


def test_health_and_metrics(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["videos"] == 4 and health["visual"] is True
    assert health["vectors"]["speech"] > 0
    client.get("/api/search", params={"q": "weather", "mode": "speech"})
    text = client.get("/metrics").text
    assert 'vidsearch_request_seconds_count{method="GET",route="/api/search",status="200"}' in text
    assert f'vidsearch_index_vectors{{space="speech"}} {health["vectors"]["speech"]}.0' in text
    assert "vidsearch_query_encode_seconds_bucket" in text and 'vidsearch_jobs{state="running"}' in text


def test_cors_is_off_unless_configured(client, data_dir, tiny_clip, encoders):
    origin = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/healthz", headers=origin).headers
    app = create_app(Settings(data_dir=data_dir, cors_origins=["https://ok.example"], **tiny_clip),
                     encoders=encoders, warm=False)
    with TestClient(app) as other:
        r = other.get("/healthz", headers={"Origin": "https://ok.example"})
        assert r.headers["access-control-allow-origin"] == "https://ok.example"
        assert "access-control-allow-origin" not in other.get("/healthz", headers=origin).headers


# --- API keys
def test_api_key_is_required_when_configured(data_dir, tiny_clip, encoders):
    app = create_app(Settings(data_dir=data_dir, api_key="s3cret-key", **tiny_clip), encoders=encoders, warm=False)
    with TestClient(app) as c:
        for url in ("/api/search?q=weather&mode=speech", "/api/videos", "/api/segments/1/thumbnail",
                    "/api/videos/1/stream", "/api/jobs", "/metrics"):
            assert c.get(url).status_code == 401, url
            assert c.get(url, headers={"X-API-Key": "wrong"}).status_code == 403, url
            assert c.get(url, headers={"X-API-Key": "s3cret-key"}).status_code == 200, url
        assert c.delete("/api/videos/1").status_code == 401
        assert c.post("/api/index", json={"paths": ["/"]}).status_code == 401
        assert c.get("/healthz").status_code == 200 and c.get("/").status_code == 200
        assert c.post("/api/session", headers={"X-API-Key": "wrong"}).status_code == 403
        assert c.post("/api/session", headers={"X-API-Key": "s3cret-key"}).status_code == 204
        assert c.get("/api/segments/1/thumbnail").status_code == 200  # the cookie, as <img> sends it


def test_non_loopback_bind_needs_a_key(tmp_path, capsys):
    from types import SimpleNamespace

    from api.serve import cmd_serve

    open_ = Settings(data_dir=tmp_path)
    for host in ("127.0.0.1", "::1", "localhost"):
        check_exposure(host, open_)
    for host in ("0.0.0.0", "192.168.1.5", "::", "myhost.example"):
        with pytest.raises(PermissionError, match="VIDSEARCH_API_KEY"):
            check_exposure(host, open_)
    check_exposure("0.0.0.0", Settings(data_dir=tmp_path, api_key="k"))
    assert cmd_serve(SimpleNamespace(settings=open_), SimpleNamespace(host="0.0.0.0", port=0)) == 2
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err


# --- uploads are bounded
def test_oversized_upload_is_refused_with_413_while_streaming(data_dir, tiny_clip, encoders):
    app = create_app(Settings(data_dir=data_dir, upload_limit_mb=0.05, **tiny_clip), encoders=encoders, warm=False)
    big = b"\0" * (200 * 1024)
    with TestClient(app) as c:
        r = c.post("/api/similar", files={"file": ("big.mp4", big, "video/mp4")})
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        sent = []

        def chunked():  # no Content-Length: the limit must hold while the body streams in
            boundary = b"--xyz\r\n"
            yield boundary + b'Content-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
            for _ in range(100):
                sent.append(1)
                yield b"\1" * 8192
            yield b"\r\n--xyz--\r\n"

        r = c.post("/api/similar", content=chunked(), headers={"content-type": "multipart/form-data; boundary=xyz"})
        assert r.status_code == 413
        assert list((data_dir / "uploads").iterdir()) == []


# --- indexing jobs
@pytest.fixture
def job_app(tmp_path, corpus, tiny_clip, encoders, asr):
    root = tmp_path / "archive"
    root.mkdir()
    shutil.copy(corpus / "dog.mp4", root / "dog.mp4")
    shutil.copy(corpus / "truncated.mp4", root / "broken.mp4")
    outside = tmp_path / "private"
    outside.mkdir()
    shutil.copy(corpus / "budget.mp4", outside / "secret.mp4")
    settings = Settings(data_dir=tmp_path / "data", allowed_roots=[root], **tiny_clip)
    with TestClient(create_app(settings, encoders=encoders, asr=asr, warm=False)) as c:
        yield c, root, outside


def test_index_job_reports_progress_and_per_file_errors(job_app):
    c, root, _ = job_app
    r = c.post("/api/index", json={"paths": [str(root)]})
    assert r.status_code == 202 and r.json()["state"] in ("queued", "running")
    job = wait_for(c, r.json()["id"])
    assert job["state"] == "done" and job["progress"] == 1.0 and job["done"] == job["total"] == 2
    assert job["counts"]["indexed"] == 1 and job["counts"]["failed"] == 1
    assert job["media_seconds"] == pytest.approx(9.0, abs=0.2)  # dog.mp4; the broken file adds nothing
    assert job["files_per_hour"] > 0 and job["video_hours_per_hour"] > 0 and job["eta_seconds"] is None
    (error,) = job["errors"]
    assert error["path"] == str(root / "broken.mp4") and error["stage"] == "decode" and error["reason"]
    # searchable at once, through the serving indexes
    top = c.get("/api/search", params={"q": "a puppy chasing a flying disc", "mode": "speech"}).json()["moments"][0]
    assert top["video_name"] == "dog.mp4"
    assert [j["id"] for j in c.get("/api/jobs").json()] == [job["id"]]
    assert c.get("/api/jobs/999").status_code == 404
    # and delete takes it out of search and the catalog
    assert c.delete(f"/api/videos/{top['video_id']}").status_code == 204
    assert c.get(f"/api/videos/{top['video_id']}").status_code == 404
    assert c.get("/api/search", params={"q": "a puppy chasing a flying disc", "mode": "speech"}).json()["moments"] == []
    assert c.delete(f"/api/videos/{top['video_id']}").status_code == 404


def test_a_running_jobs_pace_and_time_left():
    from api.jobs import Job

    job = Job(id=1, paths=[], state="running", total=4, done=1, started_at=100.0, media_seconds=60.0)
    assert job.pace(now=160.0) == {"files_per_hour": 60.0, "video_hours_per_hour": 1.0, "eta_seconds": 180.0}
    assert Job(id=2, paths=[], state="running", total=4).pace(now=160.0)["eta_seconds"] is None  # nothing done yet


def test_indexing_stays_under_the_allowed_roots(job_app, tmp_path):
    c, root, outside = job_app
    for path in (str(outside), str(root / ".." / "private"), "relative/path", "/", str(outside / "secret.mp4")):
        r = c.post("/api/index", json={"paths": [path]})
        assert r.status_code == 403, path
        assert "outside" in r.json()["detail"] or "absolute" in r.json()["detail"], path
    (root / "link").symlink_to(outside)  # a folder symlink inside the root, pointing out
    assert c.post("/api/index", json={"paths": [str(root / "link")]}).status_code == 403
    (root / "sneaky.mp4").symlink_to(outside / "secret.mp4")  # a file symlink found by the walk
    job = wait_for(c, c.post("/api/index", json={"paths": [str(root)]}).json()["id"])
    assert not any(v["name"] == "secret.mp4" or v["path"].endswith("secret.mp4")
                   for v in c.get("/api/videos").json()["videos"])
    assert any(e["path"].endswith("secret.mp4") and "outside" in e["reason"] for e in job["errors"])


def test_indexing_is_off_without_allowed_roots(client):
    r = client.post("/api/index", json={"paths": ["/tmp"]})
    assert r.status_code == 403 and "VIDSEARCH_ALLOWED_ROOTS" in r.json()["detail"]
    assert client.post("/api/index", json={"paths": []}).status_code == 422


def test_keyword_mode_and_filters(client, corpus):
    r = client.get("/api/search", params={"q": "frisbee", "mode": "keyword"})
    assert r.status_code == 200, r.text
    assert [m["video_name"] for m in r.json()["moments"]] == ["dog.mp4"]
    narrowed = client.get("/api/search", params={"q": "the", "mode": "speech", "k": 10,
                                                 "path_prefix": str(corpus / "budget")}).json()["moments"]
    assert narrowed and {m["video_name"] for m in narrowed} == {"budget.mp4"}
    best = client.get("/api/search", params={"q": "weather", "mode": "speech", "k": 10,
                                             "per_video": "true"}).json()["moments"]
    assert len({m["video_id"] for m in best}) == len(best) >= 3
    spoken = client.get("/api/search", params={"q": "weather", "mode": "speech", "language": "en"}).json()["moments"]
    assert spoken and {m["language"] for m in spoken} == {"en"}  # the sample corpus speaks English
    assert client.get("/api/search", params={"q": "weather", "language": "de"}).json()["moments"] == []
    segment = spoken[0]["segment_id"]
    assert client.get(f"/api/segments/{segment}/similar", params={"language": "de"}).json()["moments"] == []


def test_api_docs_work_without_external_network(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text and "https://" not in page.text.split("<body>")[0]
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "vidsearch"


def test_jobs_left_unfinished_are_taken_up_when_the_server_starts_again(tmp_path, corpus, tiny_clip, encoders, asr):
    from core.catalog import Job, JobFile, open_catalog

    root = tmp_path / "archive"
    root.mkdir()
    shutil.copy(corpus / "dog.mp4", root / "dog.mp4")
    settings = Settings(data_dir=tmp_path / "data", allowed_roots=[root], **tiny_clip)
    sessions = open_catalog(settings.catalog_url)
    with sessions.begin() as session:  # what a server killed mid-job leaves in the catalog
        queued = Job(roots=[str(root)], status="queued", origin="api")
        running = Job(roots=[str(root)], status="running", origin="api")
        interrupted_cli = Job(roots=[str(root)], status="running", origin="cli")  # the CLI's to resume
        session.add_all([queued, running, interrupted_cli])
        session.flush()
        session.add(JobFile(job_id=running.id, path=str(root / "dog.mp4"), state="running"))
    with TestClient(create_app(settings, encoders=encoders, asr=asr, warm=False)) as c:
        first, second = wait_for(c, queued.id), wait_for(c, running.id)
        assert first["state"] == second["state"] == "done"
        assert first["counts"]["indexed"] == 1 and second["counts"]["skipped"] == 1  # indexed once
        assert c.get(f"/api/jobs/{interrupted_cli.id}").status_code == 404
        new = wait_for(c, c.post("/api/index", json={"paths": [str(root)]}).json()["id"])
    with TestClient(create_app(settings, encoders=encoders, asr=asr, warm=False)) as c:
        again = c.get(f"/api/jobs/{new['id']}").json()  # answered from the catalog after a restart
        assert again["state"] == "done" and again["done"] == again["total"] == 1 and again["errors"] == []
        assert [j["id"] for j in c.get("/api/jobs").json()] == [new["id"], running.id, queued.id]
    with sessions() as session:
        assert session.get(Job, interrupted_cli.id).status == "running"  # left for `vidsearch index`


def test_a_job_another_live_server_holds_is_left_to_it(tmp_path, corpus, tiny_clip, encoders, asr):
    from core.catalog import Job, open_catalog

    root = tmp_path / "archive"
    root.mkdir()
    shutil.copy(corpus / "dog.mp4", root / "dog.mp4")
    settings = Settings(data_dir=tmp_path / "data", allowed_roots=[root], **tiny_clip)
    sessions = open_catalog(settings.catalog_url)
    now = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as session:  # two servers share this catalog: one alive, one dead
        held = Job(roots=[str(root)], status="running", origin="api", claimed_by="other:1:alive", heartbeat_at=now)
        orphaned = Job(roots=[str(root)], status="running", origin="api", claimed_by="other:2:dead",
                       heartbeat_at=now - dt.timedelta(minutes=10))
        session.add_all([held, orphaned])
    with TestClient(create_app(settings, encoders=encoders, asr=asr, warm=False)) as c:
        assert wait_for(c, orphaned.id)["state"] == "done"
        assert c.get(f"/api/jobs/{held.id}").json()["state"] == "running"  # not taken from its server
    with sessions() as session:
        assert session.get(Job, held.id).claimed_by == "other:1:alive"
        assert session.get(Job, orphaned.id).claimed_by != "other:2:dead"
