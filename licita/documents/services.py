"""Attach documents to procedures."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from licita.core import clock
from licita.core.audit import audit_append
from licita.core.errors import ValidationError
from licita.core.permissions import require_buyer
from licita.core.text import text_field
from licita.documents.models import Document, DocumentKind
from licita.documents.sniff import ALLOWED, allowed_names, sniff
from licita.documents.store import blob_put
from licita.ledger.models import LeafKind
from licita.ledger.services import ledger_append
from licita.procurement.models import Procedure, Status

if TYPE_CHECKING:
    from licita.accounts.models import User


@transaction.atomic
def document_attach(
    *, actor: User | None, procedure: Procedure, kind: str, title: str, filename: str, content_b64: str
) -> Document:
    """Store a document durably and attach it to a procedure of the actor's unit.

    Its type is told from its content (`sniff`): executables, HTML and unknown binary data are refused.
    """
    procedure = Procedure.objects.select_for_update().select_related("unit").get(pk=procedure.pk)
    require_buyer(
        actor, procedure.unit, visible=procedure.status != Status.DRAFT or procedure.announced_at is not None
    )
    if kind not in DocumentKind.values:
        raise ValidationError(
            _("kind must be one of: %(choices)s") % {"choices": ", ".join(DocumentKind.values)},
            field="kind",
            rule="choice",
        )
    title = text_field(title, "title", max_length=300)
    filename = text_field(filename, "filename", max_length=255)
    if "/" in filename or "\\" in filename:
        raise ValidationError(_("filename must be a plain file name"), field="filename", rule="filename")
    limit = settings.LICITA_MAX_DOCUMENT_BYTES
    if len(content_b64 or "") > 4 * (limit // 3 + 1):  # too large before decoding it: refuse without the copy
        raise ValidationError(
            _("The document exceeds %(n)d bytes") % {"n": limit}, field="content_b64", rule="max_size"
        )
    try:
        data = base64.b64decode(content_b64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(_("content_b64 must be base64"), field="content_b64", rule="base64") from None
    if not data:
        raise ValidationError(_("The document is empty"), field="content_b64", rule="required")
    if len(data) > limit:
        raise ValidationError(
            _("The document exceeds %(n)d bytes") % {"n": limit}, field="content_b64", rule="max_size"
        )
    sniffed = sniff(data, filename)
    if not sniffed.allowed:
        raise ValidationError(
            _("The file is %(detected)s, which is not accepted; accepted types: %(allowed)s")
            % {"detected": sniffed.label, "allowed": allowed_names()},
            field="content_b64",
            rule="type",
            detected=sniffed.kind,
            allowed=list(ALLOWED),
        )
    digest = blob_put(data)
    document = Document.objects.create(
        procedure=procedure,
        kind=kind,
        title=title,
        filename=filename,
        content_type=sniffed.content_type,
        sha256=digest,
        size=len(data),
        uploaded_by=actor,
        created_at=clock.act_time(),  # an acta back-captured inside `clock.recorded_act` keeps the act's date
    )
    from licita.procurement.services import _publish, _visible  # noqa: PLC0415
    from licita.publication.build import ocid_for  # noqa: PLC0415

    ocid = ocid_for(procedure)
    ledger_append(
        kind=LeafKind.DOCUMENT,
        entry={
            "ocid": ocid,
            "document_id": str(document.pk),
            "sha256": digest,
            "size": len(data),
            "filename": filename,
            "title": title,
            "document_type": kind,
        },
        ocid=ocid,
        ref=str(document.pk),
    )

    if _visible(procedure):
        _publish(procedure, "planning" if procedure.status == Status.DRAFT else "tenderUpdate")
    audit_append(
        actor=actor,
        action="document_attached",
        object_type="procedure",
        object_id=str(procedure.pk),
        data={"sha256": digest},
    )
    return document
