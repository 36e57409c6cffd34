"""Read-only mode: writes refused with a clear 503 and Retry-After, reads served, resumed by itself; capacity."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from licita.ops import capacity, state
from licita.ops.models import CapacitySample, Incident
from tests import factories
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"x" * 2000 + b"\n%%EOF\n"


def _doc(title: str = "Anexo técnico") -> dict[str, str]:
    return {
        "kind": "technicalSpecifications",
        "title": title,
        "filename": "anexo.pdf",
        "content_b64": base64.b64encode(PDF + title.encode()).decode(),
    }


@pytest.fixture
def office_procedure(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    return office, procedure


def test_a_write_while_read_only_is_refused_with_reason_since_and_retry_after(settings, office_procedure):
    settings.LICITA_READONLY_PROBE_SECONDS = 3600
    office, procedure = office_procedure
    api = ApiClient(office.operator)
    state.mark_unwritable(state.DOCUMENTS, "ENOSPC: No space left on device")
    before = procedure.documents.count()

    response = api.post(f"/procedures/{procedure.number}/documents", _doc())

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    body = response.json()
    assert body["code"] == "read_only"
    assert "ENOSPC" in body["message"]
    assert body["detail"]["reasons"] == {"documents": "ENOSPC: No space left on device"}
    assert procedure.documents.count() == before


def test_reads_go_on_and_every_response_says_read_only(client, settings, office_procedure):
    settings.LICITA_READONLY_PROBE_SECONDS = 3600
    _, procedure = office_procedure
    state.mark_unwritable(state.DATABASE, "disk I/O error")

    page = client.get(f"/procedimientos/{procedure.number}/")
    api = client.get(f"/api/procedures/{procedure.number}")

    assert page.status_code == 200
    assert "disk I/O error" in page.content.decode()
    assert 'class="read-only-banner"' in page.content.decode()
    assert api.status_code == 200
    assert api["X-Licita-Mode"] == "read-only"
    assert "disk I/O error" in api["X-Licita-Read-Only-Reason"]


def test_a_portal_form_post_while_read_only_gets_a_page_not_an_error(client, settings, office_procedure):
    settings.LICITA_READONLY_PROBE_SECONDS = 3600
    office, _ = office_procedure
    client.force_login(office.operator)
    state.mark_unwritable(state.DATABASE, "database or disk is full")

    response = client.post("/comprador/procedimientos/nuevo/", {"title": "x"})

    assert response.status_code == 503
    assert "database or disk is full" in response.content.decode()


def test_writes_resume_by_themselves_and_the_incident_is_recorded(settings, office_procedure):
    settings.LICITA_READONLY_PROBE_SECONDS = 0
    office, procedure = office_procedure
    api = ApiClient(office.operator)
    state.mark_unwritable(state.DOCUMENTS, "EROFS: Read-only file system")

    response = api.post(f"/procedures/{procedure.number}/documents", _doc())  # the probe finds the store writable

    assert response.status_code == 201
    assert state.current(fresh=True) is None
    incident = Incident.objects.get()
    assert incident.kind == Incident.Kind.READ_ONLY
    assert incident.components == ["documents"]
    assert "EROFS" in incident.reason
    assert incident.ended_at >= incident.started_at


def test_under_the_free_space_floor_writes_are_refused_and_reads_served(client, settings, office_procedure):
    office, procedure = office_procedure
    api = ApiClient(office.operator)
    free = min(v.free_bytes for v in capacity.volumes())
    settings.LICITA_MIN_FREE_BYTES = free + 2**30  # every volume is now under the floor
    settings.LICITA_READONLY_PROBE_SECONDS = 0

    refused = api.post(f"/procedures/{procedure.number}/documents", _doc())
    read = client.get(f"/procedimientos/{procedure.number}/")

    assert refused.status_code == 503
    assert "low disk space" in refused.json()["message"]
    assert read.status_code == 200

    settings.LICITA_MIN_FREE_BYTES = 0
    accepted = api.post(f"/procedures/{procedure.number}/documents", _doc("Otro anexo"))
    assert accepted.status_code == 201


def test_a_disk_filling_up_is_forecast_days_ahead(settings, frozen_clock):
    volume = {v.name: v for v in capacity.volumes()}["documents"]
    settings.LICITA_MIN_FREE_BYTES = volume.free_bytes - 10 * 2**30  # the floor is 10 GiB below what is free now
    settings.LICITA_CAPACITY_WARN_DAYS = 7
    now = frozen_clock.at
    # The last three days: 2 GiB consumed per day.
    CapacitySample.objects.bulk_create(
        CapacitySample(
            at=now - dt.timedelta(days=d),
            volume="documents",
            path=volume.path,
            free_bytes=volume.free_bytes + d * 2 * 2**30,
            total_bytes=volume.total_bytes,
        )
        for d in (3, 2, 1)
    )

    forecast = {f.volume: f for f in capacity.forecasts()}["documents"]

    assert forecast.bytes_per_day == pytest.approx(2 * 2**30, rel=0.05)
    assert forecast.days_left == pytest.approx(5, rel=0.05)
    assert forecast.warn is True


def test_a_stable_disk_is_not_forecast_to_fill(frozen_clock):
    volume = {v.name: v for v in capacity.volumes()}["documents"]
    CapacitySample.objects.bulk_create(
        CapacitySample(
            at=frozen_clock.at - dt.timedelta(days=d),
            volume="documents",
            path=volume.path,
            free_bytes=volume.free_bytes,
            total_bytes=volume.total_bytes,
        )
        for d in (2, 1)
    )

    forecast = {f.volume: f for f in capacity.forecasts()}["documents"]

    assert forecast.days_left is None
    assert forecast.warn is False


def test_health_is_200_when_read_only_and_says_so(client, settings):
    settings.LICITA_READONLY_PROBE_SECONDS = 3600
    ok = client.get("/salud/").json()
    state.mark_unwritable(state.DOCUMENTS, "EIO: Input/output error")

    read_only = client.get("/salud/")

    assert ok == {"status": "ok", "reads": True, "writes": True}
    assert read_only.status_code == 200
    assert read_only.json()["status"] == "read_only"
    assert read_only.json()["read_only"]["reasons"] == {"documents": "EIO: Input/output error"}


def test_metrics_expose_requests_read_only_free_space_and_queue(client, settings):
    settings.LICITA_READONLY_PROBE_SECONDS = 3600
    client.get("/salud/")
    state.mark_unwritable(state.DOCUMENTS, "EIO")

    text = client.get("/metrics").content.decode()

    assert "licita_read_only 1.0" in text
    assert 'licita_volume_free_bytes{volume="documents"}' in text
    assert "licita_feed_queue_depth" in text
    assert 'licita_http_requests_total{method="GET",status="2xx"}' in text
    assert "licita_http_request_duration_seconds_bucket" in text


def test_status_page_shows_the_state_free_space_and_incidents(client, settings, frozen_clock):
    Incident.objects.create(
        kind=Incident.Kind.READ_ONLY,
        started_at=frozen_clock.at - dt.timedelta(hours=2),
        ended_at=frozen_clock.at - dt.timedelta(hours=1),
        components=["documents"],
        reason="documents: ENOSPC: No space left on device",
    )
    capacity.sample(force=True)
    frozen_clock.move(hours=2)
    capacity.sample(force=True)

    page = client.get("/estado/").content.decode()

    assert "ENOSPC: No space left on device" in page
    assert "<svg" in page  # the free-space history, drawn
