"""People: who appears across the archive (list, name, merge, split, forget), their faces, and
search by an uploaded photo of a face."""
from __future__ import annotations

import time
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path as PathParam, Query, Request, Response

from core.errors import InvalidInput, NotFound, Unavailable
from core.people import PeopleStore

from ..deps import KeyDep, ServicesDep
from ..schemas import Message, PersonMerge, PersonName, PersonOut, PersonSplit, Problem, SearchOut
from ..uploads import FIELD, receive_upload
from .search import K, _answer

router = APIRouter(prefix="/api", tags=["people"], dependencies=[KeyDep])

PersonId = Annotated[int, PathParam(ge=1, le=2**62)]
AppearanceId = Annotated[int, PathParam(ge=1, le=2**62)]
_ERRORS = {400: {"model": Message}, 404: {"model": Message}}


def _person_out(row) -> PersonOut:
    still = f"/api/faces/{row.still_appearance}/still" if row.still_appearance else None
    return PersonOut(id=row.id, name=row.name, label=row.label(), appearances=row.appearances, videos=row.videos,
                     still_url=still)


async def _change(services, work, *args):
    """Run a change of people; a user's mistake is a 400 or a 404, and cached answers go."""
    try:
        result = await services.run(work, *args)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except InvalidInput as exc:
        raise HTTPException(400, str(exc)) from exc
    services.answers.invalidate()
    return result


@router.get("/people", response_model=list[PersonOut])
async def people(services: ServicesDep) -> list[PersonOut]:
    """Everyone whose face appears in indexed videos, most appearances first."""
    return [_person_out(r) for r in await services.run(PeopleStore(services.library).list)]


@router.get("/people/{person_id}/moments", response_model=SearchOut, responses=_ERRORS)
async def person_moments(services: ServicesDep, response: Response, person_id: PersonId,
                         k: Annotated[int, Query(ge=1, le=1000)] = 200) -> SearchOut:
    """Every appearance of a person (one moment each), by video and time."""
    from search.faces import moments_of_person

    started = time.perf_counter()
    moments = await services.run(moments_of_person, services.library, person_id, k)
    if not moments and person_id not in {r.id for r in await services.run(PeopleStore(services.library).list)}:
        raise HTTPException(404, f"there is no person {person_id}")
    return _answer(response, None, "face", k, moments, 0.0, time.perf_counter() - started)


@router.put("/people/{person_id}/name", response_model=list[PersonOut], responses=_ERRORS)
async def name_person(services: ServicesDep, person_id: PersonId, body: PersonName) -> list[PersonOut]:
    await _change(services, PeopleStore(services.writer).name, person_id, body.name)
    return await people(services)


@router.post("/people/{person_id}/merge", response_model=list[PersonOut], responses=_ERRORS)
async def merge_people(services: ServicesDep, person_id: PersonId, body: PersonMerge) -> list[PersonOut]:
    """``other`` is the same person: its appearances become this one's."""
    await _change(services, PeopleStore(services.writer).merge, person_id, body.other)
    return await people(services)


@router.post("/people/{person_id}/split", response_model=list[PersonOut], responses=_ERRORS)
async def split_person(services: ServicesDep, person_id: PersonId, body: PersonSplit) -> list[PersonOut]:
    """One appearance is someone else: it becomes a person of its own."""
    await _change(services, PeopleStore(services.writer).split, person_id, body.appearance)
    return await people(services)


@router.delete("/people/{person_id}", response_model=list[PersonOut], responses=_ERRORS)
async def forget_person(services: ServicesDep, person_id: PersonId) -> list[PersonOut]:
    """Delete a person with its appearances' face descriptors and stills."""
    await _change(services, PeopleStore(services.writer).forget, person_id)
    return await people(services)


@router.get("/faces/{appearance_id}/still", response_class=Response,
            responses={404: {"model": Message}, 200: {"content": {"image/jpeg": {}}}})
async def face_still(services: ServicesDep, appearance_id: AppearanceId) -> Response:
    """The face of one appearance, as a small JPEG."""
    still = await services.run(PeopleStore(services.library).still, appearance_id)
    if not still:
        raise HTTPException(404, f"there is no face appearance {appearance_id}")
    return Response(still, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.post(
    "/similar/face", response_model=SearchOut,
    responses={**_ERRORS, 413: {"model": Message}, 415: {"model": Message}, 422: {"model": Problem},
               503: {"model": Message}},
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": [FIELD],
        "properties": {FIELD: {"type": "string", "format": "binary", "description": "a photo of a face"}}}}}}},
)
async def similar_face(services: ServicesDep, request: Request, response: Response, k: K = 10) -> SearchOut:
    """The moments where the person in an uploaded photo appears (multipart field ``file``), one
    per appearance, nearest first; nobody for a face that is in no video."""
    from search.faces import moments_with_face, photo_face

    limit = int(services.settings.upload_limit_mb * 2**20)
    path = await receive_upload(request, services.upload_dir, uuid.uuid4().hex, limit)
    try:
        started = time.perf_counter()
        try:
            descriptor, note = await services.run(lambda: photo_face(services.faces, path))
        except InvalidInput as exc:
            raise HTTPException(422, str(exc).replace(str(path), "the upload")) from exc
        except Unavailable as exc:
            raise HTTPException(503, str(exc)) from exc
        if note:
            response.headers["X-Vidsearch-Note"] = note.replace(str(path), "the upload")
        encode_s = time.perf_counter() - started
        started = time.perf_counter()
        moments = await services.run(moments_with_face, services.library, descriptor,
                                     services.settings.face_match, k)
        return _answer(response, None, "face", k, moments, encode_s, time.perf_counter() - started)
    finally:
        path.unlink(missing_ok=True)
