"""Health (for load balancers), metrics (for Prometheus) and the public status page."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from licita.documents import scrub
from licita.ops import backup, capacity, metrics, state
from licita.ops.models import Incident
from licita.portal import charts


def _database_readable() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return None


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 while the platform serves reads (read-only included, said in the body); 503 when it cannot read."""
    problem = _database_readable()
    current = state.current()
    body: dict[str, Any] = {
        "status": "down" if problem else ("read_only" if current else "ok"),
        "reads": problem is None,
        "writes": problem is None and current is None,
    }
    if problem:
        body["database"] = problem
    if current:
        body["read_only"] = {"since": current.since, "reasons": current.reasons}
    return JsonResponse(body, status=503 if problem else 200)


@never_cache
def prometheus(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition."""
    return HttpResponse(metrics.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


def status_page(request: HttpRequest) -> HttpResponse:
    """Public status: current state, free space with its forecast, incidents, last scrub and drill."""
    from licita.ops.models import CapacitySample  # noqa: PLC0415

    current = state.current()
    forecasts = []
    try:
        for f in capacity.forecasts():
            samples = list(
                CapacitySample.objects.filter(volume=f.volume).order_by("-at").values_list("at", "free_bytes")[:200]
            )[::-1]
            chart = (
                charts.line_chart(
                    [(f"{at:%Y-%m-%d %H:%M}", round(free / 2**30, 2)) for at, free in samples],
                    title=_("Free space of the %(volume)s volume, GiB") % {"volume": f.volume},
                    fmt=lambda v: f"{v:,.2f} GiB",
                )
                if len(samples) > 1
                else None
            )
            forecasts.append(
                {"f": f, "chart": chart, "free_gib": f.free_bytes / 2**30, "total_gib": f.total_bytes / 2**30}
            )
        incidents = list(Incident.objects.all()[:50])
        last_scrub = scrub.latest()
        last_drill = backup.drill_last()
    except DatabaseError:
        incidents, last_scrub, last_drill = [], None, None
    return render(
        request,
        "ops/status.html",
        {
            "nav": "status",
            "current": current,
            "forecasts": forecasts,
            "incidents": incidents,
            "floor_mib": capacity.floor_bytes() // 2**20,
            "database_problem": _database_readable(),
            "last_scrub": last_scrub,
            "last_drill": last_drill,
        },
    )


urlpatterns: list[URLPattern] = [
    path("salud/", health, name="health"),
    path("healthz", health),
    path("metrics", prometheus, name="metrics"),
    path("estado/", status_page, name="status"),
]
