"""Typed dependencies: how routes get the services and how the API key is checked.

Routes declare ``services: ServicesDep``; the object comes from the app's lifespan (``app.state``),
so tests and the server build it the same way, and nothing is global.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader

from .security import COOKIE, HEADER, check_key
from .services import Services

_header = APIKeyHeader(name=HEADER, auto_error=False, description="the server's API key")
_cookie = APIKeyCookie(name=COOKIE, auto_error=False, description="set by POST /api/session")


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def require_key(request: Request, services: ServicesDep,
                _h: Annotated[str | None, Security(_header)] = None,
                _c: Annotated[str | None, Security(_cookie)] = None) -> None:
    """401 without a key, 403 with a wrong one; open when no key is configured."""
    check_key(services.settings, request)


KeyDep = Depends(require_key)
