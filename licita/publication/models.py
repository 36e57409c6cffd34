"""OCDS releases (immutable) and each procedure's compiled record, kept current as releases are emitted."""

from __future__ import annotations

from typing import Any

from django.db import models

from licita.core.fields import JSONTextField
from licita.core.models import AppendOnly


class Release(AppendOnly):
    """One published OCDS release: written once in the act's own transaction, never changed or deleted."""

    ocid = models.CharField(max_length=100, db_index=True)
    release_id = models.CharField(max_length=140, unique=True)
    procedure = models.ForeignKey("procurement.Procedure", on_delete=models.PROTECT, related_name="releases")
    date = models.DateTimeField(help_text="When the act happened.")
    published_at = models.DateTimeField(help_text="When the platform published it.")
    tags = models.JSONField()
    data = JSONTextField()
    seq = models.BigIntegerField(
        null=True,
        blank=True,
        unique=True,
        help_text="Position in the change feed, given after commit in commit order (see publication/feed.py).",
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="release_unsequenced"),
            # Bulk records read every release in (procedure, id) order: an index, not a sort of the table.
            models.Index(fields=["procedure", "id"], name="release_procedure_order"),
        ]

    def __str__(self) -> str:
        return self.release_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse to change a published release."""
        if not self._state.adding:
            msg = "releases are immutable (only the feed sequencer sets seq, with an UPDATE of its own)"
            raise TypeError(msg)
        super().save(*args, **kwargs)


class Record(models.Model):
    """The compiled and versioned release of one procedure, updated with every release."""

    ocid = models.CharField(max_length=100, unique=True)
    procedure = models.OneToOneField("procurement.Procedure", on_delete=models.PROTECT, related_name="record")
    compiled = JSONTextField()
    versioned = JSONTextField()
    state = JSONTextField(
        help_text="The compiler's incremental state, without its compiled and versioned release (the columns above)."
    )
    release_count = models.PositiveIntegerField(default=0)
    first_published_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.ocid
