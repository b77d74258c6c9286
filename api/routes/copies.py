"""Copies: whole-file duplicate groups and copied spans across the archive, and the frame at a
time of a video (to show two copies side by side)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from indexer.thumbnail import NoPicture

from ..deps import KeyDep, ServicesDep
from ..schemas import Duplicates, Message
from .videos import VideoId, cached_thumbnail

router = APIRouter(prefix="/api", tags=["copies"], dependencies=[KeyDep])


@router.get("/duplicates", response_model=Duplicates)
async def duplicates(services: ServicesDep,
                     min_seconds: Annotated[float, Query(gt=0, le=86400)] = 5.0) -> Duplicates:
    """Groups of files that are one footage (master first) and, apart, footage copied between
    other videos, as aligned spans."""
    from search.copies.report import archive_copies

    return Duplicates(**await services.run(archive_copies, services.library, min_seconds))


@router.get("/videos/{video_id}/frame", responses={404: {"model": Message}, 200: {"content": {"image/jpeg": {}}}},
            response_class=Response)
async def video_frame(services: ServicesDep, video_id: VideoId,
                      at: Annotated[float, Query(ge=0, le=10**7)] = 0.0) -> Response:
    """A JPEG still of an indexed video at ``at`` seconds (made once, then cached)."""

    def work() -> bytes:
        video = services.library.indexed_video(video_id)
        if video is None:
            raise HTTPException(404, f"there is no indexed video {video_id}")
        at_tenth = round(min(at, max(float(video.duration or 0.0) - 0.05, 0.0)), 1)
        try:
            return cached_thumbnail(services, f"v{video_id}-{at_tenth}", video.path, at_tenth)
        except NoPicture as exc:
            raise HTTPException(404, f"video {video_id} has no picture (audio only)") from exc

    data = await services.run(work)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})
