"""Receiving a query clip or image: streamed to disk under a server-made name, with a size cap.

The body is parsed as it arrives (python-multipart's streaming parser), never held in memory,
and the upload stops with 413 as soon as it passes the limit, whether or not the client sent a
truthful Content-Length. The file is written under a random name in the data dir's
``uploads/`` folder; the client's file name only lends its extension (from a fixed list, which
tells an image from a video) and is otherwise ignored, so it cannot steer where anything goes.
"""
from __future__ import annotations

import os
from pathlib import Path

from fastapi import HTTPException, Request
from python_multipart.multipart import MultipartParser, parse_options_header

from indexer.scan import IMAGE_EXTENSIONS, MEDIA_EXTENSIONS

FIELD = "file"
_SLACK = 64 * 1024  # multipart boundaries and part headers around the file itself


class _Receiver:
    """Callbacks for the streaming parser: the ``file`` part goes to ``target``."""

    def __init__(self, target: Path, limit: int):
        self.target, self.limit = target, limit
        self.handle = None
        self.size = 0
        self.found = False
        self.suffix = ""
        self._headers: dict[bytes, bytes] = {}
        self._field = self._value = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._add("_field", data[start:end]),
            "on_header_value": lambda data, start, end: self._add("_value", data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
        }

    def _add(self, name: str, chunk: bytes) -> None:
        setattr(self, name, getattr(self, name) + chunk)

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if params.get(b"name") == FIELD.encode() and not self.found:
            self.found = True
            name = params.get(b"filename", b"").decode("utf-8", "replace")
            suffix = Path(name).suffix.lower()
            self.suffix = suffix if suffix in MEDIA_EXTENSIONS | IMAGE_EXTENSIONS else ""
            self.handle = open(self.target, "wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.handle is None:
            return
        self.size += end - start
        if self.size > self.limit:
            raise _TooLarge()
        self.handle.write(data[start:end])

    def _part_end(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


class _TooLarge(Exception):
    pass


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the upload is larger than the limit of {limit / 2**20:.0f} MiB "
                              "(VIDSEARCH_UPLOAD_LIMIT_MB); send a shorter clip or a still image")


async def receive_upload(request: Request, folder: Path, name: str, limit: int) -> Path:
    """Stream the multipart ``file`` field to ``folder/name + extension``; the saved path.

    Raises 413 past ``limit`` bytes, 415 for a body that is not multipart, 422 without a file.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _SLACK:
        raise too_large(limit)
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise HTTPException(415, f"send the clip or image as multipart/form-data in a field named '{FIELD}'")
    part = folder / f"{name}.part"
    receiver = _Receiver(part, limit)
    received = 0
    try:
        try:
            parser = MultipartParser(boundary, receiver.callbacks())
        except Exception as exc:
            raise HTTPException(400, f"bad multipart boundary: {exc}") from exc
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + _SLACK:
                raise _TooLarge()
            parser.write(chunk)
        parser.finalize()
    except _TooLarge:
        _discard(receiver, part)
        raise too_large(limit) from None
    except HTTPException:
        _discard(receiver, part)
        raise
    except Exception as exc:  # a malformed body
        _discard(receiver, part)
        raise HTTPException(400, f"the upload is not valid multipart/form-data: {exc}") from exc
    if receiver.handle is not None:  # the body ended inside the part
        _discard(receiver, part)
        raise HTTPException(400, "the upload ended before its file part did")
    if not receiver.found or not part.exists() or receiver.size == 0:
        _discard(receiver, part)
        raise HTTPException(422, f"no file in the upload: send it in a form field named '{FIELD}'")
    final = folder / f"{name}{receiver.suffix or '.bin'}"
    os.replace(part, final)
    return final


def _discard(receiver: _Receiver, part: Path) -> None:
    if receiver.handle is not None:
        receiver.handle.close()
        receiver.handle = None
    part.unlink(missing_ok=True)
