"""A video's chapters (in the formats players read) and its extractive summary."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel

from core.chapter_formats import EXPORTS, render_chapters, shown_chapters
from core.errors import NotFound

from ..deps import KeyDep, ServicesDep
from ..schemas import ChapterOut
from .videos import VideoId, _404

router = APIRouter(prefix="/api", tags=["chapters"], dependencies=[KeyDep])


class ChaptersOut(BaseModel):
    video_id: int
    chapters: list[ChapterOut]        # what the video shows (VIDSEARCH_CHAPTERS_FROM decides)
    file_chapters: list[ChapterOut]   # the file's own marks, if it has any
    computed: bool                    # whether vidsearch made chapters for it yet


class SummaryLineOut(BaseModel):
    start: float
    end: float
    text: str


class SummaryOut(BaseModel):
    video_id: int
    summary: list[SummaryLineOut]


def _chapters(services, video_id: int):
    video = services.library.indexed_video(video_id)
    if video is None:
        raise HTTPException(404, f"there is no indexed video {video_id}")
    try:
        marks, summary = services.library.chapters_of(video_id)
    except NotFound as exc:  # removed meanwhile
        raise HTTPException(404, str(exc)) from exc
    return video, marks, summary


@router.get("/videos/{video_id}/chapters", response_model=ChaptersOut, responses={**_404, 200: {"content": {
    "application/json": {}, "text/vtt": {}, "text/plain": {}}}})
async def video_chapters(services: ServicesDep, video_id: VideoId,
                         format: Annotated[str, Query(pattern=f"^(json|{'|'.join(EXPORTS)})$",
                                                      description="json, vtt (a chapters track), ffmetadata "
                                                                  "(for ffmpeg -map_metadata) or youtube")] = "json"):
    """The video's chapters: JSON, or a WebVTT chapters track, an FFmpeg metadata file or YouTube lines."""
    video, marks, _ = await services.run(_chapters, services, video_id)
    shown = shown_chapters(marks, services.settings.chapters_from)
    if format != "json":
        document, media_type = render_chapters(shown, format)
        return Response(document, media_type=media_type, headers={"Cache-Control": "private, max-age=60"})
    return ChaptersOut(video_id=video_id, chapters=[ChapterOut(**m._asdict()) for m in shown],
                       file_chapters=[ChapterOut(**m._asdict()) for m in marks if m.source == "file"],
                       computed=video.chapters_version is not None)


@router.get("/videos/{video_id}/summary", response_model=SummaryOut, responses=_404)
async def video_summary(services: ServicesDep, video_id: VideoId) -> SummaryOut:
    """A few of the video's most central sentences, in order, each with its time."""
    _, _, summary = await services.run(_chapters, services, video_id)
    return SummaryOut(video_id=video_id, summary=[SummaryLineOut(start=a, end=b, text=t) for a, b, t in summary or []])
