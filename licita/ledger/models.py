"""The public ledger's rows: leaves, the perfect subtrees above them, the head and the signed checkpoints.

Leaves and checkpoints are append-only: the models refuse to change or delete them, and database
triggers (migration 0002) refuse UPDATE and DELETE from anyone who goes around the models.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from licita.core import clock
from licita.core.models import AppendOnly


class LeafKind(models.TextChoices):
    RELEASE = "release", "Publicación OCDS / OCDS release"  #: an OCDS release, by its canonical SHA-256
    DOCUMENT = "document", "Documento / Document"  #: a stored document's SHA-256 and metadata
    BID_RECEIPT = "bid_receipt", "Acuse de proposición / Bid receipt"  #: the digest of a bid's signed receipt
    KEY_SHARE = "key_share", "Parte de la llave de apertura / Opening-key share"  #: a custodian gave their share
    OUTAGE = "outage", "Aviso de interrupción / Outage notice"  #: an outage notice of the continuity office


class _Immutable(AppendOnly):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse to change an existing row."""
        if not self._state.adding:
            msg = f"{type(self).__name__} rows are append-only and cannot be changed"
            raise TypeError(msg)
        super().save(*args, **kwargs)


class Leaf(_Immutable):
    """One entry of the log: `data` is canonical JSON; its hash is SHA-256(0x00 ‖ data)."""

    index = models.BigIntegerField(unique=True, help_text="Position in the log, from 0.")
    kind = models.CharField(max_length=20, choices=LeafKind.choices)
    data = models.TextField(help_text="The leaf's data: canonical JSON (sorted keys, no spaces, UTF-8).")
    hash = models.CharField(max_length=64, help_text="RFC 9162 leaf hash, hex.")
    ocid = models.CharField(max_length=100, blank=True, default="", db_index=True)
    ref = models.CharField(max_length=140, blank=True, default="", help_text="What the leaf is about (release id…).")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["index"]
        indexes = [models.Index(fields=["kind", "ref"], name="ledger_leaf_ref")]

    def __str__(self) -> str:
        return f"#{self.index} {self.kind} {self.ref}"


class Node(models.Model):
    """A perfect subtree's hash: level L, index I covers leaves [I·2^L, (I+1)·2^L). Level 0 are the leaves."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="ledger_node_position")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class Head(models.Model):
    """The log's one head row: its size and compact range, locked by every append (one tree, any writers)."""

    size = models.BigIntegerField(default=0)
    frontier = models.JSONField(default=list, help_text="Hex roots of the perfect subtrees, largest first.")

    def __str__(self) -> str:
        return f"ledger head at {self.size}"


class Checkpoint(_Immutable):
    """A signed tree head in the C2SP signed-note checkpoint format, kept forever."""

    size = models.BigIntegerField(unique=True)
    root = models.CharField(max_length=64, help_text="Root hash, hex.")
    note = models.TextField(help_text="The signed note, as published.")
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"
