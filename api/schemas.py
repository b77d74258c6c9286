"""The JSON shapes of the HTTP API (they make the OpenAPI schema at ``/docs`` exact).

A moment carries the CLI's ``--json`` fields unchanged, plus what a page needs to show and play
it: the file name, a thumbnail URL and a playback URL that starts at the moment (a media
fragment, ``#t=START``, which browsers honour).
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from core.settings import SEARCH_MODES

Mode = Literal[SEARCH_MODES]


class MatchedWords(BaseModel):
    transcript: list[str] = Field(default_factory=list)
    screen_text: list[str] = Field(default_factory=list)


class PersonRef(BaseModel):
    id: int
    name: str | None


class PersonOut(BaseModel):
    id: int
    name: str | None
    label: str = Field(description='its name, or "Person ID" until it has one')
    appearances: int
    videos: int
    still_url: str | None = Field(None, description="a JPEG of its face (the appearance with most sightings)")


class VoiceOut(BaseModel):
    id: int
    name: str | None
    label: str = Field(description='its name, the name of the person linked to it, or "Speaker ID"')
    person: PersonRef | None = Field(None, description="the person seen while it speaks, when linked")
    videos: int
    seconds: float = Field(description="how long it speaks in all indexed videos")


class PersonName(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class PersonMerge(BaseModel):
    other: int = Field(ge=1, le=2**62, description="the person whose appearances become this one's")


class PersonSplit(BaseModel):
    appearance: int = Field(ge=1, le=2**62, description="the appearance that is someone else")


class ChapterOut(BaseModel):
    start: float
    end: float
    title: str
    source: str  # computed | file


class MomentOut(BaseModel):
    video_path: str
    video_id: int
    segment_id: int
    start: float
    end: float
    score: float
    transcript: str
    screen_text: str = Field("", description="the text on screen while it plays (OCR)")
    segment_ids: list[int]
    matched: dict[str, int] = Field(default_factory=dict, description=(
        "why it is here: per list the search used (fused, visual, speech, keyword), the rank of this "
        "moment's best segment in that list, from 1; lists that did not return it are absent"))
    matched_words: MatchedWords = Field(default_factory=MatchedWords, description=(
        "the query's words found in the transcript and in the screen text (empty for searches by example)"))
    relevance: Literal["strong", "good", "weak"] | None = Field(None, description=(
        "how well it matches a text query, from thresholds calibrated on labelled queries (the speech "
        "space's cosine, the share of the query's words it holds); null where no calibrated evidence "
        "exists (found only by CLIP's spaces, keyword mode, searches by example)"))
    language: str | None = Field(None, description='the language its speech is in ("en", "de"); null: no speech')
    appearance: int | None = Field(None, description="the face appearance it shows (searches by face)")
    person: PersonRef | None = Field(None, description="whose face that is (searches by face)")
    voice: PersonRef | None = Field(None, description='whose voice speaks: its id and label ("Speaker ID" until '
                                                      "named; searches by voice)")
    chapter: str | None = Field(None, description="the title of the chapter it starts in (GET "
                                                  "/api/videos/{id}/chapters lists them)")
    chapters: list[ChapterOut] | None = Field(None, description="the video's chapters, in per_video answers "
                                                               "(null: it has none, or the answer is not per video)")
    video_name: str
    thumbnail_url: str
    playback_url: str


class TagOut(BaseModel):
    tag: str
    videos: int = Field(description="indexed videos that carry it")


class Timings(BaseModel):
    encode_ms: float = Field(description="query encoding (0 when the query's vectors were cached)")
    search_ms: float = Field(description="nearest neighbours, fusion and catalog lookups")
    cached: bool = False


class SearchOut(BaseModel):
    query: str | None = None
    mode: Mode | Literal["face", "voice"] = Field(description='the search mode; "face" or "voice" for a search by a '
                                                     'photo of a face or a recording of a voice')
    k: int
    offset: int = Field(0, description="moments skipped: this page starts after them")
    moments: list[MomentOut]
    timings: Timings


class SegmentOut(BaseModel):
    id: int
    start: float
    end: float
    transcript: str
    screen_text: str = ""
    language: str | None = None
    rendering: str | None = Field(None, description="its speech in English, when it is in another language")
    thumbnail_url: str


class TranscriptLineOut(BaseModel):
    start: float
    end: float
    text: str
    language: str | None = None
    speaker: str | None = Field(None, description="who speaks it (most of it), when voices were told apart")


class VideoOut(BaseModel):
    id: int
    path: str
    name: str
    status: str
    duration: float
    error_stage: str | None = None
    error: str | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool = False
    language: str | None = Field(None, description="the language most of its speech is in")
    languages: list[str] = Field(default_factory=list, description="every language spoken in it, most first")
    speech_note: str | None = Field(None, description="speech its model could not transcribe, and why")
    asr_model: str | None = Field(None, description="the speech model that transcribed it")
    transcript_source: str | None = Field(
        None, description='"asr", or the subtitles read instead: "sidecar:<file>", "stream:<n> (<language>)"')
    subtitle_note: str | None = Field(None, description="why the file's own subtitles were not used")
    segments: int = 0
    tags: list[str] = Field(default_factory=list, description="the user's labels, for search filters")
    recorded_at: dt.datetime | None = Field(None, description="when it was recorded, from the file's metadata")
    stream_url: str | None = None
    transcript_url: str | None = Field(None, description="the transcript as WebVTT (?format=srt|txt|json too)")


class VideoDetailOut(VideoOut):
    segment_list: list[SegmentOut]
    transcript: list[TranscriptLineOut]


class VideoPage(BaseModel):
    total: int
    videos: list[VideoOut]


class TagsIn(BaseModel):
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        max_length=100, description="the video's tags from now on (replacing the ones it had)")


class IndexIn(BaseModel):
    paths: list[str] = Field(min_length=1, max_length=1000,
                             description="files or folders under VIDSEARCH_ALLOWED_ROOTS")
    force: bool = False


class FileError(BaseModel):
    path: str
    stage: str | None = None
    reason: str | None = None


class JobOut(BaseModel):
    id: int
    paths: list[str]
    force: bool
    state: Literal["queued", "running", "done", "failed"]
    total: int
    done: int
    progress: float
    counts: dict[str, int]
    errors: list[FileError]
    error: str | None = None
    catalog_job_id: int | None = None
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    media_seconds: float = Field(0.0, description="seconds of video indexed by this job so far")
    files_per_hour: float | None = Field(None, description="files finished an hour, so far")
    video_hours_per_hour: float | None = Field(None, description="hours of video indexed an hour, so far")
    eta_seconds: float | None = Field(None, description="seconds left at the pace so far (running jobs)")


class Health(BaseModel):
    status: Literal["ok"]
    videos: int
    segments: int
    vectors: dict[str, int]
    visual: bool
    clip_error: str | None = None
    uptime_s: float


class Message(BaseModel):
    detail: str


class Problem(BaseModel):
    """A 422: our own message (a string), or FastAPI's list of validation errors."""

    detail: str | list[dict]


class CopyVideo(BaseModel):
    video_id: int
    video_path: str
    duration: float


class SharedSpan(BaseModel):
    """The copy's [start, end) shows what the other video shows at [other_start, other_end)."""

    start: float
    end: float
    other_start: float
    other_end: float
    score: float  # the share of the copy's samples in the span that match


class GroupedBecause(BaseModel):
    witness: Literal["picture", "picture and sound"] = Field(
        description="what found the shared footage: the frames' perceptual hashes, and the sound's landmarks where "
                    "they agree (sound alone never groups two files)")
    other: int = Field(description="the member it shares footage with: the master, or where it shares none with "
                                   "the master directly, the member it shares most with")
    covered: float = Field(description="the share of the copy's duration those spans cover")
    spans: list[SharedSpan]


class CopiedVideo(CopyVideo):
    change: str | None = Field(None, description='what the copy changed, when known: "mirrored", "speed 1.05x"')
    why: GroupedBecause | None = Field(None, description="why it is in the group")


class CopyGroup(BaseModel):
    master: CopyVideo  # longest, then highest resolution, then best bitrate
    copies: list[CopiedVideo]


class CopySpan(CopyVideo):
    """``video``'s [start, end) is ``other``'s [other_start, other_end)."""

    start: float
    end: float
    other: CopyVideo
    other_start: float
    other_end: float
    score: float
    change: str | None = Field(None, description='what the copy changed, when known: "mirrored", "speed 1.05x"')
    witness: Literal["picture", "sound", "picture and sound"] = Field(
        "picture", description="what found it: the pictures, the sound alone (a soundtrack under other pictures, "
                               "an inset too small to match), or both")


class Duplicates(BaseModel):
    groups: list[CopyGroup]
    spans: list[CopySpan]
    without_descriptors: list[str]
    videos: int  # indexed videos
    compared_now: int  # videos compared with the archive for this answer (indexed since the last)
