"""Video routes: list, detail (segments and transcript), delete, stream, segment thumbnails.

Files are only ever reached through catalog ids: a video's stream is the file the catalog says
was indexed, a thumbnail is a frame of such a file, cached under the segment id. No route takes
a path from the client, so there is nothing to traverse.
"""
from __future__ import annotations

import mimetypes
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path as PathParam, Query
from fastapi.responses import FileResponse, Response

from indexer.thumbnail import NoPicture, thumbnail
from core.catalog import Video
from core.subtitles import FORMATS, render
from core.voices import SpokenBy, VoiceStore

from ..deps import KeyDep, ServicesDep
from ..schemas import Message, SegmentOut, TagOut, TagsIn, TranscriptLineOut, VideoDetailOut, VideoOut, VideoPage

router = APIRouter(prefix="/api", tags=["videos"], dependencies=[KeyDep])

VideoId = Annotated[int, PathParam(ge=1, le=2**62)]
SegmentId = Annotated[int, PathParam(ge=1, le=2**62)]
_404 = {404: {"model": Message}}
_TYPES = {".mkv": "video/x-matroska", ".webm": "video/webm", ".mp4": "video/mp4", ".m4v": "video/mp4",
          ".mov": "video/quicktime", ".flac": "audio/flac", ".wav": "audio/wav", ".mp3": "audio/mpeg"}


def video_out(video: Video, segments: int = 0) -> dict:
    return dict(id=video.id, path=video.path, name=Path(video.path).name, status=video.status,
                duration=video.duration or 0.0, error_stage=video.error_stage, error=video.error,
                width=video.width, height=video.height, has_audio=bool(video.has_audio),
                language=video.language, languages=list(video.languages or []), speech_note=video.speech_note,
                asr_model=video.asr_model, segments=segments,
                tags=list(video.tags or []), recorded_at=video.recorded_at,
                transcript_source=video.transcript_source, subtitle_note=video.subtitle_note,
                stream_url=f"/api/videos/{video.id}/stream" if video.status == "indexed" else None,
                transcript_url=f"/api/videos/{video.id}/transcript" if video.status == "indexed" else None)


@router.get("/videos", response_model=VideoPage)
async def list_videos(services: ServicesDep,
                      status: Annotated[str | None, Query(pattern="^(indexed|failed)$")] = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                      offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
                      sort: Annotated[str, Query(pattern="^-?(path|duration|recorded|segments)$",
                                                 description="order: path, duration, recorded or segments; "
                                                             "a leading - reverses it")] = "path") -> VideoPage:
    """Indexed and failed videos, a page at a time."""

    def work():
        total, rows = services.library.video_page(status, limit, offset, sort)
        return VideoPage(total=total, videos=[VideoOut(**video_out(v, n)) for v, n in rows])

    return await services.run(work)


@router.get("/tags", response_model=list[TagOut])
async def list_tags(services: ServicesDep) -> list[TagOut]:
    """The tags of indexed videos (for the search filters), most used first."""
    return [TagOut(tag=t, videos=n) for t, n in await services.run(services.library.tag_counts)]


@router.get("/videos/{video_id}", response_model=VideoDetailOut, responses=_404)
async def get_video(services: ServicesDep, video_id: VideoId) -> VideoDetailOut:
    """One video with its segments and its transcript."""

    def work():
        detail = services.library.video_detail(video_id)
        if detail is None:
            raise HTTPException(404, f"there is no video {video_id} in the catalog")
        segments = [SegmentOut(id=s.id, start=round(s.start, 3), end=round(s.end, 3),
                               transcript=s.transcript or "", screen_text=s.screen_text or "",
                               language=s.language, rendering=s.rendering, thumbnail_url=f"/api/segments/{s.id}/thumbnail") for s in detail.segments]
        spoken = SpokenBy(VoiceStore(services.library).speakers_of(video_id))
        lines = [TranscriptLineOut(start=round(l.start, 3), end=round(l.end, 3), text=l.text, language=l.language,
                                   speaker=spoken.at(l.start, l.end))
                 for l in detail.lines]
        return VideoDetailOut(**video_out(detail.video, len(segments)), segment_list=segments, transcript=lines)

    return await services.run(work)


@router.delete("/videos/{video_id}", status_code=204, responses=_404)
async def delete_video(services: ServicesDep, video_id: VideoId) -> Response:
    """Remove a video from the catalog and the indexes (the file itself is left alone)."""
    if not await services.run(services.remove_video, video_id):
        raise HTTPException(404, f"there is no video {video_id} in the catalog")
    return Response(status_code=204)


@router.put("/videos/{video_id}/tags", response_model=list[str], responses={**_404, 400: {"model": Message}})
async def put_tags(services: ServicesDep, video_id: VideoId, body: TagsIn) -> list[str]:
    """Replace a video's tags (what the search filters and the page's tag chips use)."""
    tags = list(dict.fromkeys(t.strip() for t in body.tags if t.strip()))
    try:
        return await services.run(services.set_tags, video_id, tags)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/videos/{video_id}/transcript", responses={**_404, 200: {"content": {
    "text/vtt": {}, "application/x-subrip": {}, "text/plain": {}, "application/json": {}}}}, response_class=Response)
async def video_transcript(services: ServicesDep, video_id: VideoId,
                           format: Annotated[str, Query(pattern=f"^({'|'.join(FORMATS)})$")] = "vtt") -> Response:
    """The video's transcript: WebVTT (for the player's captions), SRT, plain text or JSON cues."""
    cues = await services.run(services.library.transcript_cues, video_id)
    if cues is None:
        raise HTTPException(404, f"there is no indexed video {video_id}")
    document, media_type = render(cues, format)
    return Response(document, media_type=media_type, headers={"Cache-Control": "private, max-age=60"})


def _indexed_file(services, video_id: int) -> Path:
    video = services.library.indexed_video(video_id)
    if video is None:
        raise HTTPException(404, f"there is no indexed video {video_id}")
    path = Path(video.path)
    if not path.is_file():
        raise HTTPException(404, f"the file of video {video_id} is no longer where it was indexed; "
                                 "index its new location")
    return path


@router.get("/videos/{video_id}/stream", responses={**_404, 206: {"description": "a byte range"}},
            response_class=FileResponse)
async def stream_video(services: ServicesDep, video_id: VideoId) -> FileResponse:
    """The video file, with HTTP Range support (206) so players can seek."""
    path = await services.run(_indexed_file, services, video_id)
    media_type = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/segments/{segment_id}/thumbnail", responses={**_404, 200: {"content": {"image/jpeg": {}}}},
            response_class=Response)
async def segment_thumbnail(services: ServicesDep, segment_id: SegmentId) -> Response:
    """A JPEG still of the segment (made once, then served from the thumbnail cache)."""

    def work() -> bytes:
        found = services.library.segments([segment_id]).get(segment_id)
        if found is None:
            raise HTTPException(404, f"there is no segment {segment_id} in the catalog")
        segment, video = found
        at = segment.thumbnail_time if segment.thumbnail_time is not None else (segment.start + segment.end) / 2
        try:
            return cached_thumbnail(services, str(segment_id), video.path, at)
        except NoPicture as exc:
            raise HTTPException(404, f"segment {segment_id} has no picture (audio only)") from exc

    data = await services.run(work)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


def cached_thumbnail(services, key: str, path: str, at: float) -> bytes:
    """The JPEG of ``path`` at ``at`` s, cached as ``key`` (written atomically); raises
    ``NoPicture``, or a 404 when the file is gone."""
    cached = services.thumbnail_dir / f"{key}.jpg"
    if cached.is_file():
        return cached.read_bytes()
    if not Path(path).is_file():
        raise HTTPException(404, f"the file {Path(path).name} is no longer where it was indexed")
    data = thumbnail(path, at)
    tmp = cached.with_name(f"{key}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return data
