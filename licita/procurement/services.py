"""Every change of state of a procedure goes through these functions (one transaction each)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from licita.accounts.models import PurchasingUnit, Supplier
from licita.accounts.rfc import rfc_normalize
from licita.accounts.sanctions import supplier_sanction_in_force
from licita.core import clock
from licita.core.audit import audit_append
from licita.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from licita.core.money import parse_amount, parse_currency
from licita.core.permissions import require_buyer
from licita.core.text import text_field
from licita.procurement import rules
from licita.procurement.errors import AmendmentCapExceeded, SanctionedSupplier, ThresholdExceeded
from licita.procurement.models import (
    CONTRACT_TRANSITIONS,
    CONTRACT_TYPES_BY_LAW,
    TRANSITIONS,
    Award,
    AwardStatus,
    Character,
    Clarification,
    Contract,
    ContractAmendment,
    ContractStatus,
    ContractType,
    EvaluationMethod,
    Form,
    Invitation,
    Item,
    Law,
    LegalBasis,
    Lot,
    LotStatus,
    Milestone,
    MilestoneStatus,
    Payment,
    Procedure,
    ProcedureType,
    Provenance,
    Status,
    TenderAmendment,
)
from licita.procurement.search import search_text_refresh

if TYPE_CHECKING:
    from licita.accounts.models import User

MIN_INVITED = rules.MIN_INVITED
MAX_QUANTITY = Decimal(99999999999)
MIN_JUSTIFICATION = rules.MIN_JUSTIFICATION
#: Changes to the convocatoria are allowed up to this many days before the opening (LAASSP Art. 33; verify).
AMENDMENT_DAYS_BEFORE_OPENING = 7
MIN_QUESTION_HOURS_BEFORE_OPENING = 24
PROCEDURE_LETTER: dict[str, str] = {
    ProcedureType.PUBLIC_TENDER: "L",
    ProcedureType.INVITATION: "I",
    ProcedureType.DIRECT_AWARD: "A",
}
LAW_LETTER: dict[str, str] = {Law.LAASSP: "A", Law.LOPSRM: "O"}


def _choice(value: Any, choices: type[Any], field: str) -> str:
    if value not in choices.values:
        raise ValidationError(
            _("%(field)s must be one of: %(choices)s") % {"field": field, "choices": ", ".join(choices.values)},
            field=field,
            rule="choice",
        )
    return str(value)


#: The one rule for free text (licita.core.text): trimmed, no control characters, within its length.
_text = text_field


def _aware(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValidationError(_("%(field)s must be a date and time") % {"field": field}, field=field, rule="datetime")
    if value.tzinfo is None:
        raise ValidationError(
            _("%(field)s must include a time zone offset") % {"field": field}, field=field, rule="timezone"
        )
    return value


def _move(procedure: Procedure, to: str) -> None:
    if to not in TRANSITIONS[procedure.status]:
        raise InvalidTransition(
            _("A procedure in status “%(from)s” cannot move to “%(to)s”")
            % {"from": Status(procedure.status).label, "to": Status(to).label},
            current=procedure.status,
            requested=to,
        )
    procedure.status = to
    procedure.updated_at = clock.now()


def _locked(procedure: Procedure) -> Procedure:
    return Procedure.objects.select_for_update().select_related("unit__institution").get(pk=procedure.pk)


def _audit(actor: User | None, action: str, procedure: Procedure, **data: Any) -> None:
    audit_append(actor=actor, action=action, object_type="procedure", object_id=str(procedure.pk), data=data)


def _publish(procedure: Procedure, *tags: str) -> None:
    """Emit the OCDS release of this act in the act's own transaction."""
    from licita.publication.services import release_emit  # noqa: PLC0415 - publication reads procurement

    search_text_refresh(procedure)
    release_emit(procedure=procedure, tags=list(tags))


def _visible(procedure: Procedure) -> bool:
    return procedure.status != Status.DRAFT or procedure.announced_at is not None


def _close_if_due(procedure: Procedure, at: dt.datetime) -> None:
    """Persist the time-driven close when the deadline has passed."""
    if procedure.effective_status(at) == Status.CLOSED and procedure.status == Status.PUBLISHED:
        _move(procedure, Status.CLOSED)
        procedure.save(update_fields=["status", "updated_at"])
        _publish(procedure, "tenderUpdate")
        _audit(None, "procedure_closed", procedure, deadline=procedure.submission_deadline.isoformat())  # type: ignore[union-attr]


# --- Creation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    cucop: str
    description: str
    quantity: Any
    unit: str


@dataclass(frozen=True)
class LotInput:
    title: str
    estimated_value: Any
    items: Sequence[ItemInput]


def _check_legal_basis(
    *,
    procedure_type: str,
    legal_basis: str,
    exception_fraction: str,
    justification: str,
    contract_type: str,
    fiscal_year: int,
    amount: Decimal,
    unit: PurchasingUnit,
    field: str = "estimated_value",
) -> None:
    if procedure_type == ProcedureType.PUBLIC_TENDER:
        if legal_basis != LegalBasis.TENDER:
            raise ValidationError(_("A public tender has legal basis art26"), field="legal_basis", rule="tender_basis")
        return
    if legal_basis == LegalBasis.TENDER:
        raise ValidationError(
            _("An invitation or direct award needs legal basis art41 (exception) or art42 (amount)"),
            field="legal_basis",
            rule="exception_basis",
        )
    if legal_basis == LegalBasis.EXCEPTION:
        if not exception_fraction:
            raise ValidationError(
                _("An Art. 41 exception must name its fraction"), field="exception_fraction", rule="required"
            )
        if len(justification) < MIN_JUSTIFICATION:
            raise ValidationError(
                _("An Art. 41 exception needs a written justification of at least %(n)d characters")
                % {"n": MIN_JUSTIFICATION},
                field="justification",
                rule="min_length",
            )
        return
    limits = rules.threshold(
        fiscal_year=fiscal_year, contract_type=contract_type, budget_band=unit.institution.budget_band
    )
    limit = limits.direct_award_max if procedure_type == ProcedureType.DIRECT_AWARD else limits.invitation_max
    if amount > limit:
        raise ThresholdExceeded(
            _(
                "%(amount)s exceeds the %(year)s threshold of %(limit)s for this procedure type by amount (Art. 42);"
                " use a public tender or an Art. 41 exception with its justification"
            )
            % {"amount": f"{amount:,.2f}", "year": fiscal_year, "limit": f"{limit:,.2f}"},
            field=field,
            rule="threshold",
            limit=str(limit),
            source=limits.source,
        )


def _check_awarded_amount(procedure: Procedure, amount: Decimal, *, field: str) -> None:
    """Refuse an awarded total that the procedure's legal basis does not allow (thresholds by amount)."""
    _check_legal_basis(
        procedure_type=procedure.procedure_type,
        legal_basis=procedure.legal_basis,
        exception_fraction=procedure.exception_fraction,
        justification=procedure.justification,
        contract_type=procedure.contract_type,
        fiscal_year=procedure.fiscal_year,
        amount=amount,
        unit=procedure.unit,
        field=field,
    )


def _next_numbers(unit: PurchasingUnit, procedure_type: str, law: str, year: int) -> tuple[str, str]:
    PurchasingUnit.objects.select_for_update().get(pk=unit.pk)
    seq = Procedure.objects.filter(unit=unit, fiscal_year=year).count() + 1
    while True:
        number = f"{PROCEDURE_LETTER[procedure_type]}{LAW_LETTER[law]}-{unit.key}-E{seq}-{year}"
        expediente = f"{unit.key}-{year}-{seq:05d}"
        if not Procedure.objects.filter(Q(number=number) | Q(expediente=expediente)).exists():
            return expediente, number
        seq += 1


@dataclass(frozen=True)
class _Draft:
    """A draft's fields and lots after every rule of procedure_create and procedure_update was checked."""

    fields: dict[str, Any]
    lots: list[tuple[str, Decimal, list[tuple[str, str, Decimal, str]]]]


def _draft_clean(
    *,
    unit: PurchasingUnit,
    fiscal_year: int,
    title: str,
    description: str,
    law: str,
    procedure_type: str,
    character: str,
    form: str,
    contract_type: str,
    legal_basis: str,
    exception_fraction: str,
    justification: str,
    evaluation_method: str,
    currency: str,
    lots: Sequence[LotInput],
) -> _Draft:
    """Check a draft's fields and lots against the rules (the one place they are written) and return them clean."""
    law = _choice(law, Law, "law")
    procedure_type = _choice(procedure_type, ProcedureType, "procedure_type")
    character = _choice(character, Character, "character")
    form = _choice(form, Form, "form")
    contract_type = _choice(contract_type, ContractType, "contract_type")
    legal_basis = _choice(legal_basis, LegalBasis, "legal_basis")
    evaluation_method = _choice(evaluation_method, EvaluationMethod, "evaluation_method")
    currency = parse_currency(currency)
    if contract_type not in CONTRACT_TYPES_BY_LAW[Law(law)]:
        raise ValidationError(
            _("Contract type %(type)s does not belong to %(law)s") % {"type": contract_type, "law": law},
            field="contract_type",
            rule="law_contract_type",
        )
    title = _text(title, "title", min_length=5, max_length=500)
    justification = _text(justification, "justification", min_length=0, max_length=10_000)
    description = _text(description, "description", min_length=0, max_length=20_000)
    exception_fraction = (exception_fraction or "").strip().upper()[:10]
    if not lots:
        raise ValidationError(_("A procedure needs at least one lot"), field="lots", rule="required")
    parsed: list[tuple[str, Decimal, list[tuple[str, str, Decimal, str]]]] = []
    for i, lot in enumerate(lots, start=1):
        lot_title = _text(lot.title, f"lots[{i}].title", max_length=300)
        value = parse_amount(lot.estimated_value, field=f"lots[{i}].estimated_value")
        if not lot.items:
            raise ValidationError(
                _("Lot %(n)d needs at least one item") % {"n": i}, field=f"lots[{i}].items", rule="required"
            )
        items = []
        for j, item in enumerate(lot.items, start=1):
            prefix = f"lots[{i}].items[{j}]"
            cucop = (item.cucop or "").strip()
            if not cucop.isdigit() or not 5 <= len(cucop) <= 12:
                raise ValidationError(
                    _("%(field)s must be a CUCoP code of 5 to 12 digits") % {"field": f"{prefix}.cucop"},
                    field=f"{prefix}.cucop",
                    rule="cucop",
                )
            qty = parse_amount(item.quantity, field=f"{prefix}.quantity")
            if qty > MAX_QUANTITY:
                raise ValidationError(
                    _("%(field)s is too large") % {"field": f"{prefix}.quantity"},
                    field=f"{prefix}.quantity",
                    rule="max",
                )
            items.append(
                (
                    cucop,
                    _text(item.description, f"{prefix}.description", max_length=500),
                    qty,
                    _text(item.unit, f"{prefix}.unit", max_length=40),
                )
            )
        parsed.append((lot_title, value, items))
    estimated = sum((v for _t, v, _i in parsed), Decimal(0))
    _check_legal_basis(
        procedure_type=procedure_type,
        legal_basis=legal_basis,
        exception_fraction=exception_fraction,
        justification=justification,
        contract_type=contract_type,
        fiscal_year=fiscal_year,
        amount=estimated,
        unit=unit,
    )
    fields = {
        "title": title,
        "description": description,
        "law": law,
        "procedure_type": procedure_type,
        "character": character,
        "form": form,
        "contract_type": contract_type,
        "legal_basis": legal_basis,
        "exception_fraction": exception_fraction,
        "justification": justification,
        "evaluation_method": evaluation_method,
        "estimated_value": estimated,
        "currency": currency,
    }
    return _Draft(fields=fields, lots=parsed)


def _draft_lots_write(procedure: Procedure, draft: _Draft) -> None:
    for n, (lot_title, value, items) in enumerate(draft.lots, start=1):
        lot_row = Lot.objects.create(procedure=procedure, number=n, title=lot_title, estimated_value=value)
        Item.objects.bulk_create(
            [Item(lot=lot_row, cucop=c, description=d, quantity=q, unit=u) for c, d, q, u in items]
        )


@transaction.atomic
def procedure_create(
    *,
    actor: User | None,
    unit_key: str,
    title: str,
    description: str = "",
    law: str,
    procedure_type: str,
    character: str = Character.NATIONAL,
    form: str = Form.ELECTRONIC,
    contract_type: str,
    legal_basis: str,
    exception_fraction: str = "",
    justification: str = "",
    evaluation_method: str = EvaluationMethod.BINARY,
    currency: str = "MXN",
    lots: Sequence[LotInput],
) -> Procedure:
    """Create a draft procedure with its lots and items in a unit the actor buys for."""
    unit = PurchasingUnit.objects.select_related("institution").filter(key=(unit_key or "").strip().upper()).first()
    if unit is None:
        raise NotFound(_("Purchasing unit not found"), field="unit_key")
    require_buyer(actor, unit, visible=True)
    today = timezone.localdate(clock.now())
    draft = _draft_clean(
        unit=unit,
        fiscal_year=today.year,
        title=title,
        description=description,
        law=law,
        procedure_type=procedure_type,
        character=character,
        form=form,
        contract_type=contract_type,
        legal_basis=legal_basis,
        exception_fraction=exception_fraction,
        justification=justification,
        evaluation_method=evaluation_method,
        currency=currency,
        lots=lots,
    )
    expediente, number = _next_numbers(unit, draft.fields["procedure_type"], draft.fields["law"], today.year)
    procedure = Procedure.objects.create(
        unit=unit,
        expediente=expediente,
        number=number,
        regime=rules.regime_for(today),
        fiscal_year=today.year,
        created_by=actor,
        **draft.fields,
    )
    _draft_lots_write(procedure, draft)
    _audit(actor, "procedure_created", procedure, number=number)
    return procedure


@transaction.atomic
def procedure_update(
    *,
    actor: User | None,
    procedure: Procedure,
    title: str,
    description: str = "",
    law: str,
    procedure_type: str,
    character: str = Character.NATIONAL,
    form: str = Form.ELECTRONIC,
    contract_type: str,
    legal_basis: str,
    exception_fraction: str = "",
    justification: str = "",
    evaluation_method: str = EvaluationMethod.BINARY,
    currency: str = "MXN",
    lots: Sequence[LotInput],
) -> Procedure:
    """Replace a draft's fields, lots and items, under the same rules as procedure_create."""
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    if procedure.status != Status.DRAFT:
        raise InvalidTransition(_("Only a draft can be edited"), current=procedure.status)
    draft = _draft_clean(
        unit=procedure.unit,
        fiscal_year=procedure.fiscal_year,
        title=title,
        description=description,
        law=law,
        procedure_type=procedure_type,
        character=character,
        form=form,
        contract_type=contract_type,
        legal_basis=legal_basis,
        exception_fraction=exception_fraction,
        justification=justification,
        evaluation_method=evaluation_method,
        currency=currency,
        lots=lots,
    )
    # The number's first two letters say the type and the law (LA-, IO-, …): they follow the draft's new ones.
    number = (
        PROCEDURE_LETTER[draft.fields["procedure_type"]] + LAW_LETTER[draft.fields["law"]] + procedure.number[2:]
        if procedure.provenance == Provenance.PLATFORM
        else procedure.number
    )
    if Procedure.objects.filter(number=number).exclude(pk=procedure.pk).exists():
        raise Conflict(
            _("Procedure number %(number)s is already taken") % {"number": number},
            field="procedure_type",
            rule="unique_number",
        )
    for name, value in draft.fields.items():
        setattr(procedure, name, value)
    procedure.number = number
    procedure.updated_at = clock.now()
    procedure.save(update_fields=[*draft.fields, "number", "updated_at"])
    Lot.objects.filter(procedure=procedure).delete()
    _draft_lots_write(procedure, draft)
    if procedure.announced_at is not None:
        _publish(procedure, "planning")
    _audit(actor, "procedure_updated", procedure, number=number)
    return procedure


@transaction.atomic
def procedure_invite(*, actor: User | None, procedure: Procedure, rfcs: Iterable[str]) -> list[Invitation]:
    """Invite suppliers (by RFC) to a draft invitación."""
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    if procedure.procedure_type != ProcedureType.INVITATION:
        raise ValidationError(
            _("Only an invitation takes invited suppliers"), field="procedure_type", rule="invitation"
        )
    if procedure.status != Status.DRAFT:
        raise InvalidTransition(
            _("Suppliers can be invited only while the procedure is a draft"), current=procedure.status
        )
    wanted = [rfc_normalize(r) for r in rfcs]
    if not wanted:
        raise ValidationError(_("Name at least one supplier RFC"), field="rfcs", rule="required")
    found = {s.rfc: s for s in Supplier.objects.filter(rfc__in=wanted)}
    missing = [r for r in wanted if r not in found]
    if missing:
        raise ValidationError(
            _("These RFCs are not registered suppliers: %(rfcs)s") % {"rfcs": ", ".join(missing)},
            field="rfcs",
            rule="registered_supplier",
            missing=missing,
        )
    created = []
    for rfc in dict.fromkeys(wanted):
        invitation, new = Invitation.objects.get_or_create(procedure=procedure, supplier=found[rfc])
        if new:
            created.append(invitation)
    _audit(actor, "suppliers_invited", procedure, rfcs=[i.supplier.rfc for i in created])
    return created


# --- Publication, clarifications and amendments ------------------------------------------------


@transaction.atomic
def procedure_announce(*, actor: User | None, procedure: Procedure) -> Procedure:
    """Make a draft public as planned (programa anual / proyecto de convocatoria) before its convocatoria."""
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure), roles=["buyer_admin"])
    if procedure.status != Status.DRAFT:
        raise InvalidTransition(_("Only a draft can be announced as planned"), current=procedure.status)
    if procedure.announced_at is not None:
        raise Conflict(_("This procedure was already announced"), rule="announced_once")
    procedure.announced_at = clock.now()
    procedure.save(update_fields=["announced_at", "updated_at"])
    _publish(procedure, "planning")
    _audit(actor, "procedure_announced", procedure)
    return procedure


@transaction.atomic
def procedure_publish(
    *,
    actor: User | None,
    procedure: Procedure,
    submission_deadline: dt.datetime,
    clarification_deadline: dt.datetime | None = None,
    award_deadline: dt.datetime | None = None,
    reduced_period_justification: str = "",
    committee: Sequence[int],
    threshold: int = 2,
) -> Procedure:
    """Publish the convocatoria: set the deadlines, create the opening key and seal its shares to the committee.

    `award_deadline` is the date of the fallo the convocatoria announces (optional; after the submission deadline).
    """
    from licita.bidding.services import opening_key_create  # noqa: PLC0415 - bidding builds on procurement

    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure), roles=["buyer_admin"])
    if procedure.procedure_type == ProcedureType.DIRECT_AWARD:
        raise InvalidTransition(
            _("A direct award is not published for bids: record its award instead"), rule="direct_award"
        )
    _move(procedure, Status.PUBLISHED)
    now = clock.now()
    submission_deadline = _aware(submission_deadline, "submission_deadline")
    reduced_period_justification = _text(
        reduced_period_justification, "reduced_period_justification", min_length=0, max_length=10_000
    )
    if clarification_deadline is None:
        clarification_deadline = submission_deadline - dt.timedelta(hours=MIN_QUESTION_HOURS_BEFORE_OPENING)
    clarification_deadline = _aware(clarification_deadline, "clarification_deadline")
    if award_deadline is not None:
        award_deadline = _aware(award_deadline, "award_deadline")
        if award_deadline <= submission_deadline:
            raise ValidationError(
                _("award_deadline: the fallo must come after the submission deadline (%(deadline)s)")
                % {"deadline": submission_deadline.isoformat()},
                field="award_deadline",
                rule="after_submission",
            )
    problems = rules.procedure_check(
        procedure,
        at=now,
        submission_deadline=submission_deadline,
        clarification_deadline=clarification_deadline,
        reduced_period_justification=reduced_period_justification,
    )
    if problems:
        raise problems[0].error
    procedure.published_at = now
    procedure.submission_deadline = submission_deadline
    procedure.clarification_deadline = clarification_deadline
    procedure.award_deadline = award_deadline
    procedure.reduced_period_justification = reduced_period_justification
    procedure.save(
        update_fields=[
            "status",
            "updated_at",
            "published_at",
            "submission_deadline",
            "clarification_deadline",
            "award_deadline",
            "reduced_period_justification",
        ]
    )
    opening_key_create(procedure=procedure, committee=committee, threshold=threshold)
    _publish(procedure, "tender")
    _audit(actor, "procedure_published", procedure, deadline=submission_deadline.isoformat())
    return procedure


@transaction.atomic
def procedure_record_publish(
    *, actor: User | None, procedure: Procedure, published_at: dt.datetime, submission_deadline: dt.datetime
) -> Procedure:
    """Record the convocatoria of a procedure carried out elsewhere (a recorded one: back-captured, imported).

    Its dates are those the convocatoria had: `published_at` (not in the future) and the opening it announced.
    No opening key is made, since its bids were not sealed here (they are recorded with `bids_record`), and the
    legal periods are not checked against today, since the acts already happened: their dates are public in
    the record, its release dated `published_at` and published now.
    """
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    if procedure.provenance == Provenance.PLATFORM:
        raise ValidationError(
            _("A procedure run on the platform is published with its opening key, not recorded"),
            field="procedure",
            rule="recorded_procedure",
        )
    if procedure.procedure_type == ProcedureType.DIRECT_AWARD:
        raise InvalidTransition(_("A direct award has no convocatoria"), rule="direct_award")
    published_at = _aware(published_at, "published_at")
    submission_deadline = _aware(submission_deadline, "submission_deadline")
    if published_at > clock.now():
        raise ValidationError(_("published_at cannot be in the future"), field="published_at", rule="not_future")
    if submission_deadline <= published_at:
        raise ValidationError(
            _("submission_deadline must be after the convocatoria's publication"),
            field="submission_deadline",
            rule="order",
        )
    _move(procedure, Status.PUBLISHED)
    procedure.published_at = published_at
    procedure.submission_deadline = submission_deadline
    procedure.save(update_fields=["status", "updated_at", "published_at", "submission_deadline"])
    with clock.recorded_act(published_at):
        _publish(procedure, "tender")
    _audit(
        actor, "procedure_recorded", procedure, provenance=procedure.provenance, published_at=published_at.isoformat()
    )
    return procedure


@transaction.atomic
def clarification_ask(
    *, actor: User | None, procedure: Procedure, question: str, supplier_rfc: str | None = None
) -> Clarification:
    """Record a supplier's question for the junta de aclaraciones."""
    from licita.core.permissions import supplier_of  # noqa: PLC0415

    procedure = _locked(procedure)
    if not _visible(procedure):
        raise NotFound(_("Procedure not found"))
    supplier = supplier_of(actor, supplier_rfc)
    if (
        procedure.procedure_type == ProcedureType.INVITATION
        and not procedure.invitations.filter(supplier=supplier).exists()
    ):
        raise ValidationError(
            _("Only invited suppliers take part in this invitation"), field="supplier_rfc", rule="invited"
        )
    if not procedure.is_open_for_questions(clock.now()):
        raise Conflict(_("Questions are no longer accepted for this procedure"), rule="clarification_deadline")
    text = _text(question, "question", min_length=5, max_length=5000)
    clarification = Clarification.objects.create(
        procedure=procedure,
        supplier=supplier,
        asked_by=actor,
        question=text,  # type: ignore[misc]
    )
    _audit(actor, "clarification_asked", procedure, clarification=clarification.pk)
    return clarification


@transaction.atomic
def clarification_answer(*, actor: User | None, clarification: Clarification, answer: str) -> Clarification:
    """Answer a question publicly; answers form part of the convocatoria."""
    clarification = Clarification.objects.select_for_update().get(pk=clarification.pk)
    procedure = _locked(clarification.procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    if procedure.effective_status(clock.now()) != Status.PUBLISHED:
        raise Conflict(_("Questions can be answered only before the submission deadline"), rule="submission_deadline")
    if clarification.answered_at is not None:
        raise Conflict(_("This question has already been answered"), rule="answered")
    clarification.answer = _text(answer, "answer", min_length=2, max_length=10000)
    clarification.answered_by = actor
    clarification.answered_at = clock.now()
    clarification.save(update_fields=["answer", "answered_by", "answered_at"])
    _publish(procedure, "tenderUpdate")
    _audit(actor, "clarification_answered", procedure, clarification=clarification.pk)
    return clarification


@transaction.atomic
def procedure_amend(
    *, actor: User | None, procedure: Procedure, description: str, submission_deadline: dt.datetime | None = None
) -> TenderAmendment:
    """Amend the convocatoria (documents and/or an extended deadline) before the submission deadline."""
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    now = clock.now()
    if procedure.effective_status(now) != Status.PUBLISHED:
        raise InvalidTransition(_("Only a published procedure open for bids can be amended"), current=procedure.status)
    description = _text(description, "description", min_length=10, max_length=5000)
    previous = procedure.submission_deadline
    assert previous is not None
    if submission_deadline is not None:
        submission_deadline = _aware(submission_deadline, "submission_deadline")
        if submission_deadline <= previous:
            raise ValidationError(
                _("An amendment can only extend the submission deadline"),
                field="submission_deadline",
                rule="extend_only",
            )
    late = previous - now < dt.timedelta(days=AMENDMENT_DAYS_BEFORE_OPENING)
    if late and (
        submission_deadline is None or submission_deadline - now < dt.timedelta(days=AMENDMENT_DAYS_BEFORE_OPENING)
    ):
        raise ValidationError(
            _(
                "Changes to the convocatoria are allowed up to %(n)d days before the opening; extend the deadline"
                " to at least %(n)d days from now"
            )
            % {"n": AMENDMENT_DAYS_BEFORE_OPENING},
            field="submission_deadline",
            rule="amendment_window",
        )
    amendment = TenderAmendment.objects.create(
        procedure=procedure,
        description=description,
        previous_deadline=previous,
        new_deadline=submission_deadline or previous,
        actor=actor,
    )
    if submission_deadline is not None:
        procedure.submission_deadline = submission_deadline
        procedure.updated_at = now
        procedure.save(update_fields=["submission_deadline", "updated_at"])
    _publish(procedure, "tenderAmendment")
    _audit(actor, "procedure_amended", procedure, amendment=amendment.pk)
    return amendment


@transaction.atomic
def procedure_cancel(*, actor: User | None, procedure: Procedure, reason: str) -> Procedure:
    """Cancel a procedure with a written reason, at any stage before a contract is signed."""
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    reason = _text(reason, "reason", min_length=10, max_length=5000)
    if procedure.contracts.exists():
        raise InvalidTransition(_("A procedure with a signed contract cannot be cancelled"), current=procedure.status)
    was_public = _visible(procedure)
    had_awards = procedure.awards.exists()
    _move(procedure, Status.CANCELLED)
    now = clock.now()
    procedure.cancelled_at = now
    procedure.cancellation_reason = reason
    procedure.save(update_fields=["status", "updated_at", "cancelled_at", "cancellation_reason"])
    procedure.lots.exclude(status=LotStatus.UNSUCCESSFUL).update(status=LotStatus.CANCELLED)
    procedure.awards.update(status=AwardStatus.CANCELLED, updated_at=now)
    if was_public:
        _publish(procedure, "tenderCancellation", *(["awardCancellation"] if had_awards else []))
    _audit(actor, "procedure_cancelled", procedure, reason=reason)
    return procedure


def procedures_tick(*, actor: User | None = None) -> int:
    """Persist time-driven transitions (submission closes at the deadline); return how many moved."""
    moved = 0
    due = Procedure.objects.filter(status=Status.PUBLISHED, submission_deadline__lte=clock.now()).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            procedure = Procedure.objects.select_for_update().get(pk=pk)
            before = procedure.status
            _close_if_due(procedure, clock.db_now())
            moved += procedure.status != before
    return moved


# --- Fallo, contracts and implementation ------------------------------------------------------


def sanction_check(supplier: Supplier, *, field: str, bidding: bool = False) -> None:
    """Refuse a supplier sanctioned (inhabilitado) today: it can neither bid nor be awarded."""
    sanction = supplier_sanction_in_force(supplier=supplier, on=timezone.localdate(clock.now()))
    if sanction is None:
        return
    if bidding:
        message = _("%(name)s is sanctioned (inhabilitado) until %(end)s and cannot submit bids")
    else:
        message = _("%(name)s is sanctioned (inhabilitado) until %(end)s and cannot be awarded")
    raise SanctionedSupplier(
        message % {"name": supplier.name, "end": sanction.ends_on},
        field=field,
        rule="sanctioned",
        sanction=sanction.case_number,
    )


@transaction.atomic
def award_decide(*, actor: User | None, procedure: Procedure) -> Procedure:
    """Issue the fallo from the recorded evaluation: per lot, the best compliant bid wins or the lot is desierta."""
    from licita.bidding.selectors import lot_ranking  # noqa: PLC0415

    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    if procedure.status != Status.EVALUATED:
        raise InvalidTransition(_("The fallo needs a recorded evaluation"), current=procedure.status)
    now = clock.act_time()  # the fallo's date (a back-captured one's, inside `clock.recorded_act`)
    awarded = 0
    for lot in procedure.lots.filter(status=LotStatus.ACTIVE):
        ranking = lot_ranking(lot=lot, method=procedure.evaluation_method)
        if not ranking:
            lot.status = LotStatus.UNSUCCESSFUL
            lot.save(update_fields=["status"])
            continue
        best = ranking[0]
        sanction_check(best.bid.supplier, field=f"lots[{lot.number}]")
        Award.objects.create(
            procedure=procedure,
            lot=lot,
            supplier=best.bid.supplier,
            bid=best.bid,
            value=best.price,
            currency=procedure.currency,
            date=now,
            rationale=_("Best compliant bid (%(method)s)") % {"method": procedure.get_evaluation_method_display()},
        )
        lot.status = LotStatus.AWARDED
        lot.save(update_fields=["status"])
        awarded += 1
    _move(procedure, Status.AWARDED if awarded else Status.DESERTED)
    procedure.awarded_at = now
    procedure.signature_deadline = now + dt.timedelta(days=rules.SIGNATURE_DAYS)
    procedure.save(update_fields=["status", "updated_at", "awarded_at", "signature_deadline"])
    if awarded:
        _publish(procedure, "award")
    else:
        _publish(procedure, "tenderUpdate", "award")
    _audit(actor, "fallo_issued", procedure, awarded_lots=awarded)
    return procedure


@transaction.atomic
def award_correct(*, actor: User | None, award: Award, value: Any, rationale: str) -> Award:
    """Correct an arithmetic error in the fallo's amount before the contract is signed (acta de aclaración)."""
    award = Award.objects.select_for_update().select_related("lot").get(pk=award.pk)
    procedure = _locked(award.procedure)
    require_buyer(actor, procedure.unit, visible=True)
    if award.status != AwardStatus.ACTIVE or Contract.objects.filter(award=award).exists():
        raise InvalidTransition(_("Only an active award without a contract can be corrected"), current=award.status)
    amount = parse_amount(value, field="value")
    rationale = _text(rationale, "rationale", min_length=10, max_length=5000)
    if amount == award.value:
        raise ValidationError(_("The corrected amount equals the current one"), field="value", rule="changed")
    if procedure.procedure_type == ProcedureType.DIRECT_AWARD:
        total = sum((a.value for a in procedure.awards.exclude(pk=award.pk)), amount)
        _check_awarded_amount(procedure, total, field="value")
    previous = award.value
    award.value = amount
    award.rationale = f"{award.rationale}\n{rationale}".strip()
    award.updated_at = clock.now()
    award.save(update_fields=["value", "rationale", "updated_at"])
    _publish(procedure, "awardUpdate")
    _audit(actor, "award_corrected", procedure, award=award.pk, previous=str(previous), value=str(amount))
    return award


@dataclass(frozen=True)
class DirectAwardLot:
    lot: int
    value: Any


@transaction.atomic
def award_direct(
    *, actor: User | None, procedure: Procedure, supplier_rfc: str, lots: Sequence[DirectAwardLot]
) -> list[Award]:
    """Record a direct award (adjudicación directa) to one supplier, within its legal basis."""
    procedure = _locked(procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    if procedure.procedure_type != ProcedureType.DIRECT_AWARD:
        raise InvalidTransition(_("Only a direct award is awarded without bids"), current=procedure.status)
    _move(procedure, Status.AWARDED)
    supplier = Supplier.objects.filter(rfc=rfc_normalize(supplier_rfc or "")).first()
    if supplier is None:
        raise ValidationError(
            _("The supplier RFC is not registered"), field="supplier_rfc", rule="registered_supplier"
        )
    sanction_check(supplier, field="supplier_rfc")
    by_number = {lot.number: lot for lot in procedure.lots.all()}
    values: dict[int, Decimal] = {}
    for i, entry in enumerate(lots, start=1):
        if entry.lot not in by_number:
            raise ValidationError(
                _("Lot %(n)s does not exist in this procedure") % {"n": entry.lot},
                field=f"lots[{i}].lot",
                rule="exists",
            )
        if entry.lot in values:
            raise ValidationError(
                _("Lot %(n)s appears twice") % {"n": entry.lot}, field=f"lots[{i}].lot", rule="unique"
            )
        values[entry.lot] = parse_amount(entry.value, field=f"lots[{i}].value")
    if not values:
        raise ValidationError(_("Award at least one lot"), field="lots", rule="required")
    total = sum(values.values(), Decimal(0))
    _check_awarded_amount(procedure, total, field="lots")
    now = clock.act_time()  # the award's date (a back-captured one's, inside `clock.recorded_act`)
    awards = []
    for number, value in values.items():
        lot = by_number[number]
        awards.append(
            Award.objects.create(
                procedure=procedure,
                lot=lot,
                supplier=supplier,
                value=value,
                currency=procedure.currency,
                date=now,
                rationale=procedure.justification or procedure.get_legal_basis_display(),
            )
        )
        lot.status = LotStatus.AWARDED
        lot.save(update_fields=["status"])
    Lot.objects.filter(procedure=procedure, status=LotStatus.ACTIVE).update(status=LotStatus.CANCELLED)
    procedure.awarded_at = now
    procedure.signature_deadline = now + dt.timedelta(days=rules.SIGNATURE_DAYS)
    procedure.save(update_fields=["status", "updated_at", "awarded_at", "signature_deadline"])
    _publish(procedure, "tender", "award")
    _audit(actor, "direct_award", procedure, supplier=supplier.rfc, total=str(total))
    return awards


@transaction.atomic
def contract_sign(
    *,
    actor: User | None,
    award: Award,
    title: str = "",
    start_date: dt.date,
    end_date: dt.date,
    date_signed: dt.datetime | None = None,
    code: str = "",
) -> Contract:
    """Record the signed contract (formalización) of an award."""
    award = Award.objects.select_for_update().select_related("lot", "supplier").get(pk=award.pk)
    procedure = _locked(award.procedure)
    require_buyer(actor, procedure.unit, visible=_visible(procedure))
    if award.status != AwardStatus.ACTIVE or procedure.status != Status.AWARDED:
        raise InvalidTransition(
            _("Only an active award of an awarded procedure can be contracted"), current=procedure.status
        )
    if Contract.objects.filter(award=award).exists():
        raise Conflict(_("This award already has a contract"), rule="one_contract_per_award")
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if not isinstance(value, dt.date):
            raise ValidationError(_("%(field)s must be a date") % {"field": name}, field=name, rule="date")
    if end_date < start_date:
        raise ValidationError(_("end_date must not be before start_date"), field="end_date", rule="order")
    now = clock.now()
    signed = _aware(date_signed, "date_signed") if date_signed is not None else now
    if signed > now:
        raise ValidationError(_("date_signed cannot be in the future"), field="date_signed", rule="not_future")
    if signed < award.date:
        raise ValidationError(
            _("A contract cannot be signed before its award"), field="date_signed", rule="after_award"
        )
    sanction_check(award.supplier, field="award")
    code = (code or "").strip() or f"{procedure.number}-C{award.lot.number}"
    if Contract.objects.filter(code=code).exists():
        raise Conflict(_("Contract code %(code)s is already used") % {"code": code}, field="code", rule="unique")
    contract = Contract.objects.create(
        procedure=procedure,
        award=award,
        supplier=award.supplier,
        code=code,
        title=(title or "").strip() or f"{procedure.title} — {award.lot.title}",
        value=award.value,
        currency=award.currency,
        date_signed=signed,
        start_date=start_date,
        end_date=end_date,
    )
    if not Award.objects.filter(procedure=procedure, status=AwardStatus.ACTIVE, contract__isnull=True).exists():
        _move(procedure, Status.CONTRACTED)
        procedure.save(update_fields=["status", "updated_at"])
    _publish(procedure, "contract")
    _audit(actor, "contract_signed", procedure, contract=contract.code)
    return contract


def _locked_contract(contract: Contract) -> tuple[Contract, Procedure]:
    contract = Contract.objects.select_for_update().select_related("supplier").get(pk=contract.pk)
    return contract, _locked(contract.procedure)


@transaction.atomic
def contract_amend(
    *,
    actor: User | None,
    contract: Contract,
    description: str,
    rationale: str,
    value_change: Any = 0,
    new_end_date: dt.date | None = None,
) -> ContractAmendment:
    """Record a convenio modificatorio within the legal cap on the contract's amount."""
    contract, procedure = _locked_contract(contract)
    require_buyer(actor, procedure.unit, visible=True)
    if contract.status != ContractStatus.ACTIVE:
        raise InvalidTransition(_("Only an active contract can be amended"), current=contract.status)
    description = _text(description, "description", min_length=5, max_length=5000)
    rationale = _text(rationale, "rationale", min_length=10, max_length=5000)
    try:
        change = Decimal(str(value_change))
    except ArithmeticError:
        raise ValidationError(_("value_change must be a number"), field="value_change", rule="decimal") from None
    if not change.is_finite():
        raise ValidationError(_("value_change must be a number"), field="value_change", rule="decimal")
    change = change.quantize(Decimal("0.01"))
    if change == 0 and new_end_date is None:
        raise ValidationError(
            _("An amendment changes the amount or the end date"), field="value_change", rule="required"
        )
    if new_end_date is not None and new_end_date < contract.start_date:
        raise ValidationError(_("new_end_date must not be before the start"), field="new_end_date", rule="order")
    previous = contract.amendments.aggregate(total=Sum("value_change"))["total"] or Decimal(0)
    new_total = contract.value + previous + change
    if new_total <= 0:
        raise ValidationError(_("The amended amount must stay above zero"), field="value_change", rule="positive")
    cap = rules.amendment_cap(law=procedure.law, on=timezone.localdate(clock.now()))
    limit = (contract.value * cap.percent / 100).quantize(Decimal("0.01"))
    if previous + change > limit:
        raise AmendmentCapExceeded(
            _(
                "Amendments may add at most %(pct)s%% of the original amount (%(limit)s) under %(law)s;"
                " with this one they would add %(total)s"
            )
            % {
                "pct": cap.percent.normalize(),
                "limit": f"{limit:,.2f}",
                "law": procedure.law,
                "total": f"{previous + change:,.2f}",
            },
            field="value_change",
            rule="amendment_cap",
            cap_percent=str(cap.percent),
            source=cap.source,
        )
    amendment = ContractAmendment.objects.create(
        contract=contract,
        number=contract.amendments.count() + 1,
        description=description,
        rationale=rationale,
        value_change=change,
        new_end_date=new_end_date,
        date=clock.now(),
    )
    if new_end_date is not None:
        contract.end_date = new_end_date
        contract.save(update_fields=["end_date", "updated_at"])
    _publish(procedure, "contractAmendment")
    _audit(actor, "contract_amended", procedure, contract=contract.code, number=amendment.number)
    return amendment


@transaction.atomic
def payment_record(
    *, actor: User | None, contract: Contract, amount: Any, description: str, date: dt.datetime | None = None
) -> Payment:
    """Record a payment under a contract; payments never exceed the amended amount."""
    contract, procedure = _locked_contract(contract)
    require_buyer(actor, procedure.unit, visible=True)
    if contract.status != ContractStatus.ACTIVE:
        raise InvalidTransition(_("Payments are recorded only on active contracts"), current=contract.status)
    value = parse_amount(amount, field="amount")
    paid = contract.payments.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    if paid + value > contract.current_value():
        raise ValidationError(
            _("Payments would exceed the contract's amount (%(value)s)")
            % {"value": f"{contract.current_value():,.2f}"},
            field="amount",
            rule="within_contract",
        )
    when = _aware(date, "date") if date is not None else clock.now()
    payment = Payment.objects.create(
        contract=contract, amount=value, date=when, description=_text(description, "description", max_length=300)
    )
    _publish(procedure, "implementation")
    _audit(actor, "payment_recorded", procedure, contract=contract.code, amount=str(value))
    return payment


@transaction.atomic
def milestone_record(
    *, actor: User | None, contract: Contract, title: str, due_date: dt.date, met: bool = False
) -> Milestone:
    """Record a delivery or milestone of a contract (met or scheduled)."""
    contract, procedure = _locked_contract(contract)
    require_buyer(actor, procedure.unit, visible=True)
    if not isinstance(due_date, dt.date):
        raise ValidationError(_("due_date must be a date"), field="due_date", rule="date")
    milestone = Milestone.objects.create(
        contract=contract,
        title=_text(title, "title", max_length=300),
        due_date=due_date,
        status=MilestoneStatus.MET if met else MilestoneStatus.SCHEDULED,
        date_met=clock.now() if met else None,
    )
    _publish(procedure, "implementation")
    _audit(actor, "milestone_recorded", procedure, contract=contract.code)
    return milestone


@transaction.atomic
def contract_complete(*, actor: User | None, contract: Contract) -> Contract:
    """Mark a contract completed; the procedure completes with its last contract."""
    contract, procedure = _locked_contract(contract)
    require_buyer(actor, procedure.unit, visible=True)
    if ContractStatus.COMPLETED not in CONTRACT_TRANSITIONS[contract.status]:
        raise InvalidTransition(_("This contract is already completed"), current=contract.status)
    contract.status = ContractStatus.COMPLETED
    contract.updated_at = clock.now()
    contract.save(update_fields=["status", "updated_at"])
    if (
        procedure.status == Status.CONTRACTED
        and not procedure.contracts.exclude(status=ContractStatus.COMPLETED).exists()
    ):
        _move(procedure, Status.COMPLETED)
        procedure.save(update_fields=["status", "updated_at"])
    _publish(procedure, "contractUpdate")
    _audit(actor, "contract_completed", procedure, contract=contract.code)
    return contract


@transaction.atomic
def milestone_mark_met(*, actor: User | None, milestone: Milestone, met: bool = True) -> Milestone:
    """Record whether a scheduled milestone was met."""
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    contract, procedure = _locked_contract(milestone.contract)
    require_buyer(actor, procedure.unit, visible=True)
    if milestone.status != MilestoneStatus.SCHEDULED:
        raise InvalidTransition(
            _("This milestone was already recorded as %(s)s") % {"s": milestone.status}, current=milestone.status
        )
    milestone.status = MilestoneStatus.MET if met else MilestoneStatus.NOT_MET
    milestone.date_met = clock.now() if met else None
    milestone.save(update_fields=["status", "date_met", "updated_at"])
    _audit(
        actor,
        "milestone_met" if met else "milestone_not_met",
        procedure,
        contract=contract.code,
        milestone=milestone.pk,
    )
    return milestone
