"""Operations records: write heartbeat, incidents, free-space samples (and restore drills)."""

from __future__ import annotations

from django.db import models

from licita.core import clock


class Heartbeat(models.Model):
    """One row, rewritten by the write probe: a committed write proves the database takes writes."""

    at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"heartbeat {self.at:%Y-%m-%d %H:%M:%S}"


class Incident(models.Model):
    """A period when the platform could not take writes (or another recorded failure), for the status page."""

    class Kind(models.TextChoices):
        READ_ONLY = "read_only", "Solo lectura / Read-only"  #: storage or database could not take writes
        CAPACITY = "capacity", "Espacio / Capacity warning"  #: free space forecast under the warning horizon

    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    components = models.JSONField(default=list)
    reason = models.TextField()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M}"


class CapacitySample(models.Model):
    """Free and total bytes of one volume at one moment (the worker samples each tick)."""

    at = models.DateTimeField(default=clock.now, db_index=True)
    volume = models.CharField(max_length=20)
    path = models.CharField(max_length=500)
    free_bytes = models.BigIntegerField()
    total_bytes = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["volume", "at"], name="capacity_volume_at")]

    def __str__(self) -> str:
        return f"{self.volume} {self.free_bytes} free at {self.at:%Y-%m-%d %H:%M}"


class RestoreDrill(models.Model):
    """One restore drill: a backup restored into a scratch location and compared with its source."""

    class Result(models.TextChoices):
        PASSED = "passed", "Correcto / Passed"  #: the restored copy equals the backup's source
        FAILED = "failed", "Con diferencias / Differences found"  #: restored, but something differs
        ERROR = "error", "Error"  #: the backup could not be verified or restored

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField()
    backup = models.CharField(max_length=500, help_text="The backup folder that was drilled.")
    backup_created_at = models.DateTimeField(null=True, blank=True)
    vendor = models.CharField(max_length=20, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices)
    restore_seconds = models.FloatField(null=True, blank=True)
    verify_seconds = models.FloatField(null=True, blank=True)
    total_seconds = models.FloatField()
    summary = models.JSONField(default=dict, help_text="Tables, rows, documents, bytes and ledger size.")
    differences = models.JSONField(default=list, help_text="Each check that differed: what, expected, found.")
    message = models.TextField(blank=True, help_text="Why the drill could not run (result error).")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(result__in=["passed", "failed", "error"]), name="restoredrill_result_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"drill {self.started_at:%Y-%m-%d %H:%M} {self.result}"
