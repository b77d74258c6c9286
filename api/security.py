"""Who may call the service and what it may touch: API keys, exposure, allowed roots.

* **API key**: when ``VIDSEARCH_API_KEY`` is set, every ``/api`` call and ``/metrics`` needs it,
  in the ``X-API-Key`` header or in the cookie the page gets from ``POST /api/session`` (an
  ``<img>`` or ``<video>`` element cannot send headers). No key: 401; a wrong one: 403.
* **Exposure**: ``vidsearch serve`` refuses a non-loopback address without a key
  (``check_exposure``); an open search API on a LAN hands out the archive.
* **Allowed roots**: indexing over HTTP only reaches folders under ``VIDSEARCH_ALLOWED_ROOTS``,
  checked on fully resolved paths so ``..`` and symlinks cannot step outside.
"""
from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

from fastapi import HTTPException, Request

from core.settings import Settings

HEADER = "X-API-Key"
COOKIE = "vidsearch_key"


def key_matches(settings: Settings, given: str | None) -> bool:
    expected = settings.api_key or ""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def check_key(settings: Settings, request: Request) -> None:
    """Raise 401/403 unless the request carries the configured key (no key configured: open)."""
    if not settings.api_key:
        return
    given = request.headers.get(HEADER) or request.cookies.get(COOKIE)
    if not given:
        raise HTTPException(401, f"an API key is required: send it in the {HEADER} header",
                            headers={"WWW-Authenticate": "ApiKey"})
    if not key_matches(settings, given):
        raise HTTPException(403, "the API key is not valid")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, so treat it as exposed


def check_exposure(host: str, settings: Settings) -> None:
    """Refuse to serve beyond this machine without an API key."""
    if not is_loopback(host) and not settings.api_key:
        raise PermissionError(
            f"refusing to listen on {host} without an API key: anyone who can reach it could read "
            "the archive; set VIDSEARCH_API_KEY (clients send it as X-API-Key), or use --host 127.0.0.1"
        )


def resolve_under_roots(raw: str, settings: Settings) -> Path:
    """``raw`` resolved (symlinks and ``..`` followed), if it lies under an allowed root.

    Raises ``PermissionError`` naming the cause otherwise; the path need not exist (the
    indexer then reports it as missing).
    """
    if not settings.allowed_roots:
        raise PermissionError(
            "indexing over the API is off: set VIDSEARCH_ALLOWED_ROOTS to the folders it may index "
            '(a JSON list, e.g. ["/archive"])'
        )
    if not raw or "\x00" in raw:
        raise PermissionError("the path is empty or holds a NUL character")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise PermissionError(f"{raw!r} is not an absolute path")
    resolved = path.resolve()
    for root in settings.allowed_roots:
        root = Path(root).expanduser().resolve()
        if resolved == root or root in resolved.parents:
            return resolved
    roots = ", ".join(str(r) for r in settings.allowed_roots)
    raise PermissionError(f"{raw} is outside the folders this server may index ({roots})")
