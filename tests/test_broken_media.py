"""A corpus of broken and odd files, built here: each is indexed correctly or failed with a reason.

The real CLI indexes the whole folder in a subprocess; the batch must complete, the process must
exit normally, every file must have an outcome that matches what it is, and the catalog and index
must agree afterwards.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from bench.corpus import Spec, make_video, truncate

from .conftest import cli_env

FFMPEG = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]


def ffmpeg(*args):
    subprocess.run([*FFMPEG, *map(str, args)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    d = tmp_path_factory.mktemp("broken")
    good = make_video(Spec("good.mp4", [("testsrc2", 3), ("smptebars", 3)],
                           speech=[(0.5, "The quick brown fox jumps over the lazy dog.")]), d)
    (d / "empty.mp4").write_bytes(b"")
    truncate(good, d / "truncated_400.mp4", 400)
    (d / "random_bytes.mp4").write_bytes(os.urandom(65536))
    # moov atom at the end (no faststart), then cut before it: the index of the file is gone.
    ffmpeg("-f", "lavfi", "-t", 4, "-i", "testsrc2=s=320x240:r=24", "-c:v", "libx264", "-preset", "ultrafast",
           d / "moov_at_end.tmp.mp4")
    data = (d / "moov_at_end.tmp.mp4").read_bytes()
    (d / "missing_moov.mp4").write_bytes(data[:data.rfind(b"moov") - 4])
    (d / "moov_at_end.tmp.mp4").unlink()
    ffmpeg("-i", good, "-vn", "-c:a", "aac", d / "audio_only.m4a")
    ffmpeg("-i", good, "-an", "-c:v", "copy", d / "video_only.mp4")
    ffmpeg("-f", "lavfi", "-t", 6, "-i", "testsrc2=s=320x240:r=30", "-vf",
           "setpts='if(lt(N,60),N/(30*TB),(60+(N-60)*4)/(30*TB))'", "-fps_mode", "vfr", "-c:v", "libx264",
           "-preset", "ultrafast", d / "variable_fps.mp4")
    ffmpeg("-i", good, "-c", "copy", "-metadata:s:v:0", "rotate=90", d / "rotated.mp4")
    ffmpeg("-i", good, "-frames:v", 1, "-an", d / "single_frame.mp4")
    ffmpeg("-f", "lavfi", "-t", 1, "-i", "testsrc2=s=7680x4320:r=2", "-c:v", "libx264", "-preset", "ultrafast",
           d / "huge_8k.mp4")
    ffmpeg("-f", "lavfi", "-t", 900, "-i", "color=c=gray:s=160x120:r=1", "-f", "lavfi", "-t", 900, "-i",
           "anullsrc=r=16000:cl=mono", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
           d / "long_silent_15min.mp4")
    ffmpeg("-f", "lavfi", "-t", 3, "-i", "mandelbrot=s=320x240:r=24", "-c:v", "libx265", "-preset", "ultrafast",
           d / "hevc_no_audio.mkv")
    ffmpeg("-i", good, "-c:v", "libvpx", "-b:v", "300k", "-c:a", "libvorbis", "-deadline", "realtime",
           d / "vp8_vorbis.webm")
    ffmpeg("-f", "lavfi", "-t", 2, "-i", "testsrc2=s=16x16:r=10", "-c:v", "libx264", "-preset", "ultrafast",
           d / "tiny_16px.mp4")
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 20000] = os.urandom(20000)
    (d / "corrupt_middle.mp4").write_bytes(bytes(data))
    with open(os.path.join(os.fsencode(d), b"caf\xe9_latin1.mp4"), "wb") as handle:
        handle.write(good.read_bytes())
    shutil.copy(good, d / "unreadable.mp4")
    os.chmod(d / "unreadable.mp4", 0)
    (d / "folder.mp4").mkdir()
    shutil.copy(good, d / "folder.mp4" / "inside_a_folder_named_like_a_video.mp4")
    os.symlink(d, d / "loop")
    os.symlink(d / "nowhere.mp4", d / "dangling_link.mp4")
    shutil.copy(good, d / ".hidden.mp4")
    shutil.copy(good, d / "a_video_named.txt")
    return d


EXPECTED = {  # name: (status, failing stage or None)
    "good.mp4": ("indexed", None),
    "empty.mp4": ("failed", "decode"),
    "truncated_400.mp4": ("failed", "decode"),
    "random_bytes.mp4": ("failed", "decode"),
    "missing_moov.mp4": ("failed", "decode"),
    "audio_only.m4a": ("indexed", None),
    "video_only.mp4": ("indexed", None),
    "variable_fps.mp4": ("indexed", None),
    "rotated.mp4": ("indexed", None),
    "single_frame.mp4": ("indexed", None),
    "huge_8k.mp4": ("indexed", None),
    "long_silent_15min.mp4": ("indexed", None),
    "hevc_no_audio.mkv": ("indexed", None),
    "vp8_vorbis.webm": ("indexed", None),
    "tiny_16px.mp4": ("indexed", None),
    "caf\\xe9_latin1.mp4": ("failed", "scan"),
    "unreadable.mp4": ("failed", "scan"),
    "inside_a_folder_named_like_a_video.mp4": ("indexed", None),
    "dangling_link.mp4": ("failed", "scan"),
    "corrupt_middle.mp4": (None, None),  # FFmpeg conceals or refuses: either, but with an outcome
}


def _run(args, env, drop_root_privileges=True):
    command = [sys.executable, "-m", "api.cli", *args]
    if drop_root_privileges and os.geteuid() == 0 and shutil.which("setpriv"):
        # root reads any file; without these capabilities it meets permissions like everyone else
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def outcome(broken, tiny_clip, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    env = cli_env(tiny_clip, data)
    done = _run(["index", "--json", str(broken)], env)
    return done, env


def test_the_batch_completes_and_the_process_survives(outcome):
    done, _ = outcome
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["indexed"] + report["failed"] == len(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file_is_indexed_or_failed_with_a_reason(outcome, name):
    done, _ = outcome
    files = {os.path.basename(f["path"]): f for f in json.loads(done.stdout)["files"]}
    assert name in files, sorted(files)
    status, stage = EXPECTED[name]
    got = files[name]
    if status is None:
        assert got["status"] in ("indexed", "failed")
        status, stage = got["status"], got["stage"]
    assert (got["status"], got["stage"]) == (status, stage), got
    if status == "failed":
        assert got["reason"] and len(got["reason"]) > 10


def test_corrupt_middle_and_odd_names_are_handled(outcome):
    done, _ = outcome
    files = {os.path.basename(f["path"]): f for f in json.loads(done.stdout)["files"]}
    assert "UTF-8" in files["caf\\xe9_latin1.mp4"]["reason"]
    assert "ermission" in files["unreadable.mp4"]["reason"]
    for ignored in (".hidden.mp4", "a_video_named.txt", "folder.mp4", "loop"):
        assert ignored not in files


def test_odd_files_are_indexed_as_what_they_are(outcome):
    done, env = outcome
    report = json.loads(done.stdout)
    status = json.loads(_run(["status", "--json"], env).stdout)
    assert (status["videos_indexed"], status["videos_failed"]) == (report["indexed"], report["failed"])
    certain = [status for status, _ in EXPECTED.values() if status]
    assert report["indexed"] >= certain.count("indexed") == 12
    assert report["failed"] >= certain.count("failed") == 7
    from core.library import Library
    from core.settings import Settings

    library = Library(Settings(data_dir=env["VIDSEARCH_DATA_DIR"]))
    videos = {os.path.basename(v.path): v for v in library.videos(status="indexed")}
    assert videos["rotated.mp4"].rotation in (90, 270)
    assert not videos["video_only.mp4"].has_audio and videos["audio_only.m4a"].video_codec is None
    assert videos["long_silent_15min.mp4"].duration == pytest.approx(900, abs=2)
    assert videos["huge_8k.mp4"].width == 7680 and videos["hevc_no_audio.mkv"].video_codec == "hevc"
    assert videos["audio_only.m4a"].language == "en"
    check = _run(["check", "--json"], env, drop_root_privileges=False)
    assert check.returncode == 0 and json.loads(check.stdout)["consistent"]
