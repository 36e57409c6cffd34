"""Base models shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models

from licita.core import clock


class TimeStamped(models.Model):
    """A row that knows when it was created and last changed."""

    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        abstract = True


class AppendOnly(models.Model):
    """A row that is never deleted (audit and publication records)."""

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refuse: append-only rows are kept forever."""
        msg = f"{type(self).__name__} rows are append-only and cannot be deleted"
        raise TypeError(msg)


class AuditEntry(AppendOnly):
    """One act of the platform: who did what to which object, when (never changed, never deleted)."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey("accounts.User", null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=60)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse to change an existing entry."""
        if self.pk is not None and not self._state.adding:
            msg = "audit entries are immutable"
            raise TypeError(msg)
        super().save(*args, **kwargs)
