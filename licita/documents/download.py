"""The HTTP response that serves a stored document: always a download, never rendered by the browser."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from django.http import HttpResponse

#: Headers that keep a browser from interpreting a download as a page of this site, whatever its content.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def _ascii_fallback(filename: str) -> str:
    """Return a plain-ASCII version of the name for clients that ignore `filename*` (no quotes, no controls)."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    cleaned = "".join(c if c.isprintable() and c not in '"\\;' else "_" for c in folded).strip()
    return cleaned or "document"


def content_disposition(filename: str) -> str:
    """Return an `attachment` Content-Disposition with the UTF-8 name (RFC 6266 / 5987) and an ASCII fallback."""
    return f"attachment; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_response(data: bytes, *, content_type: str, filename: str) -> HttpResponse:
    """Return `data` as an attachment of the given (sniffed) type, with headers that forbid rendering it."""
    response = HttpResponse(data, content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition(filename)
    for name, value in SAFE_HEADERS.items():
        response[name] = value
    return response
