"""Subtitle files as people's tools write them: read forgivingly, broken timing named by line,
written back exactly (WebVTT and SRT round-trip to the same cues)."""
import pytest

from core.errors import InvalidInput
from core.subtitles import Cue, SubtitleError, parse, render, to_srt, to_vtt

SRT_ODD = (
    "\ufeff1\r\n00:00:01,000 --> 00:00:03,500\r\n<i>Quarterly</i> results,\r\n<font color=\"red\">up</font> 4%\r\n\r\n"
    "2\r\n00:00:03,000 --> 00:00:05,000\r\n{\\an8}Overlapping &amp; on top\r\n\r\n"
    "00:01:02,25 --> 00:01:04,000\r\nno cue number, short fraction\r\n\r\n"
    "7\r\n\r\n"   # a cue number with nothing after it
)

VTT_ODD = """WEBVTT - made by a tool

NOTE this block is a comment
and spans two lines

STYLE
::cue { color: yellow }

intro
00:05.000 --> 00:07.250 align:start position:10%
<v Roger>Hours left out</v>

01:00:00.000 --> 01:00:01.000
<c.loud>an hour in</c> &lt;tag&gt;
"""


def test_srt_with_real_world_oddities():
    assert parse(SRT_ODD, "talk.srt") == [
        Cue(1.0, 3.5, "Quarterly results, up 4%"),
        Cue(3.0, 5.0, "Overlapping & on top"),
        Cue(62.25, 64.0, "no cue number, short fraction"),
    ]


def test_vtt_with_hours_omitted_settings_and_blocks():
    assert parse(VTT_ODD, "talk.vtt") == [Cue(5.0, 7.25, "Hours left out", "Roger"), Cue(3600.0, 3601.0, "an hour in <tag>")]


@pytest.mark.parametrize("text, line, what", [
    ("1\n00:00:01,000 -> 00:00:02,000\nhello\n", 1, "no timing line"),  # not an arrow: the cue has none
    ("1\n00:00:01,000 --> 00:00:xx,000\nhello\n", 2, "cannot read the timing"),
    ("1\n00:00:05,000 --> 00:00:02,000\nbackwards\n", 2, "the cue ends before it starts"),
])
def test_broken_timing_names_the_line(text, line, what):
    with pytest.raises(SubtitleError, match=rf"talk.srt:{line}: {what}"):
        parse(text, "talk.srt")


def test_export_round_trips_and_follows_each_format():
    cues = [Cue(0.0, 1.5, "first line"), Cue(61.04, 3723.5, "a < b & c --> d"), Cue(3723.5, 3724.0, "Zürich")]
    vtt, srt = to_vtt(cues), to_srt(cues)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nfirst line\n")
    assert "01:02:03.500" in vtt and "&lt;" in vtt
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\nfirst line\n\n2\n00:01:01,040 --> 01:02:03,500\n")
    assert parse(vtt) == cues
    assert [(c.start, c.end) for c in parse(srt)] == [(c.start, c.end) for c in cues]
    document, media_type = render(cues, "vtt")
    assert document == vtt and media_type == "text/vtt; charset=utf-8"
    with pytest.raises(InvalidInput, match="unknown transcript format"):
        render(cues, "ass")
