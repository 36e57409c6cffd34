"""make_<entity>(**overrides) helpers that reach state through the real services."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from licita.accounts import services as accounts
from licita.accounts.models import Institution, PurchasingUnit, Role, Supplier, User
from licita.accounts.rfc import rfc_generate
from licita.bidding import crypto
from licita.bidding import services as bidding
from licita.procurement import services as proc
from licita.procurement.models import Procedure

_seq = itertools.count(1)


def make_institution(**overrides: Any) -> Institution:
    n = next(_seq)
    data = {"name": f"Secretaría de Pruebas {n}", "siglas": f"SP{n}", "ramo": "09"} | overrides
    return accounts.institution_create(actor=None, **data)


def make_unit(institution: Institution | None = None, **overrides: Any) -> PurchasingUnit:
    n = next(_seq)
    institution = institution or make_institution()
    data = {"key": f"{institution.ramo.zfill(3)}T{n:05d}", "name": f"Dirección de Recursos Materiales {n}"} | overrides
    return accounts.unit_create(actor=None, institution=institution, **data)


def make_user(**overrides: Any) -> User:
    n = next(_seq)
    data = {"username": f"user{n}", "password": "contraseña-de-prueba-1"} | overrides
    return accounts.user_create(actor=None, **data)


@dataclass
class Custodian:
    user: User
    private_key: bytes = field(repr=False)

    def open_share(self, claim: dict[str, Any]) -> str:
        return crypto.share_unseal(
            custodian_private_key=self.private_key,
            sealed=base64.b64decode(claim["sealed_share"]),
            context=base64.b64decode(claim["context"]),
        )


def make_custodian(user: User) -> Custodian:
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    bidding.custodian_key_register(actor=user, public_key_b64=base64.b64encode(public).decode())
    return Custodian(user=user, private_key=private.private_bytes_raw())


def make_buyer(unit: PurchasingUnit, role: str = Role.BUYER_OPERATOR, **overrides: Any) -> User:
    user = make_user(**overrides)
    accounts.membership_grant(actor=None, user=user, role=role, unit=unit)
    return user


def make_auditor(institution: Institution | None = None, **overrides: Any) -> User:
    user = make_user(**overrides)
    accounts.membership_grant(actor=None, user=user, role=Role.AUDITOR, institution=institution)
    return user


def make_supplier(*, person: bool = False, **overrides: Any) -> tuple[Supplier, User]:
    n = next(_seq)
    rep = make_user()
    rfc = rfc_generate(
        name_letters="PRV" if not person else "PERE",
        date=dt.date(1990, 1, 1) + dt.timedelta(days=n),
        person=person,
        seed=n,
    )
    data = {"rfc": rfc, "name": f"Proveedora de Pruebas {n}, S.A. de C.V."} | overrides
    return accounts.supplier_register(actor=rep, **data), rep


def lots_input(*values: str, cucop: str = "25100001") -> list[proc.LotInput]:
    return [
        proc.LotInput(
            title=f"Partida {i}",
            estimated_value=Decimal(v),
            items=[
                proc.ItemInput(cucop=cucop, description=f"Bien de la partida {i}", quantity=Decimal(10), unit="pieza")
            ],
        )
        for i, v in enumerate(values or ("1000000.00",), start=1)
    ]


@dataclass
class Office:
    """A purchasing unit with an operator, an administrator, an auditor and a third custodian."""

    unit: PurchasingUnit
    operator: User
    admin: User
    auditor: User
    third: User
    custodians: list[Custodian]


def make_office(**unit_overrides: Any) -> Office:
    unit = make_unit(**unit_overrides)
    operator = make_buyer(unit)
    admin = make_buyer(unit, Role.BUYER_ADMIN)
    auditor = make_auditor(unit.institution)
    third = make_buyer(unit)
    custodians = [make_custodian(u) for u in (admin, auditor, third)]
    return Office(unit=unit, operator=operator, admin=admin, auditor=auditor, third=third, custodians=custodians)


def make_procedure(office: Office, **overrides: Any) -> Procedure:
    data: dict[str, Any] = {
        "unit_key": office.unit.key,
        "title": "Adquisición de material de curación",
        "law": "LAASSP",
        "procedure_type": "licitacion",
        "contract_type": "adquisiciones",
        "legal_basis": "art26",
        "lots": lots_input("1000000.00"),
    } | overrides
    return proc.procedure_create(actor=office.operator, **data)


def publish(office: Office, procedure: Procedure, *, days: float = 16, **overrides: Any) -> Procedure:
    from licita.core import clock  # noqa: PLC0415

    data: dict[str, Any] = {
        "submission_deadline": clock.now() + dt.timedelta(days=days),
        "committee": [c.user.pk for c in office.custodians],
        "threshold": 2,
    } | overrides
    return proc.procedure_publish(actor=office.admin, procedure=procedure, **data)


def claim_shares(office: Office, procedure: Procedure, count: int = 2) -> list[str]:
    return [c.open_share(bidding.share_claim(actor=c.user, procedure=procedure)) for c in office.custodians[:count]]


def make_direct_contract(
    office: Office, *, value: str = "200000", law: str = "LAASSP", end: dt.date = dt.date(2026, 4, 5)
) -> Any:
    """Return a contract signed for an Art. 42 direct award of one lot."""
    overrides: dict[str, Any] = {"procedure_type": "adjudicacion", "legal_basis": "art42", "lots": lots_input(value)}
    if law == "LOPSRM":
        overrides |= {"law": "LOPSRM", "contract_type": "obra_publica"}
    procedure = make_procedure(office, **overrides)
    supplier, _rep = make_supplier()
    (award,) = proc.award_direct(
        actor=office.operator,
        procedure=procedure,
        supplier_rfc=supplier.rfc,
        lots=[proc.DirectAwardLot(lot=1, value=value)],
    )
    return proc.contract_sign(actor=office.operator, award=award, start_date=dt.date(2026, 3, 5), end_date=end)
