"""Sealed bids, opening keys and their custodians' shares, the opening and the evaluation.

Before the opening, a bid's content exists only as an HPKE ciphertext in the blob store; no
column here holds a price or a document of an unopened bid.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from licita.accounts.models import Supplier
from licita.core.models import TimeStamped
from licita.procurement.models import Lot, Procedure


class OpeningKey(TimeStamped):
    """The public half of a procedure's opening key; the private half exists only as custodians' shares."""

    procedure = models.OneToOneField(Procedure, on_delete=models.CASCADE, related_name="opening_key")
    public_key = models.BinaryField(max_length=32)
    threshold = models.PositiveSmallIntegerField(_("shares needed"))
    share_count = models.PositiveSmallIntegerField(_("shares issued"))
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gte=2) & Q(threshold__lte=models.F("share_count")), name="openingkey_k_of_n"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure.number}: {self.threshold}-of-{self.share_count}"


class ShareEnvelope(TimeStamped):
    """One custodian's share, sealed to the custodian's own key; erased once handed over."""

    opening_key = models.ForeignKey(OpeningKey, on_delete=models.CASCADE, related_name="envelopes")
    custodian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="share_envelopes")
    sealed_share = models.BinaryField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opening_key", "custodian"], name="shareenvelope_one_per_custodian"),
        ]

    def __str__(self) -> str:
        return f"{self.opening_key.procedure.number} → {self.custodian}"


class BidStatus(models.TextChoices):
    #: Sealed and in force
    SUBMITTED = "submitted", _("submitted")
    #: Replaced by a newer version before the deadline
    REPLACED = "replaced", _("replaced")
    #: Withdrawn by the bidder before the deadline
    WITHDRAWN = "withdrawn", _("withdrawn")
    #: Opened in the opening act
    OPENED = "opened", _("opened")


class Bid(TimeStamped):
    """A sealed bid (proposición) of a supplier to a procedure."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="bids")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="bids")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=BidStatus.choices, default=BidStatus.SUBMITTED)
    sealed_sha256 = models.CharField(max_length=64)
    sealed_size = models.PositiveIntegerField()
    committed_at = models.DateTimeField(_("committed at"))
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    receipt = models.JSONField(default=dict)

    class Meta:
        ordering = ["procedure", "supplier", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "supplier"],
                condition=Q(status__in=["submitted", "opened"]),
                name="bid_one_in_force_per_supplier",
            ),
            models.UniqueConstraint(fields=["procedure", "supplier", "version"], name="bid_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure.number} / {self.supplier.rfc} v{self.version}"


class BidLot(models.Model):
    """An opened bid's price for one lot (written only at the opening)."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="lots")
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="bid_lots")
    price = models.DecimalField(max_digits=17, decimal_places=2)
    compliant = models.BooleanField(null=True)
    disqualification_reason = models.TextField(blank=True)
    technical_points = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    economic_points = models.DecimalField(max_digits=6, decimal_places=2, null=True)

    class Meta:
        ordering = ["lot__number", "price"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "lot"], name="bidlot_unique"),
            models.CheckConstraint(condition=Q(price__gt=0), name="bidlot_price_positive"),
            models.CheckConstraint(
                condition=~Q(compliant=False) | ~Q(disqualification_reason=""), name="bidlot_disqualified_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bid} lot {self.lot.number}: {self.price}"

    def total_points(self) -> Decimal | None:
        """Return technical plus economic points, when both are known."""
        if self.technical_points is None or self.economic_points is None:
            return None
        return self.technical_points + self.economic_points


class BidDocument(models.Model):
    """A document of an opened bid (technical or economic), stored by hash after the opening."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=10, choices=[("technical", _("technical")), ("economic", _("economic"))])
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"{self.bid}: {self.filename}"
