"""`licita demo --outage` (continuity.demo.replay) on a small data set: every path of the story runs."""

from __future__ import annotations

import pytest

from licita.continuity import demo
from licita.continuity.models import ContingencyProcedure, Outage, UploadStatus
from licita.procurement.models import Provenance
from licita.publication.models import Release
from licita.publication.schema import validate_release
from tests.factories import make_office, make_supplier

pytestmark = pytest.mark.django_db


def test_replay_registers_backcaptures_and_leaves_the_missing_ones(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    offices = sorted((make_office() for _ in range(3)), key=lambda o: o.unit.key)
    for _ in range(6):
        make_supplier()
    lines: list[str] = []

    outage = demo.replay(lines.append)

    assert Outage.objects.get() == outage
    assert outage.ended_at is not None
    by_unit = {
        o.unit.key: sorted(
            (i.ref, i.upload_status) for i in ContingencyProcedure.objects.filter(unit=o.unit, outage=outage)
        )
        for o in offices
    }
    assert list(by_unit.values()) == [
        [("CONT-01", UploadStatus.COMPLETE), ("CONT-02", UploadStatus.COMPLETE)],
        [("CONT-01", UploadStatus.PARTIAL), ("CONT-02", UploadStatus.MISSING)],
        [("CONT-01", UploadStatus.MISSING), ("CONT-02", UploadStatus.MISSING)],
    ]
    tender = ContingencyProcedure.objects.get(unit=offices[0].unit, ref="CONT-01").procedure
    assert (tender.procedure_type, tender.provenance) == ("licitacion", Provenance.CONTINGENCY)
    assert tender.bids.count() == 2
    assert tender.documents.count() == 1
    releases = list(Release.objects.filter(procedure=tender).order_by("id"))
    for release in releases:
        validate_release(release.data)
        assert release.data["date"] < release.data["publishedDate"]  # acts dated when they happened
    assert (tmp_path / "demo" / f"contingencia-{offices[1].unit.key}.json").is_file()
    assert any("licitación held in person" in line for line in lines)
