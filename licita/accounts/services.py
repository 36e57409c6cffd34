"""Organisations, users and memberships: the one way to create or change them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from licita.accounts.models import (
    CompanySize,
    GovernmentLevel,
    Institution,
    Membership,
    PurchasingUnit,
    Role,
    Supplier,
    User,
)
from licita.accounts.rfc import rfc_validate
from licita.core.audit import audit_append
from licita.core.errors import Conflict, PermissionDenied, ValidationError
from licita.core.permissions import is_buyer_of, is_platform_admin

if TYPE_CHECKING:
    from collections.abc import Iterable

UNIT_KEY = re.compile(r"^[0-9]{3}[0-9A-Z]{6}$")


def _require_admin(actor: User | None) -> None:
    if actor is not None and not is_platform_admin(actor) and not actor.is_superuser:
        raise PermissionDenied(_("Only a platform administrator may do this"), rule="platform_admin")


@transaction.atomic
def institution_create(
    *,
    actor: User | None,
    name: str,
    siglas: str,
    ramo: str,
    government_level: str = GovernmentLevel.FEDERAL,
    budget_band: int = 1,
) -> Institution:
    """Register a buyer institution."""
    _require_admin(actor)
    name, siglas, ramo = (name or "").strip(), (siglas or "").strip().upper(), (ramo or "").strip()
    if not name:
        raise ValidationError(_("name is required"), field="name", rule="required")
    if not siglas:
        raise ValidationError(_("siglas is required"), field="siglas", rule="required")
    if not ramo.isdigit() or len(ramo) > 3:
        raise ValidationError(_("ramo must be a budget branch number of up to 3 digits"), field="ramo", rule="ramo")
    if government_level not in GovernmentLevel.values:
        raise ValidationError(_("government_level is not valid"), field="government_level", rule="choice")
    institution = Institution.objects.create(
        name=name, siglas=siglas, ramo=ramo.zfill(2), government_level=government_level, budget_band=budget_band
    )
    audit_append(actor=actor, action="institution_created", object_type="institution", object_id=str(institution.pk))
    return institution


@transaction.atomic
def unit_create(
    *, actor: User | None, institution: Institution, key: str, name: str, responsible: str = ""
) -> PurchasingUnit:
    """Register a purchasing unit with its 9-character CLAVEUC."""
    _require_admin(actor)
    key = (key or "").strip().upper()
    if not UNIT_KEY.match(key):
        raise ValidationError(
            _("key must be a 9-character CLAVEUC starting with the 3-digit ramo, e.g. 009J3B001"),
            field="key",
            rule="claveuc",
        )
    if PurchasingUnit.objects.filter(key=key).exists():
        raise Conflict(_("The unit %(key)s already exists") % {"key": key}, field="key", rule="unique")
    unit = PurchasingUnit.objects.create(
        institution=institution, key=key, name=(name or "").strip(), responsible=responsible
    )
    audit_append(actor=actor, action="unit_created", object_type="unit", object_id=key)
    return unit


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create a user account."""
    _require_admin(actor)
    username = (username or "").strip()
    if not re.fullmatch(r"[\w.@+-]{3,150}", username):
        raise ValidationError(_("username must be 3-150 letters, digits or @.+-_"), field="username", rule="username")
    if User.objects.filter(username=username).exists():
        raise Conflict(_("The username is taken"), field="username", rule="unique")
    user = User.objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name, email=email
    )
    audit_append(actor=actor, action="user_created", object_type="user", object_id=str(user.pk))
    return user


@transaction.atomic
def membership_grant(
    *,
    actor: User | None,
    user: User,
    role: str,
    unit: PurchasingUnit | None = None,
    supplier: Supplier | None = None,
    institution: Institution | None = None,
) -> Membership:
    """Give a user a role; buyer administrators manage their own unit's users."""
    if role not in Role.values:
        raise ValidationError(_("role is not valid"), field="role", rule="choice")
    if actor is not None and not (
        role in (Role.BUYER_OPERATOR, Role.BUYER_ADMIN) and unit and is_buyer_of(actor, unit, ["buyer_admin"])
    ):
        _require_admin(actor)
    if Membership.objects.filter(user=user, role=role, unit=unit, supplier=supplier, institution=institution).exists():
        raise Conflict(_("The user already holds this role"), field="role", rule="unique")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user, role=role, unit=unit, supplier=supplier, institution=institution
            )
    except IntegrityError:
        raise ValidationError(
            _("This role needs its scope: a unit for buyers, a supplier for representatives, none otherwise"),
            field="role",
            rule="scope",
        ) from None
    audit_append(
        actor=actor, action="membership_granted", object_type="user", object_id=str(user.pk), data={"role": role}
    )
    return membership


@transaction.atomic
def supplier_register(*, actor: User | None, rfc: str, name: str, size: str = "", email: str = "") -> Supplier:
    """Register a supplier by RFC; the registering user becomes its representative."""
    rfc, person_type = rfc_validate(rfc)
    name = (name or "").strip()
    if len(name) < 3:
        raise ValidationError(_("name must have at least 3 characters"), field="name", rule="min_length")
    if size not in CompanySize.values:
        raise ValidationError(_("size must be micro, small, medium, large or empty"), field="size", rule="choice")
    if Supplier.objects.filter(rfc=rfc).exists():
        raise Conflict(
            _("A supplier with RFC %(rfc)s is already registered") % {"rfc": rfc}, field="rfc", rule="unique"
        )
    supplier = Supplier.objects.create(
        rfc=rfc, name=name, person_type=person_type, size=size, email=(email or "").strip()
    )
    if actor is not None and actor.is_authenticated:
        Membership.objects.create(user=actor, role=Role.SUPPLIER_REP, supplier=supplier)
    audit_append(actor=actor, action="supplier_registered", object_type="supplier", object_id=rfc)
    return supplier


@transaction.atomic
def supplier_signup(
    *, rfc: str, name: str, username: str, password: str, size: str = "", email: str = ""
) -> tuple[User, Supplier]:
    """Create a user, its supplier and its representative membership at once (self-registration)."""
    rfc, _person_type = rfc_validate(rfc)
    username, email = (username or "").strip(), (email or "").strip()
    try:
        validate_password(password or "", User(username=username, email=email))
    except DjangoValidationError as exc:
        raise ValidationError(" ".join(exc.messages), field="password", rule="password_strength") from None
    user = user_create(actor=None, username=username, password=password, email=email)
    supplier = supplier_register(actor=user, rfc=rfc, name=name, size=size, email=email)
    return user, supplier


def users_with_role(role: str, *, unit: PurchasingUnit | None = None) -> Iterable[User]:
    """Return the active users holding `role` (in `unit` when given)."""
    qs = User.objects.filter(memberships__role=role, memberships__is_active=True, is_active=True)
    if unit is not None:
        qs = qs.filter(memberships__unit=unit)
    return qs.distinct()
