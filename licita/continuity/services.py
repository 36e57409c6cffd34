"""Outages on the public record, legal periods extended by rule, contingency procedures registered and back-captured.

Every function is a service in the project's sense: keyword-only, with an `actor` (None is the system), one
transaction, the ledger entry and the OCDS releases written inside it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from licita.accounts.models import Membership, PurchasingUnit, User
from licita.continuity.errors import BadSignature, Duplicate, OutsideOutage
from licita.continuity.models import (
    ContingencyProcedure,
    ContinuityRule,
    DeadlineExtension,
    OfficialKey,
    Outage,
    Source,
)
from licita.continuity.selectors import outage_get
from licita.core import clock
from licita.core.audit import audit_append
from licita.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from licita.core.money import parse_amount
from licita.core.permissions import is_auditor_of, is_buyer_of, is_platform_admin, memberships
from licita.core.text import text_field
from licita.ledger.canonical import canonical_json
from licita.ledger.models import LeafKind
from licita.ledger.services import checkpoint_sign, ledger_append
from licita.procurement import services as proc
from licita.procurement.models import (
    ContractType,
    Invitation,
    LegalBasis,
    Procedure,
    ProcedureType,
    Provenance,
    Status,
    TenderAmendment,
)

if TYPE_CHECKING:
    from licita.ledger.models import Leaf

FILE_FORMAT = "licita-contingency/1"


# --- The rule ---------------------------------------------------------------------------------


def rule_for(day: dt.date) -> ContinuityRule:
    """Return the continuity rule in force on `day` (the latest version)."""
    rule = (
        ContinuityRule.objects.filter(Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day)))
        .order_by("-version")
        .first()
    )
    if rule is None:
        raise ValidationError(_("No continuity rule is recorded for %(day)s") % {"day": day}, rule="continuity_rule")
    return rule


def add_business_days(at: dt.datetime, days: int) -> dt.datetime:
    """Return `at` moved on by `days` business days (Monday to Friday, in the platform's time zone)."""
    local = timezone.localtime(at)
    while days > 0:
        local += dt.timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    return local


def extension_for(outage: Outage, rule: ContinuityRule) -> dt.timedelta:
    """Return how much every overlapping period is extended: the outage's length plus the rule's business days.

    The business days are counted from the outage's end, so every procedure gets the same extension and the
    update is one statement whatever the number of procedures.
    """
    assert outage.ended_at is not None
    length = outage.ended_at - outage.started_at
    return length + (add_business_days(outage.ended_at, rule.extension_business_days) - outage.ended_at)


# --- Outages ----------------------------------------------------------------------------------


def _outage_entry(outage: Outage, event: str) -> dict[str, Any]:
    return {
        "event": event,
        "outage": outage.pk,
        "start": outage.started_at.astimezone(dt.UTC).isoformat(),
        "end": outage.ended_at.astimezone(dt.UTC).isoformat() if outage.ended_at else None,
        "affected": outage.affected,
        "cause": outage.cause,
        "origin": outage.origin,
        "by": outage.declared_by.username if event == "declared" and outage.declared_by else None,
    }


def _log(outage: Outage, event: str) -> Leaf:
    return ledger_append(kind=LeafKind.OUTAGE, entry=_outage_entry(outage, event), ref=f"outage-{outage.pk}-{event}")


def _require_auditor(actor: User | None) -> None:
    if actor is None:
        return
    if not (memberships(actor, ["auditor"]) or is_platform_admin(actor)):
        raise PermissionDenied(_("Only an auditor may declare or close an outage"), rule="auditor")


def _check_period(start: Any, end: Any, *, now: dt.datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            raise ValidationError(
                _("%(field)s must be a date and time with its time zone") % {"field": name},
                field=name,
                rule="datetime",
            )
    if start > now:
        raise ValidationError(_("start cannot be in the future"), field="start", rule="not_future")
    if end is not None and end <= start:
        raise ValidationError(_("end must be after start"), field="end", rule="order")
    if end is not None and end > now:
        raise ValidationError(_("end cannot be in the future"), field="end", rule="not_future")


def outage_declare(
    *,
    actor: User | None,
    start: dt.datetime,
    affected: str,
    cause: str,
    end: dt.datetime | None = None,
    origin: str = Outage.Origin.DECLARED,
) -> Outage:
    """Declare an outage (an auditor, or the system for the health monitor); with `end` it is closed at once."""
    with transaction.atomic():
        _require_auditor(actor)
        now = clock.now()
        _check_period(start, end, now=now)
        affected = text_field(affected, "affected", min_length=3, max_length=500)
        cause = text_field(cause, "cause", min_length=3, max_length=5000)
        overlapping = Outage.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=start), started_at__lt=end or now
        ).first()
        if overlapping is not None:
            raise Duplicate(
                _("An outage is already recorded for this period (since %(start)s)")
                % {"start": timezone.localtime(overlapping.started_at)},
                field="start",
                rule="one_outage_at_a_time",
                outage=overlapping.pk,
            )
        outage = Outage.objects.create(
            started_at=start,
            affected=affected,
            cause=cause,
            origin=origin,
            declared_by=actor,
            recorded_at=now,
        )
        outage.ledger_index = _log(outage, "declared").index
        outage.save(update_fields=["ledger_index"])
        audit_append(actor=actor, action="outage_declared", object_type="outage", object_id=str(outage.pk))
        if end is not None:
            _close(actor=actor, outage=outage, end=end)
        checkpoint_sign()
    return outage


def outage_close(*, actor: User | None, outage: Outage, end: dt.datetime) -> Outage:
    """Close an outage: record its end, extend the periods it overlapped and set the back-capture deadline."""
    with transaction.atomic():
        _require_auditor(actor)
        outage = Outage.objects.select_for_update().get(pk=outage.pk)
        if outage.ended_at is not None:
            raise Conflict(_("This outage is already closed"), rule="closed")
        _check_period(outage.started_at, end, now=clock.now())
        _close(actor=actor, outage=outage, end=end)
        checkpoint_sign()
    return outage


def _close(*, actor: User | None, outage: Outage, end: dt.datetime) -> None:
    rule = rule_for(timezone.localdate(outage.started_at))
    outage.ended_at = end
    outage.closed_by = actor
    outage.upload_deadline = add_business_days(end, rule.upload_business_days)
    outage.extension = extension_for(outage, rule)
    outage.close_ledger_index = _log(outage, "closed").index
    outage.extended_count = deadlines_extend(outage=outage, extension=outage.extension)
    outage.save(
        update_fields=["ended_at", "closed_by", "upload_deadline", "extension", "close_ledger_index", "extended_count"]
    )
    audit_append(
        actor=actor,
        action="outage_closed",
        object_type="outage",
        object_id=str(outage.pk),
        data={"extended": outage.extended_count},
    )


# --- The health monitor's hooks (licita/ops/state.py) ----------------------------------------


def outage_monitor_open(*, since: dt.datetime, reason: str) -> Outage:
    """Open the outage of a read-only period (when the database takes writes); return the one already open."""
    with transaction.atomic():
        outage = Outage.objects.filter(origin=Outage.Origin.MONITOR, ended_at__isnull=True).first()
        if outage is not None:
            return outage
        return outage_declare(
            actor=None,
            start=since,
            affected=_("The platform could not take writes"),
            cause=reason or _("write fault"),
            origin=Outage.Origin.MONITOR,
        )


def outage_monitor_close(*, since: dt.datetime, end: dt.datetime, reason: str) -> Outage:
    """Close the monitor's open outage when writes resume (opening it first, with its true start, if need be)."""
    with transaction.atomic():
        outage = Outage.objects.select_for_update().get(pk=outage_monitor_open(since=since, reason=reason).pk)
        if outage.ended_at is None:
            _close(actor=None, outage=outage, end=max(end, outage.started_at + dt.timedelta(microseconds=1)))
            checkpoint_sign()
        return outage


# --- Deadline extensions ----------------------------------------------------------------------


#: The statuses in which each legal period still runs (and can be extended).
_BEFORE_OPENING = [Status.PUBLISHED, Status.CLOSED]
_BEFORE_FALLO = [Status.PUBLISHED, Status.CLOSED, Status.OPENED, Status.EVALUATED]
_BEFORE_SIGNATURE = [Status.AWARDED]


def _affected(outage: Outage) -> Any:
    """Return the procedures with a legal period still running that overlaps the outage.

    Submission (and clarification): published before the outage ended, not opened, deadline not before its
    start. Fallo: the date the convocatoria set for it not before the outage's start, no fallo yet. Contract
    signature: the fallo given before the outage ended, its signature deadline not before the start, no contract.
    Only procedures run on the platform: a recorded one (back-captured, imported) ran its periods elsewhere.
    """
    assert outage.ended_at is not None
    start, end = outage.started_at, outage.ended_at
    return (
        Procedure.objects.filter(provenance=Provenance.PLATFORM)
        .filter(
            Q(
                status__in=_BEFORE_OPENING,
                opened_at__isnull=True,
                submission_deadline__gte=start,
                published_at__lte=end,
            )
            | Q(status__in=_BEFORE_FALLO, award_deadline__gte=start, published_at__lte=end)
            | Q(status__in=_BEFORE_SIGNATURE, signature_deadline__gte=start, awarded_at__lte=end)
        )
        .exclude(outage_extensions__outage=outage)
    )


def _extended(
    field: str, statuses: Iterable[str], start: dt.datetime, extension: dt.timedelta, *, status: str
) -> Case:
    """`field` moved by `extension` where its period still runs (status in `statuses`, not over by `start`)."""
    return Case(
        When(Q(**{f"{status}__in": statuses, f"{field}__gte": start}), then=F(field) + extension),
        default=F(field),
    )


def deadlines_extend(*, outage: Outage, extension: dt.timedelta, publish: bool = True) -> int:
    """Extend, set-based, every legal period overlapping the closed outage; publish one amendment per procedure.

    The periods are those of `_affected`: clarification and submission (moved together, and the procedure
    reopened for bids if its deadline had passed), the fallo's date and the contract signature deadline; each
    only while it still runs. Call inside the outage's transaction. The extension rows (every deadline before
    and after) and the amendments are written by `INSERT ... SELECT` and the deadlines moved by one `UPDATE`,
    whatever the number of procedures; then each procedure's `tenderAmendment` release is emitted and, after
    commit, its bidders are told by email.
    """
    now = clock.now()
    start = outage.started_at
    reason = _(
        "Legal periods still running (clarification, submission, fallo, contract signature) extended by %(days)s"
        " because of the outage of %(start)s to %(end)s (outage %(id)s): %(affected)s"
    ) % {
        "days": _format_duration(extension),
        "start": f"{timezone.localtime(outage.started_at):%Y-%m-%d %H:%M}",
        "end": f"{timezone.localtime(outage.ended_at):%Y-%m-%d %H:%M}",
        "id": outage.pk,
        "affected": outage.affected,
    }
    affected_sql, affected_params = _affected(outage).values("pk").query.sql_with_params()
    extensions = DeadlineExtension._meta.db_table  # noqa: SLF001 - Django's public model API
    amendments = TenderAmendment._meta.db_table  # noqa: SLF001
    procedures = Procedure._meta.db_table  # noqa: SLF001
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {extensions} (outage_id, procedure_id, previous_submission, new_submission,"  # noqa: S608 - table names from the models
            " previous_clarification, new_clarification, previous_award, new_award, previous_signature,"
            " new_signature, previous_status)"
            " SELECT %s, p.id, p.submission_deadline, p.submission_deadline, p.clarification_deadline,"
            " p.clarification_deadline, p.award_deadline, p.award_deadline, p.signature_deadline,"
            f" p.signature_deadline, p.status FROM {procedures} p WHERE p.id IN ({affected_sql})",
            [outage.pk, *affected_params],
        )
        count = cursor.rowcount
    if not count:
        return 0
    status = "previous_status"
    DeadlineExtension.objects.filter(outage=outage).update(
        new_submission=_extended("previous_submission", _BEFORE_OPENING, start, extension, status=status),
        new_clarification=Case(
            When(
                Q(previous_status__in=_BEFORE_OPENING, previous_submission__gte=start),
                then=F("previous_clarification") + extension,
            ),
            default=F("previous_clarification"),
        ),
        new_award=_extended("previous_award", _BEFORE_FALLO, start, extension, status=status),
        new_signature=_extended("previous_signature", _BEFORE_SIGNATURE, start, extension, status=status),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {amendments} (created_at, updated_at, procedure_id, description, previous_deadline,"  # noqa: S608 - table names from the models
            " new_deadline, actor_id)"
            f" SELECT %s, %s, e.procedure_id, %s, e.previous_submission, e.new_submission, NULL FROM {extensions} e"
            " WHERE e.outage_id = %s",
            [stamp, stamp, reason, outage.pk],
        )
    reopen = Q(status__in=_BEFORE_OPENING, submission_deadline__gte=start)
    Procedure.objects.filter(outage_extensions__outage=outage).update(
        clarification_deadline=Case(
            When(reopen, then=F("clarification_deadline") + extension), default=F("clarification_deadline")
        ),
        award_deadline=_extended("award_deadline", _BEFORE_FALLO, start, extension, status="status"),
        signature_deadline=_extended("signature_deadline", _BEFORE_SIGNATURE, start, extension, status="status"),
        submission_deadline=_extended("submission_deadline", _BEFORE_OPENING, start, extension, status="status"),
        status=Case(When(reopen, then=Value(Status.PUBLISHED)), default=F("status")),
        updated_at=now,
    )
    audit_append(
        actor=None,
        action="deadlines_extended",
        object_type="outage",
        object_id=str(outage.pk),
        data={"procedures": count, "extension_seconds": int(extension.total_seconds())},
    )
    outage_pk = outage.pk
    if publish and count <= INLINE_RELEASES:
        _releases_emit(outage_pk, limit=count)
    elif publish:
        transaction.on_commit(lambda: extension_releases_publish(outage=outage_pk))
    transaction.on_commit(lambda: _notify_bidders(outage_pk, reason))
    return count


#: Up to this many extended procedures, their releases are emitted in the outage's own transaction; beyond,
#: in batches of RELEASE_BATCH after it commits (the extension itself is public at once in the ledger leaf).
INLINE_RELEASES = 1000
RELEASE_BATCH = 500


def _releases_emit(outage_pk: int, *, limit: int) -> int:
    """Emit the `tenderAmendment` release of up to `limit` extended procedures not yet published."""
    from licita.publication.services import release_emit  # noqa: PLC0415

    pending = list(
        DeadlineExtension.objects.select_for_update()
        .filter(outage_id=outage_pk, released_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "procedure_id")[:limit]
    )
    procedures = Procedure.objects.select_related("unit__institution").in_bulk([p for _pk, p in pending])
    for _pk, procedure_id in pending:
        release_emit(procedure=procedures[procedure_id], tags=["tenderAmendment"])
    DeadlineExtension.objects.filter(pk__in=[pk for pk, _p in pending]).update(released_at=clock.now())
    return len(pending)


def extension_releases_publish(*, outage: int | None = None, batch: int = RELEASE_BATCH) -> int:
    """Publish every pending extension release (of one outage, or all), one transaction per batch."""
    published = 0
    outages = (
        [outage]
        if outage is not None
        else list(
            DeadlineExtension.objects.filter(released_at__isnull=True).values_list("outage_id", flat=True).distinct()
        )
    )
    for outage_pk in outages:
        while True:
            with transaction.atomic():
                done = _releases_emit(outage_pk, limit=batch)
            published += done
            if done < batch:
                break
    return published


def _format_duration(value: dt.timedelta) -> str:
    days, seconds = value.days, value.seconds
    return _("%(d)d days %(h)d h") % {"d": days, "h": seconds // 3600}


def _notify_bidders(outage_pk: int, reason: str) -> None:
    """Email the representatives of suppliers invited to, or bidding in, the procedures the outage extended."""
    from licita.bidding.models import Bid  # noqa: PLC0415

    extended = DeadlineExtension.objects.filter(outage_id=outage_pk).values("procedure_id")
    suppliers = set(Invitation.objects.filter(procedure_id__in=extended).values_list("supplier_id", flat=True))
    suppliers |= set(Bid.objects.filter(procedure_id__in=extended).values_list("supplier_id", flat=True))
    emails = sorted(
        {
            email
            for email in Membership.objects.filter(
                role="supplier_rep", is_active=True, supplier_id__in=suppliers
            ).values_list("user__email", flat=True)
            if email
        }
    )
    if not emails:
        return
    subject = _("Licita: deadlines extended after an outage")
    send_mass_mail([(subject, reason, settings.DEFAULT_FROM_EMAIL, [email]) for email in emails], fail_silently=True)


# --- Officials' keys and signed contingency files ---------------------------------------------


def key_id_for(public_key: bytes) -> str:
    """Return a key's id: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def _decode_public_key(text: str) -> bytes:
    try:
        raw = base64.b64decode((text or "").strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValidationError(
            _("public_key must be an Ed25519 public key in base64 (32 bytes)"), field="public_key", rule="ed25519"
        )
    return raw


@transaction.atomic
def official_key_register(*, actor: User | None, unit: PurchasingUnit, user: User, public_key: str) -> OfficialKey:
    """Register a unit official's Ed25519 public key, with which contingency files are signed."""
    if actor is not None and not (is_buyer_of(actor, unit, ["buyer_admin"]) or is_platform_admin(actor)):
        raise PermissionDenied(_("Only the unit's administrator may register an official's key"), rule="buyer_admin")
    if not is_buyer_of(user, unit):
        raise ValidationError(
            _("%(user)s is not an official of unit %(unit)s") % {"user": user.username, "unit": unit.key},
            field="user",
            rule="unit_membership",
        )
    raw = _decode_public_key(public_key)
    key_id = key_id_for(raw)
    if OfficialKey.objects.filter(key_id=key_id).exists():
        raise Duplicate(_("This key is already registered"), field="public_key", rule="unique")
    key = OfficialKey.objects.create(
        unit=unit,
        user=user,
        key_id=key_id,
        public_key=base64.b64encode(raw).decode("ascii"),
        registered_at=clock.now(),
    )
    audit_append(
        actor=actor,
        action="official_key_registered",
        object_type="unit",
        object_id=str(unit.pk),
        data={"key_id": key_id, "user": user.username},
    )
    return key


def contingency_file_sign(*, key: Ed25519PrivateKey, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Return the signed file: the payload with `key_id` and the Ed25519 `signature` of its canonical JSON."""
    body = {**payload, "format": FILE_FORMAT, "key_id": key_id_for(key.public_key().public_bytes_raw())}
    body.pop("signature", None)
    return {**body, "signature": base64.b64encode(key.sign(canonical_json(body))).decode("ascii")}


def contingency_file_verify(data: Any) -> tuple[OfficialKey, dict[str, Any]]:
    """Check a contingency file's format and signature against the registered key; return the key and body."""
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        raise ValidationError(
            _("The file is not a Licita contingency file (format %(f)s)") % {"f": FILE_FORMAT},
            field="format",
            rule="format",
        )
    body = {k: v for k, v in data.items() if k != "signature"}
    key = OfficialKey.objects.select_related("unit", "user").filter(key_id=str(data.get("key_id", ""))).first()
    if key is None or not key.is_active:
        raise BadSignature(
            _("The file is signed with a key that is not registered on the platform (key %(id)s)")
            % {"id": data.get("key_id", "")},
            field="key_id",
            rule="registered_key",
        )
    try:
        signature = base64.b64decode(str(data.get("signature", "")), validate=True)
        Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key)).verify(signature, canonical_json(body))
    except (ValueError, InvalidSignature):
        raise BadSignature(
            _("The file's signature does not verify with key %(id)s: it was altered or signed with another key")
            % {"id": key.key_id},
            field="signature",
            rule="signature",
        ) from None
    if str(body.get("unit", "")).upper() != key.unit.key:
        raise BadSignature(
            _("The file is for unit %(file)s but key %(id)s belongs to unit %(unit)s")
            % {"file": body.get("unit"), "id": key.key_id, "unit": key.unit.key},
            field="unit",
            rule="key_unit",
        )
    return key, body


# --- Contingency procedures -------------------------------------------------------------------


@dataclass(frozen=True)
class ContingencyInput:
    """What a unit records of a procedure carried out in person: what, who, when, how much, on which basis."""

    ref: str
    title: str
    procedure_type: str
    contract_type: str
    legal_basis: str
    supplier_rfc: str
    amount: Any
    carried_out_at: dt.datetime
    currency: str = "MXN"

    @classmethod
    def from_json(cls, row: Mapping[str, Any], *, index: int) -> ContingencyInput:
        """Return the input of a file's row (`procedures[index]`), refusing a bad date with its field."""
        field = f"procedures[{index}].carried_out_at"
        try:
            at = dt.datetime.fromisoformat(str(row.get("carried_out_at", "")))
        except ValueError:
            raise ValidationError(
                _("%(field)s must be an ISO date and time") % {"field": field}, field=field, rule="datetime"
            ) from None
        return cls(
            ref=str(row.get("ref", "")),
            title=str(row.get("title", "")),
            procedure_type=str(row.get("procedure_type", "")),
            contract_type=str(row.get("contract_type", "")),
            legal_basis=str(row.get("legal_basis", "")),
            supplier_rfc=str(row.get("supplier_rfc", "")),
            amount=row.get("amount"),
            carried_out_at=at,
            currency=str(row.get("currency", "MXN")),
        )

    def as_json(self) -> dict[str, Any]:
        """Return the row as it is written in a contingency file."""
        return {
            "ref": self.ref,
            "title": self.title,
            "procedure_type": self.procedure_type,
            "contract_type": self.contract_type,
            "legal_basis": self.legal_basis,
            "supplier_rfc": self.supplier_rfc,
            "amount": str(self.amount),
            "currency": self.currency,
            "carried_out_at": self.carried_out_at.isoformat(),
        }


def _in_outage(outage: Outage, at: Any, field: str, *, now: dt.datetime) -> dt.datetime:
    if not isinstance(at, dt.datetime) or timezone.is_naive(at):
        raise ValidationError(
            _("%(field)s must be a date and time with its time zone") % {"field": field}, field=field, rule="datetime"
        )
    if not outage.contains(at, now=now):
        end = outage.ended_at or now
        raise OutsideOutage(
            _(
                "%(field)s (%(at)s) is outside the outage (%(start)s to %(end)s): only acts carried out during it are"
                " recorded as contingency"
            )
            % {
                "field": field,
                "at": f"{timezone.localtime(at):%Y-%m-%d %H:%M}",
                "start": f"{timezone.localtime(outage.started_at):%Y-%m-%d %H:%M}",
                "end": f"{timezone.localtime(end):%Y-%m-%d %H:%M}",
            },
            field=field,
            rule="inside_outage",
        )
    return at


def _clean_row(
    outage: Outage, unit: PurchasingUnit, row: ContingencyInput, prefix: str, now: dt.datetime
) -> dict[str, Any]:
    text = text_field
    choice = proc._choice  # noqa: SLF001
    fields = {
        "ref": text(row.ref, f"{prefix}ref", max_length=60),
        "title": text(row.title, f"{prefix}title", min_length=5, max_length=500),
        "procedure_type": choice(row.procedure_type, ProcedureType, f"{prefix}procedure_type"),
        "contract_type": choice(row.contract_type, ContractType, f"{prefix}contract_type"),
        "legal_basis": choice(row.legal_basis, LegalBasis, f"{prefix}legal_basis"),
        "supplier_rfc": text(row.supplier_rfc, f"{prefix}supplier_rfc", min_length=12, max_length=13).upper(),
        "amount": parse_amount(row.amount, field=f"{prefix}amount"),
        "currency": text(row.currency, f"{prefix}currency", max_length=3).upper(),
        "carried_out_at": _in_outage(outage, row.carried_out_at, f"{prefix}carried_out_at", now=now),
    }
    if ContingencyProcedure.objects.filter(outage=outage, unit=unit, ref=fields["ref"]).exists():
        raise Duplicate(
            _("%(field)s: procedure %(ref)s of unit %(unit)s is already registered for this outage")
            % {"field": f"{prefix}ref", "ref": fields["ref"], "unit": unit.key},
            field=f"{prefix}ref",
            rule="unique",
        )
    return fields


def _require_unit(actor: User | None, unit: PurchasingUnit) -> None:
    if actor is not None and not is_buyer_of(actor, unit):
        raise PermissionDenied(
            _("Only the purchasing unit %(unit)s may do this") % {"unit": unit.key}, rule="unit_membership"
        )


def _unit(unit_key: str) -> PurchasingUnit:
    key = text_field(unit_key, "unit", max_length=20).upper()
    unit = PurchasingUnit.objects.select_related("institution").filter(key=key).first()
    if unit is None:
        raise NotFound(_("Purchasing unit not found"), field="unit")
    return unit


def _register(
    *,
    actor: User | None,
    outage: Outage,
    unit: PurchasingUnit,
    rows: Iterable[ContingencyInput],
    source: str,
    key: OfficialKey | None = None,
    file_sha256: str = "",
) -> list[ContingencyProcedure]:
    now = clock.now()
    created: list[ContingencyProcedure] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        prefix = f"procedures[{i}]." if source == Source.FILE else ""
        fields = _clean_row(outage, unit, row, prefix, now)
        if fields["ref"] in seen:
            raise Duplicate(
                _("%(field)s: procedure %(ref)s appears twice") % {"field": f"{prefix}ref", "ref": fields["ref"]},
                field=f"{prefix}ref",
                rule="unique",
            )
        seen.add(fields["ref"])
        created.append(
            ContingencyProcedure.objects.create(
                outage=outage,
                unit=unit,
                source=source,
                signed_with=key,
                file_sha256=file_sha256,
                registered_by=actor,
                registered_at=now,
                **fields,
            )
        )
    if not created:
        raise ValidationError(_("Register at least one procedure"), field="procedures", rule="required")
    ledger_append(
        kind=LeafKind.OUTAGE,
        entry={
            "event": "contingency_registered",
            "outage": outage.pk,
            "unit": unit.key,
            "refs": [c.ref for c in created],
            "amounts": [str(c.amount) for c in created],
            "file_sha256": file_sha256 or None,
            "key_id": key.key_id if key else None,
        },
        ref=f"outage-{outage.pk}-{unit.key}",
    )
    audit_append(
        actor=actor,
        action="contingency_registered",
        object_type="outage",
        object_id=str(outage.pk),
        data={"unit": unit.key, "refs": [c.ref for c in created]},
    )
    return created


@transaction.atomic
def contingency_register(
    *, actor: User | None, outage: Outage, unit_key: str, procedure: ContingencyInput
) -> ContingencyProcedure:
    """Register one procedure a unit carried out in person during the outage (portal form, API, command)."""
    unit = _unit(unit_key)
    _require_unit(actor, unit)
    return _register(actor=actor, outage=outage, unit=unit, rows=[procedure], source=Source.FORM)[0]


def contingency_import(*, actor: User | None, raw: bytes) -> list[ContingencyProcedure]:
    """Import a signed contingency file: verify it, then register every procedure in it, or none."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValidationError(_("The file is not valid JSON"), field="file", rule="json") from None
    with transaction.atomic():
        key, body = contingency_file_verify(data)
        if actor is not None and not (is_buyer_of(actor, key.unit) or is_platform_admin(actor)):
            raise PermissionDenied(
                _("Only the purchasing unit %(unit)s may do this") % {"unit": key.unit.key}, rule="unit_membership"
            )
        outage = outage_get(pk=body.get("outage"))
        items = body.get("procedures")
        if not isinstance(items, list):
            raise ValidationError(_("procedures must be a list"), field="procedures", rule="list")
        rows = [
            ContingencyInput.from_json(row if isinstance(row, dict) else {}, index=i) for i, row in enumerate(items)
        ]
        return _register(
            actor=actor or key.user,
            outage=outage,
            unit=key.unit,
            rows=rows,
            source=Source.FILE,
            key=key,
            file_sha256=hashlib.sha256(raw).hexdigest(),
        )


def contingency_get(*, outage: Outage, unit_key: str, ref: str) -> ContingencyProcedure:
    """Return a registered contingency procedure; a back-capture of an unregistered one is refused here."""
    key = text_field(unit_key, "unit", max_length=20).upper()
    ref = text_field(ref, "ref", max_length=60)
    item = (
        ContingencyProcedure.objects.select_related("outage", "unit")
        .filter(outage=outage, unit__key=key, ref=ref)
        .first()
    )
    if item is None:
        raise NotFound(
            _("ref: procedure %(ref)s of unit %(unit)s is not registered for this outage; register it first")
            % {"ref": ref, "unit": unit_key},
            field="ref",
            rule="registered",
        )
    return item


def contingency_overdue_check(*, actor: User | None = None) -> int:
    """Escalate to the auditors every contingency procedure not fully uploaded by its deadline; return how many."""
    now = clock.now()
    with transaction.atomic():
        overdue = ContingencyProcedure.objects.select_for_update().filter(
            outage__upload_deadline__lt=now, completed_at__isnull=True, escalated_at__isnull=True
        )
        items = list(overdue.values_list("pk", "unit__key", "ref", "outage_id"))
        if not items:
            return 0
        ContingencyProcedure.objects.filter(pk__in=[i[0] for i in items]).update(escalated_at=now)
        for outage_id in sorted({i[3] for i in items}):
            audit_append(
                actor=actor,
                action="contingency_overdue",
                object_type="outage",
                object_id=str(outage_id),
                data={"items": [f"{unit}/{ref}" for _pk, unit, ref, o in items if o == outage_id]},
            )
    return len(items)


def may_declare(actor: User | None) -> bool:
    """Return whether the actor may declare and close outages."""
    return bool(memberships(actor, ["auditor"])) or is_platform_admin(actor)


def may_oversee(actor: User | None, unit: PurchasingUnit) -> bool:
    """Return whether the actor oversees the unit's contingency procedures."""
    return is_auditor_of(actor, unit)
