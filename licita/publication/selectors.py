"""Public reads of the OCDS data: packages per ocid, record lists and the commit-order change feed."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from licita.core import clock
from licita.core.errors import NotFound, ValidationError
from licita.publication.models import Record, Release
from licita.publication.schema import BID_EXTENSION_URL

FEED_MAX_LIMIT = 1000
PUBLISHER = {"name": "Licita", "scheme": "MX-PLATAFORMA"}
LICENSE = "https://www.gob.mx/cms/uploads/attachment/file/217215/Terminos_de_Libre_Uso_MX.pdf"


class InvalidCursor(ValidationError):
    """Raised when a change-feed cursor is malformed, tampered with or from the future."""

    code = "invalid_cursor"
    status = 400


def licita_extension_url() -> str:
    """Return where this platform serves its own OCDS extension (licita_mexico)."""
    return f"{settings.LICITA_PUBLIC_URL}/api/ocds/extensions/licita_mexico/extension.json"


def _package_meta(uri: str) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": "1.1",
        "publishedDate": clock.now().astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "publisher": PUBLISHER,
        "license": LICENSE,
        "publicationPolicy": f"{settings.LICITA_PUBLIC_URL}/api/ocds/policy",
        "extensions": [BID_EXTENSION_URL, licita_extension_url()],
    }


def release_package(*, ocid: str, uri: str) -> dict[str, Any]:
    """Return the release package of one ocid (every release, oldest first)."""
    releases = [r.data for r in Release.objects.filter(ocid=ocid).order_by("id")]
    if not releases:
        raise NotFound(_("No releases for this ocid"))
    return _package_meta(uri) | {"releases": releases}


def record_of(record: Record) -> dict[str, Any]:
    """Return one OCDS record: the releases, the compiled release and the versioned release."""
    releases = [r.data for r in Release.objects.filter(ocid=record.ocid).order_by("id")]
    return {
        "ocid": record.ocid,
        "releases": releases,
        "compiledRelease": record.compiled,
        "versionedRelease": record.versioned,
    }


def record_package(*, ocid: str, uri: str) -> dict[str, Any]:
    """Return the record package of one ocid."""
    record = Record.objects.filter(ocid=ocid).first()
    if record is None:
        raise NotFound(_("No record for this ocid"))
    return _package_meta(uri) | {"records": [record_of(record)]}


def record_list(
    *,
    buyer: str | None = None,
    supplier: str | None = None,
    status: str | None = None,
    procedure_type: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Record]:
    """Return records filtered by buyer (siglas), supplier RFC, procedure status and type, and last-update dates."""
    qs = Record.objects.select_related("procedure__unit__institution").order_by("-updated_at", "-id")
    if buyer:
        qs = qs.filter(
            Q(procedure__unit__institution__siglas__iexact=buyer) | Q(procedure__unit__key=buyer.strip().upper())
        )
    if supplier:
        qs = qs.filter(procedure__awards__supplier__rfc=supplier.strip().upper()).distinct()
    if status:
        qs = qs.filter(procedure__status=status)
    if procedure_type:
        qs = qs.filter(procedure__procedure_type=procedure_type)
    if date_from:
        qs = qs.filter(updated_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(updated_at__date__lte=date_to)
    return qs


def _sign(payload: str) -> str:
    key = hashlib.sha256(("licita-feed-cursor|" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:16]


def cursor_encode(seq: int) -> str:
    """Return the opaque cursor that resumes the feed after position `seq`."""
    payload = f"v2.{seq}"
    return base64.urlsafe_b64encode(f"{payload}.{_sign(payload)}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> int:
    """Return the feed position of a cursor, or refuse it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, seq, signature = raw.split(".")
        valid = version == "v2" and hmac.compare_digest(signature, _sign(f"{version}.{seq}"))
        position = int(seq)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        valid = False
    if not valid:
        raise InvalidCursor(
            _("The feed cursor is malformed; use the next_cursor of a previous answer, or none to start"),
            field="cursor",
            rule="cursor",
        )
    return position


def feed_page(*, cursor: str | None, limit: int) -> dict[str, Any]:
    """Return the next releases in commit order after `cursor`, and the cursor to continue.

    Releases are served by their feed position (`seq`), which the sequencer in `feed.py` gives
    only to committed releases, in commit order: following `next_cursor` never skips or repeats.
    """
    if not 1 <= limit <= FEED_MAX_LIMIT:
        raise ValidationError(
            _("limit must be between 1 and %(n)d") % {"n": FEED_MAX_LIMIT}, field="limit", rule="range"
        )
    after = cursor_decode(cursor) if cursor else 0
    if after:
        top = Release.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", flat=True).first() or 0
        if after > top:
            raise InvalidCursor(_("The feed cursor is from the future"), field="cursor", rule="future")
    rows = [
        (seq or 0, data)
        for seq, data in Release.objects.filter(seq__gt=after).order_by("seq").values_list("seq", "data")[: limit + 1]
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursor_encode(rows[-1][0]) if rows else (cursor or cursor_encode(0))
    return {"releases": [data for _seq, data in rows], "next_cursor": next_cursor, "has_more": more}
