"""`licita demo`: a realistic data set in every stage, built through the services, in one transaction."""

from __future__ import annotations

import json
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from licita.accounts.models import Institution, PersonType, Supplier, User
from licita.bidding.models import BidLot
from licita.core import clock
from licita.core.errors import ValidationError
from licita.procurement import services as proc
from licita.procurement.models import (
    Clarification,
    Contract,
    ContractAmendment,
    ContractStatus,
    LegalBasis,
    Procedure,
    ProcedureType,
    Status,
    TenderAmendment,
)


def _counts() -> dict[str, int]:
    return {
        "institutions": Institution.objects.count(),
        "suppliers": Supplier.objects.count(),
        "users": User.objects.count(),
        "procedures": Procedure.objects.count(),
        "contracts": Contract.objects.count(),
    }


@pytest.mark.django_db
def test_demo_builds_every_type_and_stage(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()

    call_command("demo", stdout=out)

    assert clock._override is None
    assert Supplier.objects.count() >= 40
    assert Supplier.objects.filter(person_type=PersonType.PERSON).exists()
    assert Institution.objects.count() >= 6
    assert set(Procedure.objects.values_list("procedure_type", flat=True)) == set(ProcedureType.values)
    assert set(Procedure.objects.values_list("status", flat=True)) == set(Status.values)
    direct = Procedure.objects.filter(procedure_type=ProcedureType.DIRECT_AWARD)
    assert direct.filter(legal_basis=LegalBasis.AMOUNT).exists()
    assert direct.filter(legal_basis=LegalBasis.EXCEPTION).exclude(justification="").exists()
    deserted = Procedure.objects.filter(status=Status.DESERTED)
    assert deserted.exists()
    for procedure in deserted:
        rows = BidLot.objects.filter(bid__procedure=procedure).values_list("compliant", "disqualification_reason")
        assert rows, procedure.number
        assert all(not compliant and reason for compliant, reason in rows), procedure.number
    assert Procedure.objects.filter(status=Status.CANCELLED).exclude(cancellation_reason="").exists()
    assert ContractAmendment.objects.exists()
    assert Contract.objects.filter(status=ContractStatus.COMPLETED).exists()
    assert TenderAmendment.objects.filter(new_deadline__gt=F("previous_deadline")).exists()
    assert Clarification.objects.exclude(answer="").exists()
    open_now = Procedure.objects.filter(status=Status.PUBLISHED)
    assert open_now.exists()
    assert all(p.is_open_for_bids(clock.now()) for p in open_now)

    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("licita-demo-2026")
    keys_file = tmp_path / "demo" / "custodian-keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert "auditor" in json.loads(keys_file.read_text())["custodians"]
    assert str(keys_file) in out.getvalue()

    before = _counts()
    second = StringIO()
    call_command("demo", "--if-empty", stdout=second)
    assert "nothing done" in second.getvalue()
    assert _counts() == before
    with pytest.raises(CommandError, match="already has data"):
        call_command("demo", stdout=StringIO())
    assert _counts() == before


@pytest.mark.django_db
def test_demo_failure_leaves_nothing_and_releases_the_clock(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path

    def refuse(**_kwargs):
        raise ValidationError("refused for the test", field="contract", rule="test")

    monkeypatch.setattr(proc, "contract_complete", refuse)

    with pytest.raises(CommandError, match="refused for the test"):
        call_command("demo", stdout=StringIO())

    assert clock._override is None
    assert _counts() == dict.fromkeys(_counts(), 0)
    assert not (tmp_path / "demo" / "custodian-keys.json").exists()
