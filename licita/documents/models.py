"""Documents of procedures and contracts, stored by content hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from licita.core import clock
from licita.core.models import AppendOnly, TimeStamped


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


class Blob(models.Model):
    """A stored blob and the state of its replica copy (one row per SHA-256, written with the local copy)."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=clock.now, editable=False)
    #: When the replica last received or was found to hold a good copy; null: not replicated yet.
    replicated_at = models.DateTimeField(null=True, blank=True)
    #: When the scrubber last re-hashed the copies and left a good local copy.
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["replicated_at"], name="blob_replicated_at")]

    def __str__(self) -> str:
        return self.sha256


class ScrubRun(AppendOnly):
    """One run of the scrubber and what it found (kept forever: the status page shows the latest)."""

    UNRECOVERABLE_KEPT = 1000

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Blobs whose local copy was re-hashed, and their bytes.
    checked = models.PositiveBigIntegerField(default=0)
    bytes = models.PositiveBigIntegerField(default=0)
    #: Replica copies downloaded and re-hashed, and their bytes.
    replica_checked = models.PositiveBigIntegerField(default=0)
    replica_bytes = models.PositiveBigIntegerField(default=0)
    repaired_local = models.PositiveIntegerField(default=0)
    repaired_replica = models.PositiveIntegerField(default=0)
    #: Blobs copied to the replica for the first time.
    replicated = models.PositiveIntegerField(default=0)
    #: Blobs with no good copy anywhere that could be read: how many, and the first UNRECOVERABLE_KEPT hashes.
    unrecoverable_count = models.PositiveIntegerField(default=0)
    unrecoverable = models.JSONField(default=list)
    #: Why the replica could not be checked (empty: it was, or none is configured).
    replica_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"scrub {self.started_at:%Y-%m-%d %H:%M}"
