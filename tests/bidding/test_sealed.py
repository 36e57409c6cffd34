"""Before the opening no API, page, admin screen, log or database row shows a bid's content."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from licita.accounts.models import Sanction
from licita.bidding import services as bidding
from licita.bidding.models import Bid
from licita.procurement.errors import SanctionedSupplier
from tests import factories

pytestmark = pytest.mark.django_db

CANARY_PRICE = "7391846.53"
CANARY_TEXT = b"CANARIO-propuesta-secreta-5f3a9c"


def _database_dump() -> str:
    """Return every row of every table of the database as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                chunks.append(repr([bytes(c) if isinstance(c, memoryview) else c for c in row]))
    return "\n".join(chunks)


def _files_dump() -> bytes:
    roots = [Path(settings.LICITA_DOCUMENTS_DIR), Path(settings.LICITA_KEYS_DIR)]
    return b"\n".join(p.read_bytes() for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def _canaries() -> list[str]:
    return [
        CANARY_PRICE,
        CANARY_PRICE.replace(".", ""),
        "7391846",
        CANARY_TEXT.decode(),
        base64.b64encode(CANARY_TEXT).decode()[:24],
    ]


def _leaks(haystack: str | bytes) -> list[str]:
    text = haystack if isinstance(haystack, str) else haystack.decode("latin-1")
    return [c for c in _canaries() if c in text]


def _api_views(procedure, users) -> str:
    """Return what every kind of user gets from every read of the procedure and its bids."""
    from licita.api.auth import token_create  # noqa: PLC0415

    pages = []
    for user in [None, *users]:
        client = Client()
        headers = {}
        if user is not None:
            headers["Authorization"] = f"Bearer {token_create(user=user, name='canary')[1]}"
        for path in (
            f"/api/procedures/{procedure.number}",
            f"/api/procedures/{procedure.number}/bids",
            "/api/procedures",
        ):
            pages.append(client.get(path, headers=headers).content.decode())
    return "\n".join(pages)


def _admin_pages(bid) -> str:
    superuser = factories.make_user(username="superadmin")
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    client = Client()
    client.force_login(superuser)
    pages = [client.get(p) for p in ("/admin/bidding/bid/", f"/admin/bidding/bid/{bid.pk}/change/")]
    assert all(p.status_code == 200 for p in pages)
    return "\n".join(p.content.decode() for p in pages)


def test_bid_content_is_nowhere_before_the_opening_and_visible_after(frozen_clock, caplog):
    caplog.set_level(logging.DEBUG)
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    supplier, rep = factories.make_supplier()
    document = bidding.BidDocumentInput(
        kind="economic", filename="economica.txt", content_b64=base64.b64encode(CANARY_TEXT).decode()
    )

    with CaptureQueriesContext(connection) as queries:
        bid = bidding.bid_submit(
            actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price=CANARY_PRICE)], documents=[document]
        )
    before = {
        "database": _leaks(_database_dump()),
        "files": _leaks(_files_dump()),
        "sql": _leaks("\n".join(q["sql"] for q in queries.captured_queries)),
        "logs": _leaks(caplog.text),
        "api": _leaks(_api_views(procedure, [rep, office.operator, office.admin, office.auditor])),
        "admin": _leaks(_admin_pages(bid)),
        "receipt": _leaks(repr(bid.receipt)),
    }
    frozen_clock.move(days=17)
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))
    after = _leaks(_database_dump()) + _leaks(_api_views(procedure, []))

    assert before == {k: [] for k in before}
    assert CANARY_PRICE in after
    assert Bid.objects.get(pk=bid.pk).status == "opened"


def test_opening_is_refused_before_the_deadline(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    supplier, rep = factories.make_supplier()
    bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="100.00")])
    shares = factories.claim_shares(office, procedure)

    with pytest.raises(bidding.OpeningRefused):
        bidding.bids_open(actor=office.operator, procedure=procedure, shares=shares)

    procedure.refresh_from_db()
    assert procedure.status == "published"
    assert not Bid.objects.filter(lots__isnull=False).exists()


def test_shares_of_another_procedure_cannot_open_the_bids(frozen_clock):
    office = factories.make_office()
    first = factories.publish(office, factories.make_procedure(office))
    second = factories.publish(office, factories.make_procedure(office))
    frozen_clock.move(days=17)

    with pytest.raises(bidding.OpeningRefused) as refused:
        bidding.bids_open(actor=office.operator, procedure=first, shares=factories.claim_shares(office, second))

    assert refused.value.detail["rule"] == "wrong_shares"
    first.refresh_from_db()
    assert first.status == "published"


def test_a_share_is_handed_over_only_once(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    custodian = office.custodians[0]
    bidding.share_claim(actor=custodian.user, procedure=procedure)

    with pytest.raises(bidding.Conflict):
        bidding.share_claim(actor=custodian.user, procedure=procedure)

    assert procedure.opening_key.envelopes.get(custodian=custodian.user).sealed_share is None


def test_bid_committing_after_the_deadline_is_refused_and_nothing_is_written(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office), days=15.5)
    supplier, rep = factories.make_supplier()
    frozen_clock.set(procedure.submission_deadline + dt.timedelta(microseconds=1))

    with pytest.raises(bidding.DeadlinePassed):
        bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="100.00")])

    assert not Bid.objects.filter(procedure=procedure).exists()


def test_replacing_a_bid_keeps_one_in_force_and_withdrawal_removes_it(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    supplier, rep = factories.make_supplier()
    first = bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="100.00")])

    second = bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="90.00")])
    bidding.bid_withdraw(actor=rep, bid=second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, second.version) == ("replaced", "withdrawn", 2)
    frozen_clock.move(days=17)
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))
    assert not Bid.objects.filter(procedure=procedure, status="opened").exists()


def test_a_sanctioned_supplier_cannot_bid_and_nothing_is_written(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    supplier, rep = factories.make_supplier()
    Sanction.objects.create(
        supplier=supplier,
        supplier_name=supplier.name,
        normalized_name=supplier.name.upper(),
        case_number="SANC-7",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2027, 1, 1),
    )

    with pytest.raises(SanctionedSupplier) as refused:
        bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="100.00")])

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("supplier_rfc", "sanctioned")
    assert not Bid.objects.filter(procedure=procedure).exists()
