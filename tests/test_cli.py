"""The command line as users run it: VIDSEARCH_* settings, --json contracts, clear errors."""
import json
import re

import pytest

from api.cli import main

RESULT_KEYS = {"video_path", "video_id", "segment_id", "start", "end", "score", "transcript"}


@pytest.fixture
def env(cli_vars):
    return cli_vars


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_index_search_similar_status_remove(env, corpus, capsys):
    code, out, _ = run(capsys, "index", str(corpus), "--json")
    report = json.loads(out)
    assert code == 0 and (report["indexed"], report["failed"]) == (4, 1)
    rates = report["stage_video_hours_per_hour"]
    assert rates["decode"] == pytest.approx(report["video_seconds"] / report["stage_seconds"]["decode"], rel=0.01)
    assert {f["status"] for f in report["files"]} == {"indexed", "failed"}

    code, out, _ = run(capsys, "search", "heavy weather on the shore", "--mode", "speech", "-k", "2", "--json")
    results = json.loads(out)
    assert code == 0 and 1 <= len(results) <= 2
    assert RESULT_KEYS <= set(results[0]) and results[0]["video_path"].endswith("weather.mp4")
    assert isinstance(results[0]["start"], float) and results[0]["end"] > results[0]["start"]

    code, out, _ = run(capsys, "similar", "--segment", str(results[0]["segment_id"]), "--json")
    similar = json.loads(out)
    assert code == 0 and all(results[0]["segment_id"] not in r["segment_ids"] for r in similar)

    code, out, _ = run(capsys, "search", "heavy weather on the shore", "--mode", "speech")
    assert "weather.mp4" in out and "Heavy rain" in out

    code, out, _ = run(capsys, "status", "--json")
    status = json.loads(out)
    assert (status["videos_indexed"], status["videos_failed"]) == (4, 1)
    assert status["failures"][0]["path"].endswith("truncated.mp4")
    (job,) = status["jobs"]
    assert job["status"] == "done" and job["counts"] == {"done": 4, "failed": 1}
    assert job["failures"][0]["stage"] == "decode"
    assert list(status["languages"]) == ["en"] and status["languages"]["en"]["videos"] == 3  # one is silent
    speech = {s["path"].rsplit("/", 1)[-1]: (s["asr_model"], s["languages"]) for s in status["speech"]}
    assert speech["weather.mp4"] == ("faster-whisper:tiny.en", ["en"])
    assert speech["silent_timelapse.mp4"] == (None, None)
    code, out, _ = run(capsys, "status", "--videos")
    assert "spoken   : English (en) in 3 video(s)" in out and "weather.mp4: faster-whisper:tiny.en, en" in out

    code, out, _ = run(capsys, "search", "heavy weather on the shore", "--language", "de", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, err = run(capsys, "search", "heavy weather on the shore", "--language", "German")
    assert code == 2 and "--language: 'german' is not a language code" in err

    code, out, _ = run(capsys, "remove", str(corpus / "weather.mp4"))
    assert code == 0 and "removed" in out
    code, out, _ = run(capsys, "search", "heavy weather on the shore", "--mode", "speech", "--json")
    assert all(not r["video_path"].endswith("weather.mp4") for r in json.loads(out))
    code, _, err = run(capsys, "remove", "/no/such/file.mp4")
    assert code == 1 and "not in the catalog" in err


def test_errors_are_one_clear_line(env, capsys, monkeypatch):
    code, _, err = run(capsys, "search", "   ")
    assert code == 2 and "query text is empty" in err
    code, _, err = run(capsys, "search", "   ", "--mode", "keyword")
    assert code == 2 and "query text is empty" in err
    code, _, err = run(capsys, "similar", "--segment", "5", str(env / "x.mp4"))
    assert code == 2 and "one of FILE, --segment ID, --face PHOTO or --voice AUDIO" in err
    code, _, err = run(capsys, "similar", str(env / "missing.mp4"))
    assert code == 2 and "no such file" in err
    monkeypatch.setenv("VIDSEARCH_FPS", "-1")
    code, _, err = run(capsys, "status")
    assert code == 2 and "VIDSEARCH_" in err and "fps" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "x", "--mode", "telepathy"])
    assert exit_info.value.code == 2


def test_visual_mode_without_clip_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VIDSEARCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIDSEARCH_CLIP_PRETRAINED", str(tmp_path / "no-such-checkpoint.pt"))
    code, _, err = run(capsys, "search", "a red flower", "--mode", "visual")
    assert code == 2 and "needs CLIP" in err and "no-such-checkpoint" in err


QUERIES = [
    ("a storm is coming to the seaside", "weather.mp4", 10.0, 14.0),
    ("rain and wind by the sea", "weather.mp4", 10.0, 14.0),
    ("what will the weather be like", "weather.mp4", 0.0, 5.0),
    ("tomorrow's forecast", "weather.mp4", 0.0, 5.0),
    ("money for education went up", "budget.mp4", 6.0, 12.0),
    ("the town spends more on schools", "budget.mp4", 6.0, 12.0),
    ("ten percent increase", "budget.mp4", 6.0, 12.0),
    ("a pet playing fetch", "dog.mp4", 4.0, 9.0),
    ("catching a flying disc", "dog.mp4", 4.0, 9.0),
    ("the dog in the park", "dog.mp4", 4.0, 9.0),
    ("morning walk with my dog", "dog.mp4", 4.0, 9.0),
    ("a video that was never indexed", "elsewhere.mp4", 0.0, 1.0),
]


def test_eval_and_tune_from_the_command_line(env, corpus, capsys, tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"query": q, "video": v, "start": s, "end": e, "kind": "spoken"}) + "\n"
                               for q, v, s, e in QUERIES))
    code, out, _ = run(capsys, "index", str(corpus), "-q")
    assert code == 0
    # Which stage bounds the run, as video-hours per hour of each stage alone.
    rates = re.search(r"video-hours per hour: [\d.]+ in all; each stage alone: (.*)", out).group(1)
    assert "decode " in rates and "transcribe " in rates and rates.count("(the bound)") == 1
    code, out, _ = run(capsys, "status", "--json")
    assert json.loads(out)["transcribed_by"] == {"faster-whisper:tiny.en": 3, "none": 1}  # one is silent

    per_query = tmp_path / "per-query.jsonl"
    code, out, _ = run(capsys, "eval", str(queries), "--mode", "speech", "--mode", "keyword", "-k", "5",
                       "--json", "--per-query", str(per_query), "-q")
    report = json.loads(out)
    assert code == 0 and report["format"] == "jsonl" and report["evaluated"] == 11
    assert [q["video"] for q in report["not_indexed"]] == ["elsewhere.mp4"]
    assert set(report["modes"]) == {"speech", "keyword"}
    speech = report["modes"]["speech"]["all"]
    assert speech["queries"] == 11 and speech["R@1"] >= 0.8 and {"hit@1", "mR@1 IoU0.5", "start<=2s"} <= set(speech)
    records = [json.loads(line) for line in per_query.read_text().splitlines()]
    assert len(records) == 22 and {r["mode"] for r in records} == {"speech", "keyword"}

    code, out, _ = run(capsys, "eval", str(queries), "-q")  # the table, every mode the library answers
    assert code == 0 and "11 of 12 queries evaluated" in out and "hybrid" in out and "not indexed" in out
    assert "relevance labels (hybrid, share of moments right): strong" in out
    assert "VIDSEARCH_RELEVANCE_THRESHOLDS='{\"speech\": [" in out

    # The public formats: MSR-VTT ranks videos (no time spans), Charades-STA moments.
    msrvtt = tmp_path / "MSRVTT_JSFUSION_test.csv"
    msrvtt.write_text("key,vid_key,video_id,sentence\n" + "".join(
        f"ret{n},msr{n},{v.removesuffix('.mp4')},{q}\n" for n, (q, v, _, _) in enumerate(QUERIES[:11])))
    code, out, _ = run(capsys, "eval", str(msrvtt), "--mode", "speech", "--json", "-q")
    video_only = json.loads(out)["modes"]["speech"]["all"]
    assert code == 0 and json.loads(out)["format"] == "msrvtt" and video_only["queries"] == 11
    assert "mIoU" not in video_only and video_only["R@1"] >= 0.8
    charades = tmp_path / "charades_sta_test.txt"
    charades.write_text("".join(f"{v.removesuffix('.mp4')} {s} {e}##{q}\n" for q, v, s, e in QUERIES[:11]))
    code, out, _ = run(capsys, "eval", str(charades), "--mode", "speech", "--json", "-q")
    assert code == 0 and json.loads(out)["modes"]["speech"]["all"] == speech

    code, out, _ = run(capsys, "tune", str(queries), "--dry-run", "--json", "-q")
    tuned = json.loads(out)
    assert code in (0, 1) and tuned["saved"] is None
    assert tuned["train"]["queries"] + tuned["held_out"]["queries"] == 11
    code, out, _ = run(capsys, "tune", "--show", "--json")
    assert code == 0 and json.loads(out)["active"] is None
    code, out, _ = run(capsys, "tune", "--reset")
    assert code == 0 and "no profile was active" in out


def test_eval_and_tune_errors_are_one_clear_line(env, capsys, tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"query": "fine", "video": "a.mp4"}\n{"query": "no video"}\n')
    code, _, err = run(capsys, "eval", str(broken))
    assert code == 2 and f"{broken}:2:" in err and "video" in err
    code, _, err = run(capsys, "eval", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "missing.jsonl" in err
    code, _, err = run(capsys, "tune")
    assert code == 2 and "give the labelled queries" in err


def test_a_bug_is_not_dressed_as_a_user_error(env, capsys, monkeypatch):
    import api.cli as cli

    def broken(app, args):
        raise KeyError("a defect")

    monkeypatch.setattr(cli, "cmd_status", broken)
    code, _, err = run(capsys, "status")
    assert code == 1 and "internal error: KeyError" in err and "-v" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(KeyError):  # -v shows where it happened
        main(["-v", "status"])
