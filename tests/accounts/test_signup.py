"""Supplier self-registration: user, supplier and representative membership in one transaction."""

from __future__ import annotations

import pytest

from licita.accounts.models import Membership, Role, Supplier, User
from licita.accounts.services import supplier_signup
from licita.core.errors import Conflict, ValidationError
from licita.core.models import AuditEntry
from tests.factories import make_supplier

pytestmark = pytest.mark.django_db

GOOD = {
    "rfc": "abc-010203-a12",
    "name": "Abarrotes del Centro, S.A. de C.V.",
    "username": "abarrotes",
    "password": "una-clave-larga-2026",
    "size": "small",
    "email": "ventas@abarrotes.example",
}


def test_supplier_signup_creates_user_supplier_and_membership():
    user, supplier = supplier_signup(**GOOD)

    assert supplier.rfc == "ABC010203A12"
    assert user.check_password(GOOD["password"])
    assert Membership.objects.filter(user=user, role=Role.SUPPLIER_REP, supplier=supplier, is_active=True).exists()
    assert AuditEntry.objects.filter(action="supplier_registered", object_id="ABC010203A12", actor=user).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"rfc": "ABC01020"}, "rfc", "length"),
        ({"rfc": "ABC010230A12"}, "rfc", "date"),
        ({"password": "abc"}, "password", "password_strength"),
        ({"username": "a b"}, "username", "username"),
        ({"name": "X"}, "name", "min_length"),
    ],
)
def test_supplier_signup_refuses_bad_input_and_writes_nothing(overrides, field, rule):
    with pytest.raises(ValidationError) as caught:
        supplier_signup(**(GOOD | overrides))

    assert caught.value.detail == {"field": field, "rule": rule}
    assert not User.objects.exists()
    assert not Supplier.objects.exists()
    assert not AuditEntry.objects.exists()


def test_supplier_signup_refuses_a_registered_rfc_and_keeps_no_user():
    existing, _rep = make_supplier()
    users = User.objects.count()

    with pytest.raises(Conflict) as caught:
        supplier_signup(**(GOOD | {"rfc": existing.rfc}))

    assert caught.value.detail == {"field": "rfc", "rule": "unique"}
    assert User.objects.count() == users
    assert not User.objects.filter(username="abarrotes").exists()
