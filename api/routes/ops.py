"""Operations: health, Prometheus metrics, and the page's key session."""
from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response

from ..deps import KeyDep, ServicesDep
from ..schemas import Health, Message
from ..security import COOKIE, HEADER, key_matches

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz(services: ServicesDep) -> Health:
    """Liveness and what is loaded; open without a key (it tells counts, never content)."""
    counts = await services.run(services.library.counts)
    return Health(status="ok", videos=counts.indexed, segments=counts.segments, vectors=counts.vectors,
                  visual=services.encoders.clip is not None, clip_error=services.encoders.clip_error,
                  uptime_s=round(time.time() - services.started, 1))


@router.get("/metrics", dependencies=[KeyDep], response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text format: request latency, query encoding, index size, jobs."""
    return Response(services.metrics.render(), media_type=services.metrics.content_type)


@router.post("/api/session", status_code=204, responses={401: {"model": Message}, 403: {"model": Message}})
async def open_session(services: ServicesDep, request: Request,
                       key: Annotated[str | None, Header(alias=HEADER)] = None) -> Response:
    """Trade the key (header) for an HttpOnly cookie, so the page's images and player can load."""
    if not services.settings.api_key:
        return Response(status_code=204)
    if not key:
        raise HTTPException(401, f"send the API key in the {HEADER} header")
    if not key_matches(services.settings, key):
        raise HTTPException(403, "the API key is not valid")
    response = Response(status_code=204)
    response.set_cookie(COOKIE, key, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/")
    return response
