"""Voices: who is heard across the archive (list, name, forget), and search by an uploaded
recording of a voice."""
from __future__ import annotations

import time
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path as PathParam, Request, Response

from core.errors import InvalidInput, Unavailable
from core.voices import VoiceStore

from ..deps import KeyDep, ServicesDep
from ..schemas import Message, PersonName, PersonRef, Problem, SearchOut, VoiceOut
from ..uploads import FIELD, receive_upload
from .people import _change
from .search import K, _answer

router = APIRouter(prefix="/api", tags=["voices"], dependencies=[KeyDep])

VoiceId = Annotated[int, PathParam(ge=1, le=2**62)]
_ERRORS = {400: {"model": Message}, 404: {"model": Message}}


@router.get("/voices", response_model=list[VoiceOut])
async def voices(services: ServicesDep) -> list[VoiceOut]:
    """Every voice heard in indexed videos, most heard first."""
    rows = await services.run(VoiceStore(services.library).list)
    return [VoiceOut(id=r.id, name=r.name, label=r.label(), person=PersonRef(**r.person) if r.person else None,
                     videos=r.videos, seconds=r.seconds) for r in rows]


@router.put("/voices/{voice_id}/name", response_model=list[VoiceOut], responses=_ERRORS)
async def name_voice(services: ServicesDep, voice_id: VoiceId, body: PersonName) -> list[VoiceOut]:
    """Name a voice: transcripts then say who speaks."""
    await _change(services, VoiceStore(services.writer).name, voice_id, body.name)
    return await voices(services)


@router.delete("/voices/{voice_id}", response_model=list[VoiceOut], responses=_ERRORS)
async def forget_voice(services: ServicesDep, voice_id: VoiceId) -> list[VoiceOut]:
    """Delete a voice with its speakers' vectors and turns."""
    await _change(services, VoiceStore(services.writer).forget, voice_id)
    return await voices(services)


@router.post(
    "/similar/voice", response_model=SearchOut,
    responses={**_ERRORS, 413: {"model": Message}, 415: {"model": Message}, 422: {"model": Problem},
               503: {"model": Message}},
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": [FIELD],
        "properties": {FIELD: {"type": "string", "format": "binary", "description": "a recording of a voice"}}}}}}},
)
async def similar_voice(services: ServicesDep, request: Request, response: Response, k: K = 10) -> SearchOut:
    """The moments where the voice in an uploaded recording speaks (multipart field ``file``), one
    per turn, nearest first; nothing for a voice that is in no video."""
    from indexer.query_clip import recording_voice_of
    from search.voices import moments_with_voice

    limit = int(services.settings.upload_limit_mb * 2**20)
    path = await receive_upload(request, services.upload_dir, uuid.uuid4().hex, limit)
    try:
        started = time.perf_counter()
        try:
            vector = await services.run(recording_voice_of, path, services.settings)
        except InvalidInput as exc:
            raise HTTPException(422, str(exc).replace(str(path), "the upload")) from exc
        except Unavailable as exc:
            raise HTTPException(503, str(exc)) from exc
        encode_s = time.perf_counter() - started
        started = time.perf_counter()
        moments = await services.run(moments_with_voice, services.library, vector, services.settings.voice_match, k)
        return _answer(response, None, "voice", k, moments, encode_s, time.perf_counter() - started)
    finally:
        path.unlink(missing_ok=True)
