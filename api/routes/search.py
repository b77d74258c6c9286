"""Search routes: text search, similar to an upload, similar to an indexed moment.

Each request does its blocking work (encoding, FAISS, catalog, decoding an upload) on the
service's worker threads. Timings come back in the answer (and as ``Server-Timing``), with the
query encoding apart from the rest, since that is where a CPU server spends its time.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path as PathParam, Query, Request, Response
from pydantic import Field

from core.encoders import VisualSearchUnavailable
from core.rows import ChapterMark
from search.filters import LANGUAGE_CODE, Filters
from search.matched_words import found_in, query_words
from search.rank import Moment

from ..deps import KeyDep, ServicesDep
from ..schemas import ChapterOut, MatchedWords, Message, Mode, MomentOut, Problem, SearchOut, Timings
from ..uploads import FIELD, receive_upload

router = APIRouter(prefix="/api", tags=["search"], dependencies=[KeyDep])

SegmentId = Annotated[int, PathParam(ge=1, le=2**62)]
K = Annotated[int, Query(ge=1, le=100, description="number of moments")]
Offset = Annotated[int, Query(ge=0, le=10_000, description="moments to skip (pages never repeat a moment)")]
Language = Annotated[str | None, Query(pattern=LANGUAGE_CODE, description='only moments spoken in it ("en", "de", "zh")')]
_ERRORS = {400: {"model": Message}, 404: {"model": Message}, 409: {"model": Message}}
_CACHED_TIMING = "encode;dur=0.00, search;dur=0.00"


def moment_out(moment: Moment, words: list[str] = (), chapters: list[ChapterMark] | None = None) -> MomentOut:
    data = moment.as_dict()
    return MomentOut(
        **data, video_name=Path(moment.video_path).name,
        chapters=[ChapterOut(**c._asdict()) for c in chapters] if chapters else None,
        matched_words=MatchedWords(transcript=found_in(words, moment.transcript),
                                   screen_text=found_in(words, moment.screen_text)),
        thumbnail_url=f"/api/segments/{moment.segment_id}/thumbnail",
        playback_url=f"/api/videos/{moment.video_id}/stream#t={data['start']:g}",
    )


def _answer(response: Response, query, mode, k, moments, encode_s, search_s, cached=False,
            offset: int = 0, chapters: dict[int, list[ChapterMark]] | None = None) -> SearchOut:
    response.headers["Server-Timing"] = f"encode;dur={encode_s * 1000:.2f}, search;dur={search_s * 1000:.2f}"
    words, chapters = (query_words(query) if query else []), chapters or {}
    return SearchOut(query=query, mode=mode, k=k, offset=offset,
                     moments=[moment_out(m, words, chapters.get(m.video_id)) for m in moments],
                     timings=Timings(encode_ms=round(encode_s * 1000, 3), search_ms=round(search_s * 1000, 3),
                                     cached=cached))


def _client_error(exc: Exception) -> HTTPException:
    if isinstance(exc, VisualSearchUnavailable):
        return HTTPException(409, f"{exc}; use mode=speech")
    if isinstance(exc, LookupError):
        return HTTPException(404, str(exc))
    return HTTPException(400, str(exc))


@router.get("/search", response_model=SearchOut, responses=_ERRORS)
async def search(services: ServicesDep, response: Response,
                 q: Annotated[str, Query(min_length=1, max_length=1000, description="what to find")],
                 k: K = 10, mode: Mode | None = None,
                 video: Annotated[list[Annotated[int, Field(ge=1, le=2**62)]] | None,
                                  Query(description="only these video ids")] = None,
                 path_prefix: Annotated[str | None, Query(max_length=4096)] = None,
                 tag: Annotated[list[str] | None, Query(description="only videos with all these tags")] = None,
                 after: Annotated[dt.datetime | None, Query(description="recorded on or after")] = None,
                 before: Annotated[dt.datetime | None, Query(description="recorded on or before")] = None,
                 min_duration: Annotated[float | None, Query(ge=0)] = None,
                 max_duration: Annotated[float | None, Query(ge=0)] = None,
                 per_video: Annotated[bool, Query(description="only the best moment of each video")] = False,
                 offset: Offset = 0, language: Language = None,
                 person: Annotated[int | None, Query(ge=1, le=2**62, description="only moments where this person "
                                                    "(GET /api/people) is seen")] = None,
                 ) -> SearchOut:
    """Moments that match a text, best first; optionally narrowed by metadata filters."""
    chosen = mode or services.settings.default_mode
    queries = services.queries
    filters = Filters.asked(video, path_prefix, tag, after, before, min_duration, max_duration, language, person)
    # The raw text is part of the key because the answer echoes it.
    key = services.answers.key(q, chosen, k, q, repr(filters), per_video, offset)
    body = services.answers.get(key)
    if body is not None:  # the answer as it was sent, marked cached: nothing to rank or serialise again
        services.metrics.cache.labels("result").inc()
        return Response(body, media_type="application/json", headers={"Server-Timing": _CACHED_TIMING})
    try:
        vectors, encode_s, cached = await queries.encode(q, chosen)
        started = time.perf_counter()
        moments = await services.run(services.searcher.search_vectors, vectors, chosen, k,
                                     filters=filters, per_video=per_video, keywords=q, offset=offset)
        chapters = await services.run(services.library.shown_chapters, {m.video_id for m in moments}) \
            if per_video and moments else None
        search_s = time.perf_counter() - started
    except (ValueError, LookupError, VisualSearchUnavailable) as exc:
        raise _client_error(exc) from exc
    services.metrics.cache.labels("vectors" if cached else "miss").inc()
    if not cached:
        services.metrics.encode.labels(chosen).observe(encode_s)
    answer = _answer(response, q, chosen, k, moments, encode_s, search_s, cached, offset, chapters)
    services.answers.put(key, answer.model_copy(update={"timings": Timings(encode_ms=0, search_ms=0, cached=True)})
                        .model_dump_json().encode())
    return answer


@router.get("/segments/{segment_id}/similar", response_model=SearchOut, responses=_ERRORS)
async def similar_segment(services: ServicesDep, response: Response, segment_id: SegmentId,
                          k: K = 10, mode: Mode | None = None, offset: Offset = 0,
                          language: Language = None) -> SearchOut:
    """Moments like an indexed one ("more like this"); the moment itself is left out."""
    chosen = mode or services.settings.default_mode
    started = time.perf_counter()
    try:
        moments = await services.run(services.searcher.similar_segment, segment_id, chosen, k, offset=offset,
                                     filters=Filters.asked(language=language))
    except (ValueError, LookupError, VisualSearchUnavailable) as exc:
        raise _client_error(exc) from exc
    return _answer(response, None, chosen, k, moments, 0.0, time.perf_counter() - started, offset=offset)


@router.post(
    "/similar", response_model=SearchOut,
    responses={**_ERRORS, 413: {"model": Message}, 415: {"model": Message}, 422: {"model": Problem}},
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": [FIELD],
        "properties": {FIELD: {"type": "string", "format": "binary",
                               "description": "a video clip or an image"}}}}}}},
)
async def similar_upload(services: ServicesDep, request: Request, response: Response,
                         k: K = 10, mode: Mode | None = None, language: Language = None) -> SearchOut:
    """Moments that look and sound like an uploaded clip or image (multipart field ``file``)."""
    import uuid

    chosen = mode or services.settings.default_mode
    limit = int(services.settings.upload_limit_mb * 2**20)
    path = await receive_upload(request, services.upload_dir, uuid.uuid4().hex, limit)
    try:
        started = time.perf_counter()
        try:
            vectors = await services.run(services.query_clips.vectors, path)
        except (RuntimeError, ValueError) as exc:
            raise HTTPException(422, f"cannot read the upload as a video or an image: "
                                     f"{str(exc).replace(str(path), 'the upload')}") from exc
        if not vectors:
            raise HTTPException(422, "nothing to search with in the upload: no frames CLIP can see, no speech")
        encode_s = time.perf_counter() - started
        started = time.perf_counter()
        try:
            moments = await services.run(services.searcher.search_vectors, vectors, chosen, k,
                                         filters=Filters.asked(language=language))
        except (ValueError, LookupError, VisualSearchUnavailable) as exc:
            raise _client_error(exc) from exc
        return _answer(response, None, chosen, k, moments, encode_s, time.perf_counter() - started)
    finally:
        path.unlink(missing_ok=True)
