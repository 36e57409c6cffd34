"""Refuse a NUL character in a request's path, query or form before anything reads the database with it.

PostgreSQL cannot hold NUL in text: a lookup by a URL part or a search term containing one would fail deep in a
view. Here the request is answered 400 naming where the character is (JSON for the API, a short page otherwise).
Other control characters are refused by the fields that store text (`licita.core.text.text_field`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _nul_in(request: HttpRequest) -> str | None:
    """Return the name of the first part of the request holding a NUL character, or None."""
    if "\x00" in request.path:
        return "path"
    sources: list[tuple[str, Iterable[tuple[str, list[str]]]]] = [("query", request.GET.lists())]
    if request.method == "POST" and request.content_type in FORM_TYPES:
        sources.append(("form", request.POST.lists()))
    for _where, items in sources:
        for key, values in items:
            if "\x00" in key or any("\x00" in value for value in values):
                return key.replace("\x00", "\\0")
    return None


class RefuseNulMiddleware:
    """Answer 400 to a request with a NUL character in its path, query parameters or form fields."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_in(request)
        if field is None:
            return self.get_response(request)
        message = _("%(field)s contains a NUL character, which is not accepted") % {"field": field}
        if request.path.startswith("/api/"):
            detail = {"field": field, "rule": "text"}
            return JsonResponse({"code": "invalid", "message": message, "detail": detail}, status=400)
        body = f"<!doctype html><title>400</title><h1>400</h1><p>{escape(message)}</p>"
        return HttpResponse(body, status=400, content_type="text/html; charset=utf-8")
