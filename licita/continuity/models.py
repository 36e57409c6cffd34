"""Outages, the deadline-extension rule, extensions applied, officials' keys and contingency procedures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from licita.accounts.models import PurchasingUnit
from licita.procurement.models import ContractType, LegalBasis, Procedure, ProcedureType, RuleSource, Status


class ContinuityRule(RuleSource):
    """How legal periods are extended after an outage, and how long units have to back-capture: versioned data."""

    extension_business_days = models.PositiveSmallIntegerField(
        _("business days added"), help_text=_("Business days added to the outage's length (counted from its end).")
    )
    upload_business_days = models.PositiveSmallIntegerField(
        _("business days to back-capture"), help_text=_("Business days after the outage's end to back-capture.")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["valid_from", "version"], name="continuityrule_unique")]

    def __str__(self) -> str:
        return f"+{self.extension_business_days} / {self.upload_business_days} ({self.source})"


class Outage(models.Model):
    """A period when the platform (or what it depends on) failed: a signed public record."""

    class Origin(models.TextChoices):
        #: Opened by the health monitor when the platform could not take writes
        MONITOR = "monitor", _("health monitor")
        #: Declared by an auditor (a failure the platform could not see)
        DECLARED = "declared", _("declared by an auditor")

    started_at = models.DateTimeField(_("start"))
    ended_at = models.DateTimeField(_("end"), null=True, blank=True)
    affected = models.CharField(_("what was affected"), max_length=500)
    cause = models.TextField(_("cause"))
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    upload_deadline = models.DateTimeField(_("back-capture deadline"), null=True, blank=True)
    extended_count = models.PositiveIntegerField(_("procedures extended"), default=0)
    extension = models.DurationField(_("extension"), null=True, blank=True)
    ledger_index = models.PositiveBigIntegerField(null=True, blank=True)
    close_ledger_index = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=models.F("started_at")), name="outage_end_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} — {self.affected}"

    def get_absolute_url(self) -> str:
        return reverse("outage_detail", args=[self.pk])

    def contains(self, at: dt.datetime, *, now: dt.datetime) -> bool:
        """Return whether `at` falls inside the outage (an ongoing one runs until `now`)."""
        return self.started_at <= at <= (self.ended_at or now)

    @property
    def duration(self) -> dt.timedelta | None:
        """Return the outage's length once it has ended."""
        return self.ended_at - self.started_at if self.ended_at else None


class DeadlineExtension(models.Model):
    """A legal period of one procedure extended because of an outage (previous and new deadlines)."""

    outage = models.ForeignKey(Outage, on_delete=models.PROTECT, related_name="extensions")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="outage_extensions")
    # Each period: its deadline before and after; equal when the outage did not touch that period.
    previous_submission = models.DateTimeField(null=True)
    new_submission = models.DateTimeField(null=True)
    previous_clarification = models.DateTimeField(null=True)
    new_clarification = models.DateTimeField(null=True)
    previous_award = models.DateTimeField(null=True)
    new_award = models.DateTimeField(null=True)
    previous_signature = models.DateTimeField(null=True)
    new_signature = models.DateTimeField(null=True)
    previous_status = models.CharField(max_length=10, choices=Status.choices)
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="When the procedure's tenderAmendment release was published."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["outage", "procedure"], name="deadlineextension_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_id}: {self.previous_submission} → {self.new_submission}"


class OfficialKey(models.Model):
    """An Ed25519 public key of a unit's official, registered on the platform, that signs contingency files."""

    unit = models.ForeignKey(PurchasingUnit, on_delete=models.PROTECT, related_name="official_keys")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="official_keys")
    key_id = models.CharField(_("key id"), max_length=16, unique=True)
    public_key = models.CharField(_("public key (base64)"), max_length=64)
    registered_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.unit.key} {self.user} {self.key_id}"


class Source(models.TextChoices):
    #: Registered on the platform (portal form, API or command)
    FORM = "form", pgettext_lazy("how a contingency procedure was registered", "form")
    #: Uploaded in a file signed by the unit's official
    FILE = "file", _("signed file")


class UploadStatus(models.TextChoices):
    #: Nothing back-captured yet
    MISSING = "missing", _("missing")
    #: The procedure and award are back-captured; the contract is not
    PARTIAL = "partial", _("partly uploaded")
    #: Back-captured up to the signed contract
    COMPLETE = "complete", _("fully uploaded")


class ContingencyProcedure(models.Model):
    """A procedure carried out in person during an outage: registered, then back-captured before a deadline."""

    outage = models.ForeignKey(Outage, on_delete=models.PROTECT, related_name="contingency_procedures")
    unit = models.ForeignKey(PurchasingUnit, on_delete=models.PROTECT, related_name="contingency_procedures")
    ref = models.CharField(_("unit's reference"), max_length=60)
    title = models.CharField(_("title"), max_length=500)
    procedure_type = models.CharField(_("procedure type"), max_length=12, choices=ProcedureType.choices)
    contract_type = models.CharField(_("contract type"), max_length=16, choices=ContractType.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=6, choices=LegalBasis.choices)
    supplier_rfc = models.CharField(_("supplier RFC"), max_length=13)
    amount = models.DecimalField(_("amount"), max_digits=17, decimal_places=2)
    currency = models.CharField(max_length=3, default="MXN")
    carried_out_at = models.DateTimeField(_("carried out at"))
    source = models.CharField(max_length=4, choices=Source.choices)
    file_sha256 = models.CharField(max_length=64, blank=True)
    signed_with = models.ForeignKey(OfficialKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField()
    procedure = models.OneToOneField(
        Procedure, null=True, blank=True, on_delete=models.PROTECT, related_name="contingency"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("contingency procedure")
        verbose_name_plural = _("contingency procedures")
        ordering = ["unit", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["outage", "unit", "ref"], name="contingency_unique_ref"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="contingency_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.key} {self.ref}: {self.title}"

    @property
    def upload_status(self) -> str:
        """Return how much has been back-captured."""
        return upload_status_of(completed_at=self.completed_at, procedure_id=self.procedure_id)


def upload_status_of(*, completed_at: dt.datetime | None, procedure_id: int | None) -> str:
    """Return the upload status from the two facts it follows from (the report reads them without the rows)."""
    if completed_at is not None:
        return UploadStatus.COMPLETE
    if procedure_id is not None:
        return UploadStatus.PARTIAL
    return UploadStatus.MISSING


ZERO = Decimal(0)
