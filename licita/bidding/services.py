"""Sealed bids: opening keys, submission with signed receipts, withdrawal, the opening and the evaluation."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from licita.accounts.models import CustodianKey, Membership, Role, Supplier, User
from licita.bidding import crypto
from licita.bidding.errors import DeadlinePassed, OpeningRefused
from licita.bidding.models import Bid, BidDocument, BidLot, BidStatus, OpeningKey, ShareEnvelope
from licita.core import clock
from licita.core.audit import audit_append
from licita.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from licita.core.money import parse_amount
from licita.core.permissions import require_buyer, supplier_of
from licita.documents.store import blob_get, blob_put
from licita.ledger.models import LeafKind
from licita.ledger.services import checkpoint_sign, ledger_append, receipt_digest
from licita.procurement.models import EvaluationMethod, Procedure, ProcedureType, Provenance, Status
from licita.procurement.search import search_text_refresh
from licita.procurement.services import _close_if_due, _locked, _move, _publish, sanction_check
from licita.publication.build import ocid_for
from licita.publication.services import release_emit

MAX_BID_DOCUMENTS = 20
DOCUMENT_KINDS = ("technical", "economic")


def bid_context(procedure: Procedure, supplier: Supplier) -> bytes:
    """Return the HPKE context that binds a sealed bid to its procedure and bidder."""
    return f"{procedure.pk}|{procedure.number}|{supplier.rfc}".encode()


def share_context(procedure: Procedure, custodian: User) -> bytes:
    """Return the HPKE context that binds a sealed share to its procedure and custodian."""
    return f"{procedure.pk}|{procedure.number}|{custodian.pk}".encode()


def platform_signing_key() -> Any:
    """Return the platform's Ed25519 receipt-signing key."""
    return crypto.signing_key_load(seed_b64=settings.LICITA_SIGNING_KEY, keys_dir=settings.LICITA_KEYS_DIR)


# --- Custodians and the opening key ------------------------------------------------------------


@transaction.atomic
def custodian_key_register(*, actor: User | None, public_key_b64: str) -> CustodianKey:
    """Register (or replace) the actor's X25519 public key for receiving opening-key shares."""
    if actor is None or not actor.is_authenticated:
        raise ValidationError(_("Sign in to register a custodian key"), field="actor", rule="authenticated")
    try:
        raw = base64.b64decode(public_key_b64 or "", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValidationError(
            _("public_key must be a base64 X25519 public key of 32 bytes"), field="public_key", rule="x25519"
        )
    key, _created = CustodianKey.objects.update_or_create(
        user=actor, defaults={"public_key": raw, "updated_at": clock.now()}
    )
    audit_append(actor=actor, action="custodian_key_registered", object_type="user", object_id=str(actor.pk))
    return key


def _committee_member_allowed(member: User, procedure: Procedure) -> bool:
    unit = procedure.unit
    return (
        Membership.objects.filter(user=member, is_active=True)
        .filter(
            Q(role__in=[Role.BUYER_ADMIN, Role.BUYER_OPERATOR], unit=unit)
            | Q(role=Role.AUDITOR, institution__isnull=True)
            | Q(role=Role.AUDITOR, institution=unit.institution)
        )
        .exists()
    )


def opening_key_create(*, procedure: Procedure, committee: Sequence[int], threshold: int) -> OpeningKey:
    """Create the opening key, split its private half k-of-n and seal each share to one committee member."""
    members = list(User.objects.filter(pk__in=list(committee)).select_related("custodian_key"))
    if len(set(committee)) != len(committee) or len(members) != len(committee):
        raise ValidationError(
            _("committee must list distinct existing users"), field="committee", rule="distinct_users"
        )
    if not 2 <= threshold <= len(members):
        raise ValidationError(
            _("threshold must be between 2 and the committee size (%(n)d)") % {"n": len(members)},
            field="threshold",
            rule="k_of_n",
        )
    auditors = 0
    for member in members:
        if not _committee_member_allowed(member, procedure):
            raise ValidationError(
                _("%(user)s is neither a buyer of this unit nor an auditor overseeing it") % {"user": member.username},
                field="committee",
                rule="committee_member",
            )
        if not hasattr(member, "custodian_key"):
            raise ValidationError(
                _("%(user)s has no custodian key registered to receive a share") % {"user": member.username},
                field="committee",
                rule="custodian_key",
            )
        auditors += Membership.objects.filter(user=member, role=Role.AUDITOR, is_active=True).exists()
    if auditors == 0:
        raise ValidationError(
            _("The opening committee must include an oversight auditor"), field="committee", rule="auditor_required"
        )
    private, public = crypto.opening_keypair_generate()
    shares = crypto.key_split(secret=private, threshold=threshold, shares=len(members))
    del private
    opening_key = OpeningKey.objects.create(
        procedure=procedure, public_key=public, threshold=threshold, share_count=len(members)
    )
    ShareEnvelope.objects.bulk_create(
        [
            ShareEnvelope(
                opening_key=opening_key,
                custodian=member,
                sealed_share=crypto.share_seal(
                    custodian_public_key=bytes(member.custodian_key.public_key),
                    share=share,
                    context=share_context(procedure, member),
                ),
            )
            for member, share in zip(members, shares, strict=True)
        ]
    )
    return opening_key


@transaction.atomic
def share_claim(*, actor: User | None, procedure: Procedure) -> dict[str, Any]:
    """Hand the actor's sealed share over once, then erase it: the platform keeps no copy."""
    envelope = (
        ShareEnvelope.objects.select_for_update()
        .filter(opening_key__procedure=procedure, custodian=actor)
        .select_related("opening_key")
        .first()
    )
    if envelope is None or actor is None:
        raise NotFound(_("You hold no share of this procedure's opening key"))
    if envelope.sealed_share is None:
        raise Conflict(
            _("Your share was already handed over on %(at)s; the platform keeps no copy")
            % {"at": envelope.delivered_at},
            rule="share_delivered_once",
        )
    sealed = bytes(envelope.sealed_share)
    envelope.sealed_share = None
    envelope.delivered_at = clock.now()
    envelope.save(update_fields=["sealed_share", "delivered_at"])
    audit_append(actor=actor, action="share_claimed", object_type="procedure", object_id=str(procedure.pk))
    return {
        "procedure": procedure.number,
        "sealed_share": base64.b64encode(sealed).decode(),
        "context": base64.b64encode(share_context(procedure, actor)).decode(),
        "threshold": envelope.opening_key.threshold,
        "share_count": envelope.opening_key.share_count,
    }


# --- Bids ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BidLotInput:
    lot: int
    price: Any


@dataclass(frozen=True)
class BidDocumentInput:
    kind: str
    filename: str
    content_b64: str


def _bid_plaintext(procedure: Procedure, lots: Sequence[BidLotInput], documents: Sequence[BidDocumentInput]) -> bytes:
    numbers = set(procedure.lots.values_list("number", flat=True))
    seen: dict[int, str] = {}
    for i, entry in enumerate(lots, start=1):
        if not isinstance(entry.lot, int) or entry.lot not in numbers:
            raise ValidationError(
                _("Lot %(n)s does not exist in this procedure") % {"n": entry.lot},
                field=f"lots[{i}].lot",
                rule="exists",
            )
        if entry.lot in seen:
            raise ValidationError(
                _("Lot %(n)s appears twice") % {"n": entry.lot}, field=f"lots[{i}].lot", rule="unique"
            )
        seen[entry.lot] = str(parse_amount(entry.price, field=f"lots[{i}].price"))
    if not seen:
        raise ValidationError(_("A bid prices at least one lot"), field="lots", rule="required")
    if len(documents) > MAX_BID_DOCUMENTS:
        raise ValidationError(
            _("At most %(n)d documents per bid") % {"n": MAX_BID_DOCUMENTS}, field="documents", rule="max_items"
        )
    docs = []
    total = 0
    for i, doc in enumerate(documents, start=1):
        if doc.kind not in DOCUMENT_KINDS:
            raise ValidationError(
                _("documents[%(i)d].kind must be technical or economic") % {"i": i},
                field=f"documents[{i}].kind",
                rule="choice",
            )
        name = (doc.filename or "").strip()
        if not name or len(name) > 255 or "/" in name or "\\" in name:
            raise ValidationError(
                _("documents[%(i)d].filename must be a plain file name") % {"i": i},
                field=f"documents[{i}].filename",
                rule="filename",
            )
        try:
            content = base64.b64decode(doc.content_b64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(
                _("documents[%(i)d].content_b64 must be base64") % {"i": i},
                field=f"documents[{i}].content_b64",
                rule="base64",
            ) from None
        if not content:
            raise ValidationError(
                _("documents[%(i)d] is empty") % {"i": i}, field=f"documents[{i}].content_b64", rule="required"
            )
        total += len(content)
        docs.append({"kind": doc.kind, "filename": name, "content_b64": doc.content_b64})
    if total > settings.LICITA_MAX_DOCUMENT_BYTES:
        raise ValidationError(
            _("The bid's documents exceed %(n)d bytes") % {"n": settings.LICITA_MAX_DOCUMENT_BYTES},
            field="documents",
            rule="max_size",
        )
    return crypto.canonical_json(
        {"format": "licita-bid-v1", "procedure": procedure.number, "lots": seen, "documents": docs}
    )


@transaction.atomic
def bid_submit(
    *,
    actor: User | None,
    procedure: Procedure,
    lots: Sequence[BidLotInput],
    documents: Sequence[BidDocumentInput] = (),
    supplier_rfc: str | None = None,
) -> Bid:
    """Seal a bid to the opening key, store it durably and return it with its signed receipt.

    A bid in force from the same supplier is replaced. The deadline is checked against the database
    clock with the procedure row locked, and that instant is the receipt's commit time; closing and
    opening wait for the same lock, so no bid checked before the deadline can be missed by the opening.
    """
    if procedure.status == Status.DRAFT:
        raise NotFound(_("Procedure not found"))
    supplier = supplier_of(actor, supplier_rfc)
    if procedure.procedure_type == ProcedureType.DIRECT_AWARD:
        raise InvalidTransition(_("A direct award takes no bids"), rule="direct_award")
    sanction_check(supplier, field="supplier_rfc", bidding=True)
    if (
        procedure.procedure_type == ProcedureType.INVITATION
        and not procedure.invitations.filter(supplier=supplier).exists()
    ):
        raise ValidationError(
            _("%(rfc)s was not invited to this procedure; only invited suppliers may bid") % {"rfc": supplier.rfc},
            field="supplier_rfc",
            rule="invited",
        )
    plaintext = _bid_plaintext(procedure, lots, documents)
    opening_key = OpeningKey.objects.filter(procedure=procedure).first()
    if opening_key is None:
        raise InvalidTransition(_("This procedure does not take bids"), rule="no_opening_key")
    sealed = crypto.bid_seal(
        public_key=bytes(opening_key.public_key), plaintext=plaintext, context=bid_context(procedure, supplier)
    )
    del plaintext
    digest = blob_put(sealed)
    procedure = _locked(procedure)
    latest = Bid.objects.filter(procedure=procedure, supplier=supplier).order_by("-version").first()
    previous = latest if latest is not None and latest.status == BidStatus.SUBMITTED else None
    version = (latest.version if latest is not None else 0) + 1
    if previous is not None:
        previous.status = BidStatus.REPLACED
        previous.save(update_fields=["status", "updated_at"])
    committed_at = _deadline_check(procedure)
    bid = Bid.objects.create(
        procedure=procedure,
        supplier=supplier,
        submitted_by=actor,  # type: ignore[misc]
        version=version,
        sealed_sha256=digest,
        sealed_size=len(sealed),
        committed_at=committed_at,
    )
    payload = {
        "type": "licita-bid-receipt-v1",
        "procedure": procedure.number,
        "ocid_suffix": procedure.expediente,
        "bidder_rfc": supplier.rfc,
        "bid_id": str(bid.pk),
        "version": str(version),
        "bid_sha256": digest,
        "committed_at": committed_at.astimezone(dt.UTC).isoformat(),
        "deadline": procedure.submission_deadline.astimezone(dt.UTC).isoformat(),  # type: ignore[union-attr]
    }
    # The ledger holds the receipt's digest (not who bid: that stays sealed until the opening); the signed
    # receipt then names its leaf, and carries the checkpoint that covers it.
    ocid = ocid_for(procedure)
    leaf = ledger_append(
        kind=LeafKind.BID_RECEIPT,
        entry={"ocid": ocid, "receipt_sha256": receipt_digest(payload), "committed_at": payload["committed_at"]},
        ocid=ocid,
        ref=f"bid:{bid.pk}",
    )
    payload["ledger_index"] = str(leaf.index)
    bid.receipt = crypto.receipt_sign(key=platform_signing_key(), payload=payload)
    covering = checkpoint_sign()
    if covering is not None:
        bid.receipt["checkpoint"] = covering.note
    bid.save(update_fields=["receipt"])
    audit_append(
        actor=actor,
        action="bid_replaced" if previous else "bid_submitted",
        object_type="procedure",
        object_id=str(procedure.pk),
        data={"bid": bid.pk, "bid_sha256": digest},
    )
    return bid


def _deadline_check(procedure: Procedure) -> dt.datetime:
    """Return the database clock if bids are still accepted; refuse otherwise. Call last, with the row locked."""
    at = clock.db_now()
    if not procedure.is_open_for_bids(at):
        raise DeadlinePassed(
            _("Bids closed at %(deadline)s; this one reached the platform at %(at)s and was not accepted")
            % {"deadline": procedure.submission_deadline, "at": at},
            rule="submission_deadline",
            deadline=procedure.submission_deadline.isoformat() if procedure.submission_deadline else None,
            at=at.isoformat(),
        )
    return at


@transaction.atomic
def bid_withdraw(*, actor: User | None, bid: Bid) -> Bid:
    """Withdraw a bid in force before the deadline."""
    bid = Bid.objects.select_for_update().select_related("supplier").get(pk=bid.pk)
    supplier = supplier_of(actor, bid.supplier.rfc)
    if supplier.pk != bid.supplier_id:
        raise NotFound(_("Bid not found"))
    if bid.status != BidStatus.SUBMITTED:
        raise InvalidTransition(_("Only a bid in force can be withdrawn"), current=bid.status)
    procedure = _locked(bid.procedure)
    at = _deadline_check(procedure)
    bid.status = BidStatus.WITHDRAWN
    bid.withdrawn_at = at
    bid.save(update_fields=["status", "withdrawn_at", "updated_at"])
    audit_append(
        actor=actor, action="bid_withdrawn", object_type="procedure", object_id=str(procedure.pk), data={"bid": bid.pk}
    )
    return bid


# --- The opening ---------------------------------------------------------------------------------


@transaction.atomic
def bids_open(*, actor: User | None, procedure: Procedure, shares: Sequence[str]) -> Procedure:
    """Hold the opening act: rebuild the key from k shares, unseal every bid in force and record its prices."""
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=procedure.status != Status.DRAFT)
    now = clock.db_now()
    _close_if_due(procedure, now)
    if procedure.status in (Status.PUBLISHED, Status.DRAFT):
        raise OpeningRefused(
            _("Bids can be opened only after the submission deadline (%(deadline)s)")
            % {"deadline": procedure.submission_deadline},
            rule="submission_deadline",
        )
    if procedure.status != Status.CLOSED:
        raise InvalidTransition(_("The bids of this procedure were already opened"), current=procedure.status)
    if procedure.provenance != Provenance.PLATFORM:
        raise InvalidTransition(
            _("A recorded procedure's bids were on paper: record them with their opening's date instead"),
            rule="recorded_procedure",
        )
    opening_key = OpeningKey.objects.select_for_update().get(procedure=procedure)
    cleaned = [s.strip() for s in shares if isinstance(s, str) and s.strip()]
    if len(cleaned) < opening_key.threshold:
        raise crypto.ShareError(
            _("%(needed)d key shares are needed to open the bids; %(given)d were given")
            % {"needed": opening_key.threshold, "given": len(cleaned)},
            code="shares_insufficient",
            needed=opening_key.threshold,
            given=len(cleaned),
        )
    private = crypto.key_combine(mnemonics=cleaned)
    ocid = ocid_for(procedure)
    for number, share in enumerate(cleaned, 1):
        ledger_append(
            kind=LeafKind.KEY_SHARE,
            entry={
                "ocid": ocid,
                "share": number,
                "of": len(cleaned),
                "share_sha256": crypto.sha256_hex(share.encode()),
            },
            ocid=ocid,
            ref=f"opening:{procedure.pk}",
        )
    public = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    if public != bytes(opening_key.public_key):
        raise OpeningRefused(_("These shares do not belong to this procedure's opening key"), rule="wrong_shares")
    lots = {lot.number: lot for lot in procedure.lots.all()}
    opened = 0
    for bid in Bid.objects.filter(procedure=procedure, status=BidStatus.SUBMITTED).select_related("supplier"):
        plaintext = crypto.bid_unseal(
            private_key=private, sealed=blob_get(bid.sealed_sha256), context=bid_context(procedure, bid.supplier)
        )
        content = json.loads(plaintext)
        BidLot.objects.bulk_create(
            [BidLot(bid=bid, lot=lots[int(number)], price=Decimal(price)) for number, price in content["lots"].items()]
        )
        for doc in content["documents"]:
            data = base64.b64decode(doc["content_b64"])
            BidDocument.objects.create(
                bid=bid, kind=doc["kind"], filename=doc["filename"], sha256=blob_put(data), size=len(data)
            )
        bid.status = BidStatus.OPENED
        bid.save(update_fields=["status", "updated_at"])
        opened += 1
    del private
    opening_key.used_at = now
    opening_key.save(update_fields=["used_at", "updated_at"])
    _move(procedure, Status.OPENED)
    procedure.opened_at = now
    procedure.save(update_fields=["status", "updated_at", "opened_at"])
    _publish(procedure, "tenderUpdate")
    audit_append(
        actor=actor, action="bids_opened", object_type="procedure", object_id=str(procedure.pk), data={"bids": opened}
    )
    return procedure


@dataclass(frozen=True)
class RecordedBidInput:
    """A paper bid read out at an in-person opening: the bidder and its price per lot."""

    supplier_rfc: str
    lots: Sequence[BidLotInput]


def _recorded_lots(procedure: Procedure, lots: Sequence[BidLotInput], prefix: str) -> dict[int, Decimal]:
    numbers = set(procedure.lots.values_list("number", flat=True))
    prices: dict[int, Decimal] = {}
    for j, entry in enumerate(lots, start=1):
        field = f"{prefix}.lots[{j}]"
        if not isinstance(entry.lot, int) or entry.lot not in numbers:
            raise ValidationError(
                _("%(field)s: lot %(n)s does not exist in this procedure") % {"field": field, "n": entry.lot},
                field=f"{field}.lot",
                rule="exists",
            )
        if entry.lot in prices:
            raise ValidationError(
                _("%(field)s: lot %(n)s appears twice") % {"field": field, "n": entry.lot},
                field=f"{field}.lot",
                rule="unique",
            )
        prices[entry.lot] = parse_amount(entry.price, field=f"{field}.price")
    if not prices:
        raise ValidationError(
            _("%(field)s prices no lot") % {"field": prefix}, field=f"{prefix}.lots", rule="required"
        )
    return prices


@transaction.atomic
def bids_record(
    *, actor: User | None, procedure: Procedure, opened_at: dt.datetime, bids: Sequence[RecordedBidInput]
) -> Procedure:
    """Record the paper bids opened at an in-person act of a recorded procedure, dated when the act happened.

    Paper bids were never sealed on the platform: they are stored opened, with their prices, the act's date
    as their commit time and the digest of what was recorded, so that the evaluation, the fallo and the OCDS
    bids extension work as for an opening held here. A procedure run on the platform is refused: its bids
    are sealed and only `bids_open` opens them.
    """
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=procedure.status != Status.DRAFT)
    if procedure.provenance == Provenance.PLATFORM:
        raise ValidationError(
            _(
                "Bids of a procedure run on the platform are sealed and opened on it; only a recorded procedure's"
                " paper bids can be recorded"
            ),
            field="procedure",
            rule="recorded_procedure",
        )
    if procedure.procedure_type == ProcedureType.DIRECT_AWARD:
        raise InvalidTransition(_("A direct award takes no bids"), rule="direct_award")
    if procedure.status == Status.DRAFT or procedure.published_at is None:
        raise ValidationError(
            _("Record the convocatoria before the bids of its opening"), field="procedure", rule="order"
        )
    if procedure.opened_at is not None or procedure.status not in (Status.PUBLISHED, Status.CLOSED):
        raise Conflict(_("The bids of this procedure were already opened"), field="opened_at", rule="opened_once")
    if not isinstance(opened_at, dt.datetime) or opened_at.tzinfo is None:
        raise ValidationError(
            _("opened_at must be a date and time with its time zone"), field="opened_at", rule="datetime"
        )
    if opened_at > clock.now():
        raise ValidationError(_("opened_at cannot be in the future"), field="opened_at", rule="not_future")
    if opened_at < procedure.published_at:
        raise ValidationError(
            _("opened_at (%(at)s) is before the convocatoria (%(published)s)")
            % {"at": opened_at.isoformat(), "published": procedure.published_at.isoformat()},
            field="opened_at",
            rule="order",
        )
    invited = set(procedure.invitations.values_list("supplier__rfc", flat=True))
    lots = {lot.number: lot for lot in procedure.lots.all()}
    rows: list[tuple[Supplier, dict[int, Decimal]]] = []
    for i, entry in enumerate(bids, start=1):
        prefix = f"bids[{i}]"
        rfc = (entry.supplier_rfc or "").strip().upper()
        supplier = Supplier.objects.filter(rfc=rfc).first() if rfc else None
        if supplier is None:
            raise ValidationError(
                _("%(field)s: %(rfc)s is not a registered supplier") % {"field": prefix, "rfc": rfc or "—"},
                field=f"{prefix}.supplier_rfc",
                rule="registered_supplier",
            )
        if any(s.pk == supplier.pk for s, _p in rows):
            raise ValidationError(
                _("%(field)s: %(rfc)s appears twice") % {"field": prefix, "rfc": rfc},
                field=f"{prefix}.supplier_rfc",
                rule="unique",
            )
        if procedure.procedure_type == ProcedureType.INVITATION and rfc not in invited:
            raise ValidationError(
                _("%(field)s: %(rfc)s was not invited to this procedure") % {"field": prefix, "rfc": rfc},
                field=f"{prefix}.supplier_rfc",
                rule="invited",
            )
        rows.append((supplier, _recorded_lots(procedure, entry.lots, prefix)))
    for supplier, prices in rows:
        content = crypto.canonical_json(
            {
                "format": "licita-recorded-bid-v1",
                "procedure": procedure.number,
                "supplier": supplier.rfc,
                "lots": {str(n): str(p) for n, p in sorted(prices.items())},
            }
        )
        bid = Bid.objects.create(
            procedure=procedure,
            supplier=supplier,
            submitted_by=actor,  # type: ignore[misc]
            status=BidStatus.OPENED,
            sealed_sha256=crypto.sha256_hex(content),
            sealed_size=len(content),
            committed_at=opened_at,
        )
        BidLot.objects.bulk_create([BidLot(bid=bid, lot=lots[n], price=p) for n, p in prices.items()])
    if procedure.status == Status.PUBLISHED:
        _move(procedure, Status.CLOSED)
    _move(procedure, Status.OPENED)
    procedure.opened_at = opened_at
    procedure.save(update_fields=["status", "updated_at", "opened_at"])
    search_text_refresh(procedure)
    release_emit(procedure=procedure, tags=["tenderUpdate"], date=opened_at)
    audit_append(
        actor=actor,
        action="bids_recorded",
        object_type="procedure",
        object_id=str(procedure.pk),
        data={"bids": len(rows), "opened_at": opened_at.isoformat()},
    )
    return procedure


@dataclass(frozen=True)
class EvaluationInput:
    supplier_rfc: str
    lot: int
    compliant: bool
    reason: str = ""
    technical_points: Any = None


@transaction.atomic
def bids_evaluate(*, actor: User | None, procedure: Procedure, evaluations: Sequence[EvaluationInput]) -> Procedure:
    """Record the evaluation of every opened bid per lot, with a reason for every disqualification."""
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=True)
    if procedure.status != Status.OPENED:
        raise InvalidTransition(_("Bids are evaluated after the opening"), current=procedure.status)
    rows = {
        (bl.bid.supplier.rfc, bl.lot.number): bl
        for bl in BidLot.objects.filter(bid__procedure=procedure, bid__status=BidStatus.OPENED).select_related(
            "bid__supplier", "lot"
        )
    }
    seen = set()
    points = procedure.evaluation_method == EvaluationMethod.POINTS
    for i, ev in enumerate(evaluations, start=1):
        key = ((ev.supplier_rfc or "").strip().upper(), ev.lot)
        row = rows.get(key)
        if row is None:
            raise ValidationError(
                _("evaluations[%(i)d]: %(rfc)s has no opened bid for lot %(lot)s")
                % {"i": i, "rfc": key[0], "lot": ev.lot},
                field=f"evaluations[{i}]",
                rule="opened_bid",
            )
        if key in seen:
            raise ValidationError(
                _("evaluations[%(i)d] repeats a bid and lot") % {"i": i}, field=f"evaluations[{i}]", rule="unique"
            )
        seen.add(key)
        reason = (ev.reason or "").strip()
        if not ev.compliant and len(reason) < 10:
            raise ValidationError(
                _("evaluations[%(i)d]: every disqualification needs a written reason (10+ characters)") % {"i": i},
                field=f"evaluations[{i}].reason",
                rule="reason_required",
            )
        row.compliant = bool(ev.compliant)
        row.disqualification_reason = "" if ev.compliant else reason
        if points:
            if ev.technical_points is None:
                raise ValidationError(
                    _("evaluations[%(i)d].technical_points is required for points evaluation") % {"i": i},
                    field=f"evaluations[{i}].technical_points",
                    rule="required",
                )
            tech = parse_amount(ev.technical_points, field=f"evaluations[{i}].technical_points", allow_zero=True)
            if tech > procedure.technical_points_max:
                raise ValidationError(
                    _("technical_points cannot exceed %(n)d") % {"n": procedure.technical_points_max},
                    field=f"evaluations[{i}].technical_points",
                    rule="max",
                )
            row.technical_points = tech
    missing = sorted(set(rows) - seen)
    if missing:
        raise ValidationError(
            _("Every opened bid must be evaluated for every lot it prices; missing: %(m)s")
            % {"m": ", ".join(f"{r} lot {n}" for r, n in missing)},
            field="evaluations",
            rule="complete",
        )
    if points:
        _economic_points(procedure, list(rows.values()))
    BidLot.objects.bulk_update(
        list(rows.values()), ["compliant", "disqualification_reason", "technical_points", "economic_points"]
    )
    _move(procedure, Status.EVALUATED)
    procedure.save(update_fields=["status", "updated_at"])
    _publish(procedure, "tenderUpdate")
    audit_append(actor=actor, action="bids_evaluated", object_type="procedure", object_id=str(procedure.pk))
    return procedure


def _economic_points(procedure: Procedure, rows: list[BidLot]) -> None:
    """Give each technically qualified bid economic points = max × lowest price ÷ its price, per lot."""
    by_lot: dict[int, list[BidLot]] = {}
    for row in rows:
        qualified = (
            row.compliant
            and row.technical_points is not None
            and row.technical_points >= procedure.technical_points_min
        )
        if row.compliant and not qualified:
            row.compliant = False
            row.disqualification_reason = _("Technical points below the minimum of %(n)d") % {
                "n": procedure.technical_points_min
            }
        if qualified:
            by_lot.setdefault(row.lot_id, []).append(row)
    for lot_rows in by_lot.values():
        lowest = min(r.price for r in lot_rows)
        for r in lot_rows:
            r.economic_points = (Decimal(procedure.economic_points_max) * lowest / r.price).quantize(Decimal("0.01"))
