"""Users, organisations (buyer institutions, purchasing units, suppliers), memberships, sanctions."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from licita.core import clock
from licita.core.models import TimeStamped


class User(AbstractUser):
    """A person who signs in to Licita."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class GovernmentLevel(models.TextChoices):
    #: Administración Pública Federal
    FEDERAL = "federal", _("federal")
    #: A state government
    STATE = "state", _("state")
    #: A municipal government
    MUNICIPAL = "municipal", _("municipal")


class Institution(TimeStamped):
    """A buyer institution (dependencia or entidad), such as a ministry."""

    name = models.CharField(_("name"), max_length=300, unique=True)
    siglas = models.CharField(_("acronym"), max_length=40)
    ramo = models.CharField(_("budget branch (ramo)"), max_length=3, help_text=_("Budget branch, e.g. 09 or 12."))
    government_level = models.CharField(
        _("government level"), max_length=10, choices=GovernmentLevel.choices, default=GovernmentLevel.FEDERAL
    )
    budget_band = models.PositiveSmallIntegerField(
        _("budget band"), default=1, help_text=_("Row of the PEF thresholds annex that applies to this institution.")
    )

    class Meta:
        verbose_name = _("buyer institution")
        verbose_name_plural = _("buyer institutions")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.siglas} — {self.name}"


class PurchasingUnit(TimeStamped):
    """A purchasing unit (unidad compradora, UC) of an institution, identified by its 9-character key."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="units")
    key = models.CharField(_("UC key (CLAVEUC)"), max_length=9, unique=True)
    name = models.CharField(_("name"), max_length=300)
    responsible = models.CharField(_("responsible officer"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("purchasing unit")
        verbose_name_plural = _("purchasing units")
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(condition=Q(key__regex=r"^[0-9A-Z]{9}$"), name="purchasingunit_key_format"),
        ]

    def __str__(self) -> str:
        return f"{self.institution.siglas}-{self.name} #{self.key}"


class PersonType(models.TextChoices):
    #: Company (persona moral): 12-character RFC
    COMPANY = "moral", _("company (persona moral)")
    #: Person (persona física): 13-character RFC
    PERSON = "fisica", _("person (persona física)")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("micro")
    SMALL = "small", _("small")
    MEDIUM = "medium", _("medium")
    LARGE = "large", _("not MIPYME")
    UNKNOWN = "", _("unknown")


class Supplier(TimeStamped):
    """A supplier or contractor, identified by its RFC."""

    rfc = models.CharField(_("RFC"), max_length=13, unique=True)
    name = models.CharField(_("legal name"), max_length=300)
    person_type = models.CharField(_("person type"), max_length=6, choices=PersonType.choices)
    size = models.CharField(_("size"), max_length=6, choices=CompanySize.choices, blank=True, default="")
    rupc_folio = models.CharField(_("RUPC folio"), max_length=30, blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rfc__regex=r"^[A-ZÑ&]{3,4}[0-9]{6}[A-Z0-9]{3}$"), name="supplier_rfc_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rfc})"


class Role(models.TextChoices):
    #: Officer of a purchasing unit: creates and runs procedures
    BUYER_OPERATOR = "buyer_operator", _("buyer operator")
    #: Head of a purchasing unit: approves publication, holds an opening-key share
    BUYER_ADMIN = "buyer_admin", _("buyer administrator")
    #: Acts for a supplier: asks questions, bids, signs contracts
    SUPPLIER_REP = "supplier_rep", _("supplier representative")
    #: Internal control body: reads everything, holds an opening-key share
    AUDITOR = "auditor", _("oversight auditor")
    #: Runs the platform
    PLATFORM_ADMIN = "platform_admin", _("platform administrator")


BUYER_ROLES = frozenset({Role.BUYER_OPERATOR, Role.BUYER_ADMIN})


class Membership(TimeStamped):
    """A user's role, scoped to a purchasing unit (buyers), a supplier, an institution (auditors) or the platform."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        PurchasingUnit, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships")
    institution = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
        help_text=_("For auditors: the institution they oversee; empty means every institution."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(role__in=["buyer_operator", "buyer_admin"]) & Q(unit__isnull=False) & Q(supplier__isnull=True))
                    | (Q(role="supplier_rep") & Q(supplier__isnull=False) & Q(unit__isnull=True))
                    | (Q(role="auditor") & Q(unit__isnull=True) & Q(supplier__isnull=True))
                    | (Q(role="platform_admin") & Q(unit__isnull=True) & Q(supplier__isnull=True))
                ),
                name="membership_scope_matches_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "unit", "supplier", "institution"], name="membership_unique"
            ),
        ]

    def __str__(self) -> str:
        scope = self.unit or self.supplier or self.institution or _("platform")
        return f"{self.user} — {self.get_role_display()} — {scope}"


class CustodianKey(TimeStamped):
    """A user's X25519 public key, to which opening-key shares are sealed (the private half never reaches us)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="custodian_key")
    public_key = models.BinaryField(_("X25519 public key"), max_length=32)

    class Meta:
        verbose_name = _("custodian key")
        verbose_name_plural = _("custodian keys")

    def __str__(self) -> str:
        return f"{self.user} — {bytes(self.public_key).hex()[:16]}…"


class ApiToken(TimeStamped):
    """A per-user API token for programmatic clients; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, help_text=_("First characters, to recognise the token."))
    token_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} — {self.name} ({self.prefix}…)"


class Sanction(TimeStamped):
    """An entry of the directory of sanctioned suppliers (inhabilitados)."""

    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions")
    supplier_name = models.CharField(_("supplier name as published"), max_length=300)
    normalized_name = models.CharField(max_length=300, db_index=True)
    rfc = models.CharField(_("RFC"), max_length=13, blank=True)
    authority = models.CharField(_("sanctioning authority (dependencia)"), max_length=300, blank=True)
    case_number = models.CharField(_("case number"), max_length=60, blank=True)
    facts = models.TextField(_("facts"), blank=True)
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)
    resolved_on = models.DateField(_("resolution date"), null=True, blank=True)
    notified_on = models.DateField(_("notification date"), null=True, blank=True)
    starts_on = models.DateField(_("sanction starts"), null=True, blank=True)
    ends_on = models.DateField(_("sanction ends"), null=True, blank=True)
    term_text = models.CharField(_("term as published"), max_length=100, blank=True)
    fine = models.DecimalField(_("fine (MXN)"), max_digits=16, decimal_places=2, null=True, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["normalized_name", "case_number", "authority"], name="sanction_unique_case"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="sanction_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_name} — {self.case_number}"

    def is_in_force(self, on: dt.date | None = None) -> bool:
        """Return whether the debarment runs on `on` (today by default)."""
        day = on or clock.now().date()
        if self.starts_on is None or self.ends_on is None:
            return False
        return self.starts_on <= day <= self.ends_on
