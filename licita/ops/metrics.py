"""Prometheus metrics: requests and latency (counted here), and gauges read when scraped.

Request counters are per process (gunicorn workers each count their own; with several workers, set
PROMETHEUS_MULTIPROC_DIR as prometheus_client documents). The gauges — read-only mode, free space and
days left, the feed's queue of releases waiting for a sequence number, blobs waiting for the replica,
PostgreSQL replica lag, the last scrub and drill, the ledger — are computed from the database and the
file systems at each scrape, so every worker answers the same.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("licita_http_requests", "HTTP requests answered", ["method", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "licita_http_request_duration_seconds",
    "Time to answer a request",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


def observe(request: HttpRequest, response: HttpResponse, seconds: float) -> None:
    """Count one answered request."""
    method = request.method if request.method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} else "OTHER"
    REQUESTS.labels(method, f"{response.status_code // 100}xx").inc()
    LATENCY.labels(method).observe(seconds)


class PlatformCollector(Collector):
    """Gauges computed at scrape time."""

    def describe(self) -> list[Metric]:
        """Describe nothing up front: registering must not query the database (it happens at import)."""
        return []

    def collect(self) -> Iterator[Metric]:
        from licita.ledger.models import Checkpoint, Head  # noqa: PLC0415
        from licita.ops import capacity, state  # noqa: PLC0415
        from licita.publication.models import Release  # noqa: PLC0415

        current = state.current()
        yield GaugeMetricFamily("licita_read_only", "1 while the platform refuses writes", value=1 if current else 0)
        free = GaugeMetricFamily("licita_volume_free_bytes", "Free bytes on the volume", labels=["volume"])
        days = GaugeMetricFamily(
            "licita_volume_days_to_floor",
            "Days until free space reaches the floor, at the last week's rate",
            labels=["volume"],
        )
        with contextlib.suppress(DatabaseError, OSError):
            for forecast in capacity.forecasts():
                free.add_metric([forecast.volume], forecast.free_bytes)
                if forecast.days_left is not None:
                    days.add_metric([forecast.volume], forecast.days_left)
        yield free
        yield days
        yield GaugeMetricFamily(
            "licita_volume_floor_bytes", "Free space under which writes are refused", value=capacity.floor_bytes()
        )
        with contextlib.suppress(DatabaseError):
            yield GaugeMetricFamily(
                "licita_feed_queue_depth",
                "Releases committed but not yet given a feed sequence number",
                value=Release.objects.filter(seq__isnull=True).count(),
            )
            head = Head.objects.filter(pk=1).values_list("size", flat=True).first() or 0
            yield GaugeMetricFamily("licita_ledger_leaves", "Entries in the public ledger", value=head)
            last = Checkpoint.objects.order_by("-size").values_list("size", "created_at").first()
            if last is not None:
                yield GaugeMetricFamily(
                    "licita_ledger_checkpoint_size", "Size of the latest checkpoint", value=last[0]
                )
        lag = _replica_lag()
        if lag is not None:
            yield GaugeMetricFamily("licita_replica_lag_seconds", "PostgreSQL standby replay lag", value=lag)
        yield from _optional_model_gauges()


def _replica_lag() -> float | None:
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(EXTRACT(EPOCH FROM replay_lag)) FROM pg_stat_replication")
            row = cursor.fetchone()
    except DatabaseError:
        return None
    return float(row[0]) if row and row[0] is not None else None


def _optional_model_gauges() -> Iterator[Metric]:
    """Gauges of the scrubber and the restore drills, when those records exist."""
    for label, model_name in (("scrub", "ScrubRun"), ("drill", "Drill")):
        for app_label in ("documents", "ops"):
            try:
                model: Any = apps.get_model(app_label, model_name)
            except LookupError:
                continue
            with contextlib.suppress(DatabaseError, AttributeError, TypeError):
                last = model.objects.order_by("-pk").first()
                if last is None:
                    continue
                for field in model._meta.get_fields():  # noqa: SLF001
                    value = getattr(last, field.name, None)
                    if isinstance(value, bool):
                        value = int(value)
                    if isinstance(value, int | float) and field.name not in {"id", "pk"}:
                        yield GaugeMetricFamily(
                            f"licita_{label}_last_{field.name}", f"Last {label}: {field.name}", value=value
                        )


REGISTRY.register(PlatformCollector())


def exposition() -> bytes:
    """Return the metrics in Prometheus' text format."""
    return generate_latest(REGISTRY)
