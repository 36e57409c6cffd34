"""Documents of procedures and contracts, stored by content hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from licita.core.models import TimeStamped


class DocumentKind(models.TextChoices):
    TENDER_NOTICE = "tenderNotice", _("convocatoria")
    CLARIFICATIONS = "clarifications", _("junta de aclaraciones minutes")
    AMENDMENT = "tenderAmendment", _("amendment to the convocatoria")
    JUSTIFICATION = "justification", _("written justification")
    BIDDING_DOCUMENTS = "biddingDocuments", _("bidding documents")
    TECHNICAL = "technicalSpecifications", _("technical specifications")
    OPENING_MINUTES = "openingMinutes", _("opening minutes (acta)")
    EVALUATION = "evaluationReports", _("evaluation report")
    AWARD_NOTICE = "awardNotice", _("fallo")
    CONTRACT_SIGNED = "contractSigned", _("signed contract")
    CONTRACT_AMENDMENT = "contractAmendment", _("convenio modificatorio")
    OTHER = "other", _("other")


class Document(TimeStamped):
    """A published document attached to a procedure (and optionally to one of its contracts)."""

    procedure = models.ForeignKey("procurement.Procedure", on_delete=models.CASCADE, related_name="documents")
    contract = models.ForeignKey(
        "procurement.Contract", null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["procedure", "created_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.filename})"
