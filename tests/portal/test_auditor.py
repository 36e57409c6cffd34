"""The auditor workspace: procedures of the scope, opening committees, custodian key and activity log."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.urls import reverse

from licita.accounts import services as accounts
from licita.accounts.models import CustodianKey, Role
from licita.core.models import AuditEntry
from tests.factories import make_auditor, make_office, make_procedure, make_supplier, make_user, publish

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def office(frozen_clock):
    return make_office()


@pytest.fixture
def other_office(frozen_clock):
    return make_office()


def _entries(response):
    return [row["entry"] for row in response.context["rows"]]


def test_auditor_sees_procedures_of_the_institution_with_drafts_but_not_other_drafts(client, office, other_office):
    draft = make_procedure(office, title="Borrador propio")
    published = publish(office, make_procedure(office))
    other_draft = make_procedure(other_office, title="Borrador ajeno")
    client.force_login(office.auditor)

    html = client.get(reverse("auditor_home"), **EN).content.decode()

    assert draft.number in html
    assert published.number in html
    assert other_draft.number not in html


def test_auditor_home_links_the_opening_ceremony_of_committees_they_sit_on(client, office):
    procedure = publish(office, make_procedure(office))
    client.force_login(office.auditor)

    html = client.get(reverse("auditor_home"), **EN).content.decode()

    assert reverse("procedure_opening", kwargs={"ref": procedure.number}) in html
    assert "Registered" in html


def test_auditor_without_custodian_key_is_told_so(client, office):
    auditor = make_auditor(office.unit.institution)
    client.force_login(auditor)

    html = client.get(reverse("auditor_home"), **EN).content.decode()

    assert "Not registered" in html
    assert "You sit on no opening committee." in html


def test_custodian_key_is_registered_from_the_form(client, office):
    auditor = make_auditor(office.unit.institution)
    public = X25519PrivateKey.generate().public_key().public_bytes_raw()
    client.force_login(auditor)

    response = client.post(reverse("auditor_custodian_key"), {"public_key": base64.b64encode(public).decode()}, **EN)

    assert response.status_code == 302
    assert bytes(CustodianKey.objects.get(user=auditor).public_key) == public


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_bad_custodian_key_is_refused_next_to_the_field(client, office, value):
    auditor = make_auditor(office.unit.institution)
    client.force_login(auditor)

    response = client.post(reverse("auditor_custodian_key"), {"public_key": value}, **EN)

    assert response.status_code == 200
    assert response.context["form"].errors["public_key"]
    assert not CustodianKey.objects.filter(user=auditor).exists()


def test_activity_log_shows_the_scope_newest_first(client, office, frozen_clock):
    first = make_procedure(office)
    frozen_clock.move(hours=1)
    second = make_procedure(office)
    client.force_login(office.auditor)

    response = client.get(reverse("auditor_activity"), {"action": "procedure_created"}, **EN)

    assert [e.object_id for e in _entries(response)] == [str(second.pk), str(first.pk)]
    assert "Procedure created" in response.content.decode()


def test_auditor_of_another_institution_does_not_see_these_entries(client, office, other_office):
    mine = make_procedure(office)
    theirs = make_procedure(other_office)
    client.force_login(other_office.auditor)

    response = client.get(reverse("auditor_activity"), **EN)

    ids = {(e.object_type, e.object_id) for e in _entries(response)}
    assert ("procedure", str(theirs.pk)) in ids
    assert ("procedure", str(mine.pk)) not in ids
    assert ("unit", office.unit.key) not in ids
    assert ("unit", other_office.unit.key) in ids


def test_auditor_of_every_institution_sees_every_entry(client, office, other_office):
    make_procedure(office)
    make_procedure(other_office)
    auditor = make_auditor()
    client.force_login(auditor)

    response = client.get(reverse("auditor_activity"), {"action": "procedure_created"}, **EN)

    assert response.context["page"].paginator.count == 2


def test_activity_log_filters_by_date(client, office, frozen_clock):
    make_procedure(office)
    frozen_clock.move(days=3)
    later = make_procedure(office)
    client.force_login(office.auditor)

    response = client.get(reverse("auditor_activity"), {"date_from": "2026-03-04"}, **EN)

    assert {e.object_id for e in _entries(response)} == {str(later.pk)}


def test_activity_log_bad_filters_are_explained_not_500(client, office):
    client.force_login(office.auditor)

    response = client.get(
        reverse("auditor_activity"),
        {"date_from": "2026-13-45", "date_to": "ayer", "action": "drop table", "page": "x"},
        **EN,
    )

    assert response.status_code == 200
    assert set(response.context["filters"].errors) == {"date_from", "date_to", "action"}


def test_activity_log_range_that_ends_before_it_starts_is_refused(client, office):
    client.force_login(office.auditor)

    response = client.get(reverse("auditor_activity"), {"date_from": "2026-03-05", "date_to": "2026-03-01"}, **EN)

    assert "The end date is before the start date." in response.context["filters"].errors["date_to"]


def test_activity_log_is_paginated(client, office):
    for n in range(30):
        accounts.user_create(actor=None, username=f"persona-{n}", password=None)
    make_procedure(office)
    auditor = make_auditor()
    client.force_login(auditor)

    first = client.get(reverse("auditor_activity"), **EN)
    second = client.get(reverse("auditor_activity"), {"page": 2}, **EN)

    assert len(first.context["rows"]) == 25
    assert second.context["page"].number == 2
    assert not {e.pk for e in _entries(first)} & {e.pk for e in _entries(second)}


def test_platform_admin_reads_the_auditor_workspace(client, office):
    admin = make_user()
    accounts.membership_grant(actor=None, user=admin, role=Role.PLATFORM_ADMIN)
    client.force_login(admin)

    assert client.get(reverse("auditor_home")).status_code == 200
    assert client.get(reverse("auditor_activity")).status_code == 200


def test_buyer_and_supplier_get_404(client, office):
    _supplier, rep = make_supplier()
    for user in (office.operator, rep):
        client.force_login(user)

        assert client.get(reverse("auditor_home")).status_code == 404
        assert client.get(reverse("auditor_activity")).status_code == 404
        assert client.get(reverse("auditor_custodian_key")).status_code == 404


def test_home_query_count_does_not_grow_with_data(client, django_assert_num_queries, office):
    client.force_login(office.auditor)
    publish(office, make_procedure(office))
    with django_assert_num_queries(10):
        client.get(reverse("auditor_home"))
    for _ in range(3):
        publish(office, make_procedure(office))
        make_procedure(office)

    with django_assert_num_queries(10):
        response = client.get(reverse("auditor_home"))

    assert response.context["page"].paginator.count == 7


def test_activity_query_count_does_not_grow_with_data(client, django_assert_num_queries, office):
    client.force_login(office.auditor)
    make_procedure(office)
    with django_assert_num_queries(6):
        client.get(reverse("auditor_activity"))
    for _ in range(5):
        publish(office, make_procedure(office))

    with django_assert_num_queries(6):
        response = client.get(reverse("auditor_activity"))

    in_scope = AuditEntry.objects.filter(object_type__in=["procedure", "unit", "institution"]).count()
    assert response.context["page"].paginator.count == in_scope
