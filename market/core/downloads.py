"""Responses that send a file, named so that every server and browser accepts the name.

HTTP header values are Latin-1 on the wire: a Chinese file name put into
``Content-Disposition`` as it is makes gunicorn refuse the response and waitress raise
``UnicodeEncodeError``. Every route that sends a file goes through ``send`` here, which
names it twice (RFC 6266): ``filename*=UTF-8''…`` percent-encoded (RFC 5987) for every
current browser, and a plain ASCII ``filename="…"`` for the rest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file

# RFC 5987 attr-char: what may stand unencoded in filename*.
_ATTR_CHARS = "!#$&+-.^_`|~"
# Path separators and characters no file system or header should see, in any name.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")
MAX_STEM = 120


def clean_name(filename: str) -> str:
    """``filename`` without path separators, control and reserved characters, not too long.

    Whatever the records it was built from contain (a course title with a slash, a
    line break), the result is one harmless file name; an empty one becomes "download".
    """
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    stem = _UNSAFE.sub("-", stem).strip(" .-")[:MAX_STEM] or "download"
    ext = _UNSAFE.sub("", ext)
    return f"{stem}.{ext}" if ext else stem


def ascii_name(filename: str) -> str:
    """The fallback name: letters with accents lose them, other characters become "-"."""
    stem, dot, ext = clean_name(filename).rpartition(".")
    if not dot:
        stem, ext = clean_name(filename), ""
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    plain = _NOT_PLAIN.sub("-", plain).strip("-.") or "download"
    ext = _NOT_PLAIN.sub("", ext)
    return f"{plain}.{ext}" if ext else plain


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """The ``Content-Disposition`` value naming ``filename``: ASCII only, always."""
    name = clean_name(filename)
    encoded = quote(name, safe=_ATTR_CHARS)
    return f"{disposition}; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{encoded}"


def send(
    content: bytes | Iterable[str] | Iterable[bytes] | Path,
    filename: str,
    mimetype: str,
    max_age: int | None = None,
) -> Response:
    """A response that downloads ``content`` as ``filename``.

    ``content`` is the file's bytes, an iterable of chunks (streamed; wrap it in
    ``stream_with_context`` if it reads the database), or a path on disk (sent with
    conditional-request support and cached for ``max_age`` seconds).
    """
    if isinstance(content, Path):
        response = send_file(content, mimetype=mimetype, max_age=max_age)
    else:
        response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response
