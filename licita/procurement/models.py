"""Procedures, lots, items, clarifications, awards, contracts, amendments and the legal rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from licita.accounts.models import PurchasingUnit, Supplier
from licita.core.models import TimeStamped


class Law(models.TextChoices):
    #: Ley de Adquisiciones, Arrendamientos y Servicios del Sector Público
    LAASSP = "LAASSP", "LAASSP"
    #: Ley de Obras Públicas y Servicios Relacionados con las Mismas
    LOPSRM = "LOPSRM", "LOPSRM"


class Regime(models.TextChoices):
    #: The laws of 2000 as amended, for procedures started up to 16 Apr 2025
    R2000 = "2000", _("regime 2000")
    #: The LAASSP of 16 Apr 2025, in force from 17 Apr 2025
    R2025 = "2025", _("regime 2025")


class ProcedureType(models.TextChoices):
    #: Licitación pública (OCDS open)
    PUBLIC_TENDER = "licitacion", _("public tender (licitación pública)")
    #: Invitación a cuando menos tres personas (OCDS selective)
    INVITATION = "invitacion", _("invitation to at least three (invitación)")
    #: Adjudicación directa (OCDS direct / limited)
    DIRECT_AWARD = "adjudicacion", _("direct award (adjudicación directa)")


class Character(models.TextChoices):
    NATIONAL = "nacional", _("national")
    INTERNATIONAL_TREATIES = "internacional_tratados", _("international under treaties")
    INTERNATIONAL_OPEN = "internacional_abierta", _("international open")


class Form(models.TextChoices):
    ELECTRONIC = "electronica", _("electronic")
    MIXED = "mixta", _("mixed")
    IN_PERSON = "presencial", _("in person")


class ContractType(models.TextChoices):
    ACQUISITIONS = "adquisiciones", _("acquisitions")
    LEASES = "arrendamientos", _("leases")
    SERVICES = "servicios", _("services")
    PUBLIC_WORKS = "obra_publica", _("public works")
    WORKS_SERVICES = "servicios_obra", _("services related to public works")


CONTRACT_TYPES_BY_LAW = {
    Law.LAASSP: frozenset({ContractType.ACQUISITIONS, ContractType.LEASES, ContractType.SERVICES}),
    Law.LOPSRM: frozenset({ContractType.PUBLIC_WORKS, ContractType.WORKS_SERVICES}),
}


class EvaluationMethod(models.TextChoices):
    #: Lowest compliant price wins
    BINARY = "binaria", _("binary (lowest compliant price)")
    #: Technical and economic points
    POINTS = "puntos", _("points and percentages")


class LegalBasis(models.TextChoices):
    #: The rule: a public tender (LAASSP Art. 26 / LOPSRM Art. 27)
    TENDER = "art26", _("public tender (Art. 26 LAASSP / Art. 27 LOPSRM)")
    #: Exception to the tender (LAASSP Art. 41 / LOPSRM Art. 42), written justification required
    EXCEPTION = "art41", _("exception (Art. 41 LAASSP / Art. 42 LOPSRM)")
    #: By amount under the year's threshold (LAASSP Art. 42 / LOPSRM Art. 43)
    AMOUNT = "art42", _("by amount (Art. 42 LAASSP / Art. 43 LOPSRM)")


class Status(models.TextChoices):
    #: Being prepared by the unit; not public
    DRAFT = "draft", _("draft")
    #: Convocatoria published: clarifications and bids accepted until the deadline
    PUBLISHED = "published", _("published")
    #: The submission deadline passed; waiting for the opening
    CLOSED = "closed", _("submission closed")
    #: Bids opened in the opening act
    OPENED = "opened", _("opened")
    #: Evaluation recorded
    EVALUATED = "evaluated", _("evaluated")
    #: Fallo issued: at least one lot awarded
    AWARDED = "awarded", _("awarded")
    #: Contracts signed for every awarded lot
    CONTRACTED = "contracted", _("contracted")
    #: Every contract completed
    COMPLETED = "completed", _("completed")
    #: No acceptable bid (desierta)
    DESERTED = "deserted", _("deserted (desierta)")
    #: Cancelled with a reason before any contract
    CANCELLED = "cancelled", _("cancelled")


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.PUBLISHED, Status.AWARDED, Status.CANCELLED}),
    Status.PUBLISHED: frozenset({Status.CLOSED, Status.CANCELLED}),
    Status.CLOSED: frozenset({Status.OPENED, Status.CANCELLED}),
    Status.OPENED: frozenset({Status.EVALUATED, Status.CANCELLED}),
    Status.EVALUATED: frozenset({Status.AWARDED, Status.DESERTED, Status.CANCELLED}),
    Status.AWARDED: frozenset({Status.CONTRACTED, Status.CANCELLED}),
    Status.CONTRACTED: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.DESERTED: frozenset(),
    Status.CANCELLED: frozenset(),
}


class Provenance(models.TextChoices):
    #: Run on the platform
    PLATFORM = "platform", _("platform")
    #: Carried out in person during an outage and back-captured
    CONTINGENCY = "contingency", _("contingency")
    #: Imported from another source
    IMPORT = "import", _("import")


class Procedure(TimeStamped):
    """A procurement procedure of a purchasing unit's expediente."""

    unit = models.ForeignKey(PurchasingUnit, on_delete=models.PROTECT, related_name="procedures")
    expediente = models.CharField(_("expediente code"), max_length=40, unique=True)
    number = models.CharField(_("procedure number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    law = models.CharField(_("law"), max_length=6, choices=Law.choices)
    regime = models.CharField(_("regime"), max_length=4, choices=Regime.choices)
    procedure_type = models.CharField(_("procedure type"), max_length=12, choices=ProcedureType.choices)
    character = models.CharField(_("character"), max_length=24, choices=Character.choices)
    form = models.CharField(_("form"), max_length=12, choices=Form.choices)
    contract_type = models.CharField(_("contract type"), max_length=16, choices=ContractType.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=6, choices=LegalBasis.choices)
    exception_fraction = models.CharField(
        _("exception fraction"), max_length=10, blank=True, help_text=_("Fraction of Art. 41 invoked, e.g. I or III.")
    )
    justification = models.TextField(_("written justification"), blank=True)
    evaluation_method = models.CharField(
        _("evaluation method"), max_length=8, choices=EvaluationMethod.choices, default=EvaluationMethod.BINARY
    )
    technical_points_max = models.PositiveSmallIntegerField(default=60)
    economic_points_max = models.PositiveSmallIntegerField(default=40)
    technical_points_min = models.PositiveSmallIntegerField(default=45)
    estimated_value = models.DecimalField(_("estimated value"), max_digits=17, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="MXN")
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    provenance = models.CharField(max_length=12, choices=Provenance.choices, default=Provenance.PLATFORM)
    announced_at = models.DateTimeField(
        _("plan announced at"), null=True, blank=True, help_text=_("When the planned procedure was made public.")
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    clarification_deadline = models.DateTimeField(_("questions accepted until"), null=True, blank=True)
    submission_deadline = models.DateTimeField(_("bids accepted until"), null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    awarded_at = models.DateTimeField(null=True, blank=True)
    award_deadline = models.DateTimeField(
        _("fallo date"), null=True, blank=True, help_text=_("When the fallo is to be given, as the convocatoria says.")
    )
    signature_deadline = models.DateTimeField(
        _("contract to be signed by"),
        null=True,
        blank=True,
        help_text=_("Set at the fallo: the legal period to sign the contract (extended after an outage)."),
    )
    reduced_period_justification = models.TextField(_("justification of the reduced period"), blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    invited_suppliers = models.ManyToManyField(Supplier, through="Invitation", related_name="invitations_received")
    search_text = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="Normalised text the procedure is found by, written with every published act (procurement/search.py).",
    )

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="procedure_status_valid"),
            models.CheckConstraint(condition=Q(estimated_value__gt=0), name="procedure_value_positive"),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancellation_reason=""), name="procedure_cancel_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "submission_deadline"], name="procedure_status_deadline"),
            # The public search's default order (newest first) walks this index and stops at a page.
            models.Index(fields=["-created_at", "-id"], name="procedure_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.number} — {self.title}"

    def is_open_for_bids(self, at: dt.datetime) -> bool:
        """Return whether bids are accepted at `at`."""
        return (
            self.status == Status.PUBLISHED and self.submission_deadline is not None and at < self.submission_deadline
        )

    def is_open_for_questions(self, at: dt.datetime) -> bool:
        """Return whether clarification questions are accepted at `at`."""
        return (
            self.status == Status.PUBLISHED
            and self.clarification_deadline is not None
            and at < self.clarification_deadline
        )

    def effective_status(self, at: dt.datetime) -> str:
        """Return the status with time-driven transitions applied (submission closes at the deadline)."""
        if self.status == Status.PUBLISHED and self.submission_deadline is not None and at >= self.submission_deadline:
            return Status.CLOSED
        return self.status


class Invitation(TimeStamped):
    """A supplier invited to an invitación a cuando menos tres personas."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="invitations")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="invitations")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["procedure", "supplier"], name="invitation_unique")]

    def __str__(self) -> str:
        return f"{self.procedure.number} → {self.supplier.rfc}"


class LotStatus(models.TextChoices):
    #: Open for bids or under evaluation
    ACTIVE = "active", _("active")
    #: Awarded in the fallo
    AWARDED = "awarded", _("awarded")
    #: No acceptable bid (desierta)
    UNSUCCESSFUL = "unsuccessful", _("deserted (desierta)")
    #: Cancelled with the procedure
    CANCELLED = "cancelled", _("cancelled")


class Lot(models.Model):
    """A lot (partida) of a procedure; awards are per lot."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField(_("lot number"))
    title = models.CharField(_("title"), max_length=300)
    estimated_value = models.DecimalField(_("estimated value"), max_digits=17, decimal_places=2)
    status = models.CharField(max_length=12, choices=LotStatus.choices, default=LotStatus.ACTIVE)

    class Meta:
        ordering = ["procedure", "number"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="lot_unique_number"),
            models.CheckConstraint(condition=Q(estimated_value__gt=0), name="lot_value_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure.number} / {self.number}: {self.title}"


class Item(models.Model):
    """An item of a lot, classified with CUCoP."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="items")
    cucop = models.CharField(_("CUCoP code"), max_length=12)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit of measure"), max_length=40)

    class Meta:
        ordering = ["lot", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.cucop} {self.description}"


class Clarification(TimeStamped):
    """A supplier's question in the junta de aclaraciones and the unit's public answer."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="clarifications")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="questions")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    question = models.TextField(_("question"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["procedure", "created_at"]

    def __str__(self) -> str:
        return f"{self.procedure.number}: {self.question[:60]}"


class TenderAmendment(TimeStamped):
    """A change to the convocatoria: documents and/or the deadline."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="amendments")
    description = models.TextField(_("description"))
    previous_deadline = models.DateTimeField(null=True)
    new_deadline = models.DateTimeField(null=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["procedure", "created_at"]

    def __str__(self) -> str:
        return f"{self.procedure.number}: {self.description[:60]}"


class AwardStatus(models.TextChoices):
    #: In force
    ACTIVE = "active", _("active")
    #: Cancelled (procedure cancelled before the contract)
    CANCELLED = "cancelled", _("cancelled")


class Award(TimeStamped):
    """The fallo for one lot: the winning supplier and amount."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="awards")
    lot = models.OneToOneField(Lot, on_delete=models.CASCADE, related_name="award")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="awards")
    bid = models.ForeignKey("bidding.Bid", null=True, blank=True, on_delete=models.PROTECT, related_name="awards")
    value = models.DecimalField(_("amount"), max_digits=17, decimal_places=2)
    currency = models.CharField(max_length=3, default="MXN")
    status = models.CharField(max_length=10, choices=AwardStatus.choices, default=AwardStatus.ACTIVE)
    date = models.DateTimeField(_("award date"))
    rationale = models.TextField(_("rationale"), blank=True)

    class Meta:
        ordering = ["procedure", "lot__number"]
        constraints = [models.CheckConstraint(condition=Q(value__gt=0), name="award_value_positive")]

    def __str__(self) -> str:
        return f"{self.procedure.number} / {self.lot.number} → {self.supplier.rfc}"


class ContractStatus(models.TextChoices):
    #: Signed and in execution
    ACTIVE = "active", _("active")
    #: Completed (terminated normally)
    COMPLETED = "completed", _("completed")


CONTRACT_TRANSITIONS: dict[str, frozenset[str]] = {
    ContractStatus.ACTIVE: frozenset({ContractStatus.COMPLETED}),
    ContractStatus.COMPLETED: frozenset(),
}


class Contract(TimeStamped):
    """A signed contract (formalización) for one award."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="contracts")
    award = models.OneToOneField(Award, on_delete=models.PROTECT, related_name="contract")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="contracts")
    code = models.CharField(_("contract code"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=500)
    value = models.DecimalField(_("original amount"), max_digits=17, decimal_places=2)
    currency = models.CharField(max_length=3, default="MXN")
    date_signed = models.DateTimeField(_("signed at"))
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    status = models.CharField(max_length=10, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)

    class Meta:
        ordering = ["procedure", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="contract_value_positive"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="contract_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.supplier.name}"

    def current_value(self) -> Decimal:
        """Return the amount including every amendment."""
        return self.value + sum((a.value_change for a in self.amendments.all()), Decimal(0))


class ContractAmendment(TimeStamped):
    """A convenio modificatorio: a change of amount and/or period within the legal cap."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="amendments")
    number = models.PositiveSmallIntegerField()
    description = models.TextField(_("description"))
    rationale = models.TextField(_("rationale"))
    value_change = models.DecimalField(_("change of amount"), max_digits=17, decimal_places=2, default=Decimal(0))
    new_end_date = models.DateField(_("new end date"), null=True, blank=True)
    date = models.DateTimeField(_("signed at"))

    class Meta:
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="amendment_unique_number")]

    def __str__(self) -> str:
        return f"{self.contract.code} CM-{self.number}"


class Payment(TimeStamped):
    """A payment made under a contract (implementation)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=17, decimal_places=2)
    date = models.DateTimeField(_("paid at"))
    description = models.CharField(_("description"), max_length=300)

    class Meta:
        ordering = ["contract", "date"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.contract.code}: {self.amount}"


class MilestoneStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    MET = "met", _("met")
    NOT_MET = "notMet", _("not met")


class Milestone(TimeStamped):
    """A delivery or milestone of a contract."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=300)
    due_date = models.DateField(_("due date"))
    status = models.CharField(max_length=10, choices=MilestoneStatus.choices, default=MilestoneStatus.SCHEDULED)
    date_met = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["contract", "due_date"]

    def __str__(self) -> str:
        return f"{self.contract.code}: {self.title}"


# --- Legal rules: versioned data with their source -------------------------------------------


class RuleSource(models.Model):
    """Where a rule value comes from; `is_example` marks values that do not cite an official source."""

    source = models.CharField(_("source"), max_length=500)
    is_example = models.BooleanField(
        _("example value"), default=True, help_text=_("True unless the value cites its official publication (DOF).")
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True


class MinimumPeriod(RuleSource):
    """Minimum calendar days from publication to the opening, by law, regime and character."""

    law = models.CharField(max_length=6, choices=Law.choices)
    regime = models.CharField(max_length=4, choices=Regime.choices)
    procedure_type = models.CharField(max_length=12, choices=ProcedureType.choices)
    character = models.CharField(max_length=24, choices=Character.choices)
    days = models.PositiveSmallIntegerField()
    reduced_days = models.PositiveSmallIntegerField(help_text=_("Minimum with a written justification."))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["law", "regime", "procedure_type", "character", "version"], name="minimumperiod_unique"
            ),
            models.CheckConstraint(condition=Q(reduced_days__lte=models.F("days")), name="minimumperiod_reduced_le"),
        ]

    def __str__(self) -> str:
        return f"{self.law} {self.regime} {self.procedure_type} {self.character}: {self.days} ({self.reduced_days})"


class Threshold(RuleSource):
    """Maximum amounts (excluding VAT) for direct award and invitation, by fiscal year, contract type and band."""

    fiscal_year = models.PositiveSmallIntegerField()
    contract_type = models.CharField(max_length=16, choices=ContractType.choices)
    budget_band = models.PositiveSmallIntegerField()
    direct_award_max = models.DecimalField(max_digits=17, decimal_places=2)
    invitation_max = models.DecimalField(max_digits=17, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["fiscal_year", "contract_type", "budget_band", "version"], name="threshold_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year} {self.contract_type} band {self.budget_band}"


class AmendmentCap(RuleSource):
    """Maximum total increase of a contract by convenios modificatorios, as a percentage, by law."""

    law = models.CharField(max_length=6, choices=Law.choices)
    percent = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["law", "version"], name="amendmentcap_unique")]

    def __str__(self) -> str:
        return f"{self.law}: {self.percent}%"
