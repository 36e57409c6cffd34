"""Middleware: refuse writes in read-only mode (reads go on), say so on every response, count requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from licita.ops import metrics, state

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: POSTs that write nothing: always allowed.
READ_ONLY_POSTS = ("/api/ledger/receipts/verify", "/bitacora/", "/i18n/setlang/")
#: POSTs that write only the session (in the database): allowed when only the document store is down.
SESSION_POSTS = ("/cuenta/entrar/", "/cuenta/salir/")
RETRY_AFTER = "60"


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")[:500]


def message(current: state.State) -> str:
    """Return the sentence shown to users while the platform is read-only."""
    return _(
        "Licita is in read-only mode since %(since)s: %(reason)s. You can consult everything; "
        "nothing can be submitted or changed until it clears (it does by itself)."
    ) % {"since": current.since_at.strftime("%Y-%m-%d %H:%M UTC"), "reason": current.reason}


def refusal(request: HttpRequest, current: state.State) -> HttpResponse:
    """Return the 503 that answers a write while read-only (JSON for the API, a page for the portal)."""
    detail = {"since": current.since, "reasons": current.reasons}
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "read_only", "message": message(current), "detail": detail}, status=503
        )
    else:
        response = render(
            request, "ops/read_only.html", {"read_only": current, "message": message(current)}, status=503
        )
    response["Retry-After"] = RETRY_AFTER
    return response


def _allowed(request: HttpRequest, current: state.State) -> bool:
    if request.method in SAFE_METHODS or request.path.startswith(READ_ONLY_POSTS):
        return True
    return state.DATABASE not in current.reasons and request.path.startswith(SESSION_POSTS)


class ReadOnlyMiddleware:
    """Refuse writes while the platform cannot take them, and mark every response with the mode."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        current = state.current()
        if current is not None:
            current = state.probe()  # at most every few seconds: writes resume by themselves
        elif request.method not in SAFE_METHODS:
            current = state.check_floor()
        request.licita_read_only = current  # type: ignore[attr-defined]
        if current is not None and not _allowed(request, current):
            response = refusal(request, current)
        else:
            response = self.get_response(request)
            current = state.current()
        if response.status_code == 503 and not response.has_header("Retry-After"):
            response["Retry-After"] = RETRY_AFTER  # every "not now" says when to try again
        if current is not None:
            response["X-Licita-Mode"] = "read-only"
            response["X-Licita-Read-Only-Since"] = current.since
            response["X-Licita-Read-Only-Reason"] = _ascii(current.reason)
        metrics.observe(request, response, time.perf_counter() - started)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Turn a write fault of the database into read-only mode and a clear 503 (never a 500)."""
        if isinstance(exception, DatabaseError) and state.note_failure(state.DATABASE, exception):
            current = state.current(fresh=True)
            if current is not None:
                return refusal(request, current)
        return None


def read_only_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: the read-only state, so that every page shows the banner."""
    current = getattr(request, "licita_read_only", None)
    return {"read_only": current, "read_only_message": message(current) if current else ""}
