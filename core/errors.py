"""What a user can fix, as one family of exceptions: everything else is a bug.

The CLI prints a ``VidsearchError`` as one line and exits with status 2; the service answers it
with a 4xx. Any other exception is a defect of vidsearch, and shows its traceback (``-v``). The
subclasses also derive from the built-in they refine, so code that catches ``ValueError`` or
``LookupError`` keeps working.
"""
from __future__ import annotations


class VidsearchError(Exception):
    """Something the user can fix; the message says what and how."""


class InvalidInput(VidsearchError, ValueError):
    """A query, a parameter or a file the user gave is not usable."""


class NotFound(VidsearchError, LookupError):
    """A video, segment, job, file or vector the user named does not exist."""


class Unavailable(VidsearchError, RuntimeError):
    """A model, an optional package or a service the request needs cannot be had here."""


class StoreUnavailable(Unavailable):
    """The vector store (a server) stopped answering. An indexing run stops rather than record
    every later file as failed: the catalog keeps what was written, and the next open of the
    library gives the store what it missed."""
