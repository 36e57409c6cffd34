"""Back-capture of the procedures carried out in person during an outage, act by act, through the same services.

A registered contingency procedure becomes a recorded procedure (provenance `contingency`): a direct award
by its fallo (`contingency_backcapture_award`); a licitación or an invitación by its convocatoria
(`contingency_backcapture_tender`), the paper bids read out at its opening (`contingency_backcapture_bids`),
its evaluation and fallo (`contingency_backcapture_fallo`); then, for every type, the signed contract
(`contingency_backcapture_contract`) and the actas (`contingency_backcapture_document`).

Each step is one transaction that writes everything or nothing, refuses a step done twice or out of order,
and keeps both clocks: the date the act happened (validated against the outage, the registered procedure
and the previous act; never in the future) and the date it reached the platform (the release's
`publishedDate`). `contingency_backcapture_file` runs the steps described in a JSON file (`licita contingency
backcapture`), all of them or none.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licita.bidding import services as bidding
from licita.continuity.errors import Duplicate, OutsideOutage
from licita.continuity.models import ContingencyProcedure
from licita.continuity.selectors import outage_get
from licita.continuity.services import _in_outage, _require_unit, contingency_get
from licita.core import clock
from licita.core.errors import LicitaError, ValidationError
from licita.documents.models import Document, DocumentKind
from licita.documents.services import document_attach
from licita.procurement import rules
from licita.procurement import services as proc
from licita.procurement.models import (
    Award,
    AwardStatus,
    Character,
    EvaluationMethod,
    Form,
    Law,
    Procedure,
    ProcedureType,
    Provenance,
    Status,
)

if TYPE_CHECKING:
    from licita.accounts.models import User

TENDER_TYPES = (ProcedureType.PUBLIC_TENDER, ProcedureType.INVITATION)


def _lot_input(item: ContingencyProcedure) -> list[proc.LotInput]:
    return [
        proc.LotInput(
            title=item.title[:300],
            estimated_value=str(item.amount),
            items=[proc.ItemInput(cucop="00000000", description=item.title[:500], quantity="1", unit="servicio")],
        )
    ]


def _locked_item(actor: User | None, item: ContingencyProcedure) -> ContingencyProcedure:
    item = ContingencyProcedure.objects.select_for_update().select_related("outage", "unit").get(pk=item.pk)
    _require_unit(actor, item.unit)
    return item


def _stamp(at: dt.datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


def _act_date(
    item: ContingencyProcedure,
    at: Any,
    field: str,
    *,
    after: dt.datetime | None = None,
    after_name: str = "",
) -> dt.datetime:
    """Return the date of a tender's later act: after the outage's start, the procedure and the previous act.

    The act may be after the outage's end (a licitación's opening is weeks after its convocatoria), never in
    the future.
    """
    if not isinstance(at, dt.datetime) or timezone.is_naive(at):
        raise ValidationError(
            _("%(field)s must be a date and time with its time zone") % {"field": field}, field=field, rule="datetime"
        )
    now = clock.now()
    if at > now:
        raise ValidationError(
            _("%(field)s (%(at)s) cannot be in the future") % {"field": field, "at": _stamp(at)},
            field=field,
            rule="not_future",
        )
    if at < item.outage.started_at:
        raise OutsideOutage(
            _("%(field)s (%(at)s) is before the outage began (%(start)s)")
            % {"field": field, "at": _stamp(at), "start": _stamp(item.outage.started_at)},
            field=field,
            rule="after_outage_start",
        )
    if at < item.carried_out_at:
        raise ValidationError(
            _("%(field)s (%(at)s) is before the procedure was carried out (%(carried)s, as registered)")
            % {"field": field, "at": _stamp(at), "carried": _stamp(item.carried_out_at)},
            field=field,
            rule="not_before_carried_out",
        )
    if after is not None and at < after:
        raise ValidationError(
            _("%(field)s (%(at)s) is before the %(previous)s (%(then)s)")
            % {"field": field, "at": _stamp(at), "previous": after_name, "then": _stamp(after)},
            field=field,
            rule="order",
        )
    return at


def _procedure_of(item: ContingencyProcedure, step: str) -> Procedure:
    if item.procedure_id is None:
        raise ValidationError(
            _("Back-capture the procedure %(ref)s (its convocatoria or award) before its %(step)s")
            % {"ref": item.ref, "step": step},
            field="ref",
            rule="order",
        )
    return Procedure.objects.select_related("unit__institution").get(pk=item.procedure_id)


def _require_tender(item: ContingencyProcedure) -> None:
    if item.procedure_type not in TENDER_TYPES:
        raise ValidationError(
            _("Procedure %(ref)s is a %(type)s: back-capture its award instead")
            % {"ref": item.ref, "type": ProcedureType(item.procedure_type).label},
            field="procedure_type",
            rule="backcapture_tender",
        )


def _create(
    *,
    actor: User | None,
    item: ContingencyProcedure,
    law: str,
    character: str,
    evaluation_method: str,
    exception_fraction: str,
    justification: str,
    lots: Sequence[proc.LotInput] | None,
) -> Procedure:
    """Create the recorded procedure through `procedure_create`, with provenance `contingency`."""
    procedure = proc.procedure_create(
        actor=actor,
        unit_key=item.unit.key,
        title=item.title,
        law=law,
        procedure_type=item.procedure_type,
        character=character,
        form=Form.IN_PERSON,
        contract_type=item.contract_type,
        legal_basis=item.legal_basis,
        exception_fraction=exception_fraction,
        justification=justification or _("Carried out in person during the outage %(id)s") % {"id": item.outage_id},
        evaluation_method=evaluation_method,
        currency=item.currency,
        lots=lots or _lot_input(item),
    )
    Procedure.objects.filter(pk=procedure.pk).update(provenance=Provenance.CONTINGENCY)
    procedure.provenance = Provenance.CONTINGENCY
    item.procedure = procedure
    item.save(update_fields=["procedure"])
    return procedure


# --- Direct awards --------------------------------------------------------------------------------


@transaction.atomic
def contingency_backcapture_award(
    *,
    actor: User | None,
    item: ContingencyProcedure,
    awarded_at: dt.datetime,
    law: str = "LAASSP",
    exception_fraction: str = "",
    justification: str = "",
) -> Procedure:
    """Back-capture a registered direct award: the procedure and its fallo, dated when it happened.

    The procedure goes through `procedure_create` and `award_direct` like any other, with provenance
    `contingency`; the act's real date is then recorded on the award and the procedure, and the release is
    published now (its `publishedDate` is the upload).
    """
    item = _locked_item(actor, item)
    if item.procedure_id is not None:
        raise Duplicate(
            _("Procedure %(ref)s is already back-captured") % {"ref": item.ref}, field="ref", rule="unique"
        )
    now = clock.now()
    _in_outage(item.outage, awarded_at, "awarded_at", now=now)
    if item.procedure_type != ProcedureType.DIRECT_AWARD:
        raise ValidationError(
            _("Procedure %(ref)s is a %(type)s: back-capture its convocatoria, bids and fallo instead")
            % {"ref": item.ref, "type": ProcedureType(item.procedure_type).label},
            field="procedure_type",
            rule="backcapture_direct_award",
        )
    procedure = _create(
        actor=actor,
        item=item,
        law=law,
        character=Character.NATIONAL,
        evaluation_method=EvaluationMethod.BINARY,
        exception_fraction=exception_fraction,
        justification=justification,
        lots=None,
    )
    with clock.recorded_act(awarded_at):  # the award, the fallo and its release dated when it happened
        proc.award_direct(
            actor=actor,
            procedure=procedure,
            supplier_rfc=item.supplier_rfc,
            lots=[proc.DirectAwardLot(lot=1, value=str(item.amount))],
        )
    procedure.refresh_from_db()
    return procedure


# --- Licitaciones and invitaciones ----------------------------------------------------------------


@transaction.atomic
def contingency_backcapture_tender(
    *,
    actor: User | None,
    item: ContingencyProcedure,
    published_at: dt.datetime,
    submission_deadline: dt.datetime,
    law: str = Law.LAASSP,
    character: str = Character.NATIONAL,
    evaluation_method: str = EvaluationMethod.BINARY,
    invited_rfcs: Sequence[str] = (),
    exception_fraction: str = "",
    justification: str = "",
    lots: Sequence[proc.LotInput] | None = None,
) -> Procedure:
    """Back-capture the convocatoria of a licitación or invitación held in person: the procedure, published.

    The procedure is created through `procedure_create` (and its suppliers invited through `procedure_invite`)
    with provenance `contingency`, and published with the date the convocatoria appeared (`published_at`,
    inside the outage) and the opening's date it announced (`submission_deadline`). No opening key is made:
    its bids were on paper, and they are recorded with `contingency_backcapture_bids`. The legal periods are
    not checked, since the acts already happened: their dates are public in the record.
    """
    item = _locked_item(actor, item)
    if item.procedure_id is not None:
        raise Duplicate(
            _("The convocatoria of %(ref)s is already back-captured") % {"ref": item.ref}, field="ref", rule="unique"
        )
    _require_tender(item)
    _in_outage(item.outage, published_at, "published_at", now=clock.now())
    if published_at < item.carried_out_at:
        raise ValidationError(
            _("published_at (%(at)s) is before the procedure was carried out (%(carried)s, as registered)")
            % {"at": _stamp(published_at), "carried": _stamp(item.carried_out_at)},
            field="published_at",
            rule="not_before_carried_out",
        )
    submission_deadline = proc._aware(submission_deadline, "submission_deadline")  # noqa: SLF001
    if submission_deadline <= published_at:
        raise ValidationError(
            _("submission_deadline must be after the convocatoria's publication"),
            field="submission_deadline",
            rule="order",
        )
    procedure = _create(
        actor=actor,
        item=item,
        law=law,
        character=character,
        evaluation_method=evaluation_method,
        exception_fraction=exception_fraction,
        justification=justification,
        lots=lots,
    )
    if item.procedure_type == ProcedureType.INVITATION:
        proc.procedure_invite(actor=actor, procedure=procedure, rfcs=invited_rfcs)
        invited = procedure.invitations.count()
        if invited < rules.MIN_INVITED:
            raise ValidationError(
                _("An invitation needs at least %(n)d invited suppliers; it has %(m)d")
                % {"n": rules.MIN_INVITED, "m": invited},
                field="invited_rfcs",
                rule="min_invited",
            )
    elif invited_rfcs:
        raise ValidationError(_("Only an invitation takes invited suppliers"), field="invited_rfcs", rule="invitation")
    return proc.procedure_record_publish(
        actor=actor, procedure=procedure, published_at=published_at, submission_deadline=submission_deadline
    )


@transaction.atomic
def contingency_backcapture_bids(
    *,
    actor: User | None,
    item: ContingencyProcedure,
    opened_at: dt.datetime,
    bids: Sequence[bidding.RecordedBidInput],
) -> Procedure:
    """Back-capture the acto de presentación y apertura: the paper bids received, priced per lot, opened then."""
    item = _locked_item(actor, item)
    _require_tender(item)
    procedure = _procedure_of(item, _("bids"))
    if procedure.opened_at is not None:
        raise Duplicate(
            _("The bids of %(ref)s are already back-captured") % {"ref": item.ref}, field="ref", rule="unique"
        )
    _act_date(item, opened_at, "opened_at", after=procedure.published_at, after_name=_("convocatoria"))
    return bidding.bids_record(actor=actor, procedure=procedure, opened_at=opened_at, bids=bids)


@transaction.atomic
def contingency_backcapture_fallo(
    *,
    actor: User | None,
    item: ContingencyProcedure,
    awarded_at: dt.datetime,
    evaluations: Sequence[bidding.EvaluationInput],
) -> Procedure:
    """Back-capture the evaluation and the fallo through `bids_evaluate` and `award_decide`, dated when issued."""
    item = _locked_item(actor, item)
    _require_tender(item)
    procedure = _procedure_of(item, _("fallo"))
    if procedure.opened_at is None:
        raise ValidationError(
            _("Back-capture the bids of %(ref)s before its fallo") % {"ref": item.ref}, field="ref", rule="order"
        )
    if procedure.awarded_at is not None or procedure.status != Status.OPENED:
        raise Duplicate(
            _("The fallo of %(ref)s is already back-captured") % {"ref": item.ref}, field="ref", rule="unique"
        )
    _act_date(item, awarded_at, "awarded_at", after=procedure.opened_at, after_name=_("opening"))
    with clock.recorded_act(awarded_at):  # the evaluation, the fallo and their releases dated when it happened
        bidding.bids_evaluate(actor=actor, procedure=procedure, evaluations=evaluations)
        procedure = proc.award_decide(actor=actor, procedure=procedure)
    procedure.refresh_from_db()
    if procedure.status == Status.DESERTED:  # no contract will follow: the fallo is the last act
        item.completed_at = clock.now()
        item.save(update_fields=["completed_at"])
    return procedure


# --- Every type: the contract and the actas ---------------------------------------------------------


@transaction.atomic
def contingency_backcapture_contract(
    *,
    actor: User | None,
    item: ContingencyProcedure,
    signed_at: dt.datetime,
    start_date: dt.date,
    end_date: dt.date,
) -> ContingencyProcedure:
    """Back-capture the signed contract of every award of a back-captured fallo; the item is then fully uploaded.

    A direct award's contract was signed during the outage; a tender's may have been signed after it, not
    before its fallo and not in the future.
    """
    item = _locked_item(actor, item)
    if item.procedure_id is None:
        raise ValidationError(
            _("Back-capture the award of %(ref)s first") % {"ref": item.ref}, field="ref", rule="order"
        )
    procedure = _procedure_of(item, _("contract"))
    if procedure.status == Status.DESERTED:
        raise ValidationError(
            _("Procedure %(ref)s has no award to contract (its fallo left it desierta)") % {"ref": item.ref},
            field="ref",
            rule="awarded",
        )
    if item.completed_at is not None:
        raise Duplicate(
            _("The contract of %(ref)s is already back-captured") % {"ref": item.ref}, field="ref", rule="unique"
        )
    now = clock.now()
    if item.procedure_type == ProcedureType.DIRECT_AWARD:
        _in_outage(item.outage, signed_at, "signed_at", now=now)
    else:
        if procedure.awarded_at is None:
            raise ValidationError(
                _("Back-capture the fallo of %(ref)s before its contract") % {"ref": item.ref},
                field="ref",
                rule="order",
            )
        _act_date(item, signed_at, "signed_at", after=procedure.awarded_at, after_name=_("fallo"))
    awards = list(
        Award.objects.filter(procedure=procedure, status=AwardStatus.ACTIVE, contract__isnull=True).order_by(
            "lot__number"
        )
    )
    if not awards:
        raise ValidationError(
            _("Procedure %(ref)s has no award to contract (its fallo left it desierta)") % {"ref": item.ref},
            field="ref",
            rule="awarded",
        )
    with clock.recorded_act(signed_at):  # the contracts' releases dated when they were signed
        for award in awards:
            proc.contract_sign(
                actor=actor, award=award, start_date=start_date, end_date=end_date, date_signed=signed_at
            )
    item.completed_at = now
    item.save(update_fields=["completed_at"])
    return item


#: The acta (or other paper) of each act, as the document kind it is published under.
ACTA_KINDS = {
    "convocatoria": DocumentKind.TENDER_NOTICE,
    "junta": DocumentKind.CLARIFICATIONS,
    "apertura": DocumentKind.OPENING_MINUTES,
    "evaluacion": DocumentKind.EVALUATION,
    "fallo": DocumentKind.AWARD_NOTICE,
    "contrato": DocumentKind.CONTRACT_SIGNED,
    "justificacion": DocumentKind.JUSTIFICATION,
    "otro": DocumentKind.OTHER,
}


@transaction.atomic
def contingency_backcapture_document(
    *,
    actor: User | None,
    item: ContingencyProcedure,
    act: str,
    dated_at: dt.datetime,
    title: str,
    filename: str,
    content_b64: str,
) -> Document:
    """Attach the acta of an act (a scanned PDF) through `document_attach`, published with the act's date.

    The document's date (`datePublished`) is the act's; the upload's is the release's `publishedDate` and the
    document's ledger leaf.
    """
    item = _locked_item(actor, item)
    if act not in ACTA_KINDS:
        raise ValidationError(
            _("act must be one of: %(choices)s") % {"choices": ", ".join(ACTA_KINDS)}, field="act", rule="choice"
        )
    procedure = _procedure_of(item, _("actas"))
    if item.procedure_type in TENDER_TYPES:
        _act_date(item, dated_at, "dated_at")
    else:
        _in_outage(item.outage, dated_at, "dated_at", now=clock.now())
    with clock.recorded_act(dated_at):  # the acta and its release dated when the act happened
        return document_attach(
            actor=actor,
            procedure=procedure,
            kind=ACTA_KINDS[act],
            title=title,
            filename=filename,
            content_b64=content_b64,
        )


# --- A file of steps (licita contingency backcapture) ----------------------------------------------


def _when(value: Any, field: str) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(str(value or ""))
    except ValueError:
        raise ValidationError(
            _("%(field)s must be an ISO date and time with its offset") % {"field": field},
            field=field,
            rule="datetime",
        ) from None
    if at.tzinfo is None:
        raise ValidationError(
            _("%(field)s must include a time zone offset") % {"field": field}, field=field, rule="timezone"
        )
    return at


def _day(value: Any, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        raise ValidationError(
            _("%(field)s must be an ISO date (YYYY-MM-DD)") % {"field": field}, field=field, rule="date"
        ) from None


def _str(mapping: Mapping[str, Any], key: str, field: str, default: str = "") -> str:
    """Return `mapping[key]` as text (`default` when absent or null); refuse numbers, lists and objects."""
    value = mapping.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError(_("%(field)s must be text") % {"field": field}, field=field, rule="string")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError(_("%(field)s must be a list") % {"field": field}, field=field, rule="list")
    return value


def _dict(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(_("%(field)s must be an object") % {"field": field}, field=field, rule="object")
    return value


def _bids(value: Any, field: str) -> list[bidding.RecordedBidInput]:
    bids = []
    for i, raw in enumerate(_list(value, field), start=1):
        row = _dict(raw, f"{field}[{i}]")
        prices = [
            _dict(lot, f"{field}[{i}].lots[{j}]")
            for j, lot in enumerate(_list(row.get("lots"), f"{field}[{i}].lots"), start=1)
        ]
        lots = [bidding.BidLotInput(lot=lot.get("lot", 0), price=lot.get("price")) for lot in prices]
        bids.append(
            bidding.RecordedBidInput(supplier_rfc=_str(row, "supplier_rfc", f"{field}[{i}].supplier_rfc"), lots=lots)
        )
    return bids


def _lots(value: Any, field: str) -> list[proc.LotInput] | None:
    """Return the convocatoria's lots as the file gives them (none: one lot, the registered title and amount)."""
    if value is None:
        return None
    lots = []
    for i, raw in enumerate(_list(value, field), start=1):
        lot = _dict(raw, f"{field}[{i}]")
        items = [
            (f"{field}[{i}].items[{j}]", _dict(item, f"{field}[{i}].items[{j}]"))
            for j, item in enumerate(_list(lot.get("items"), f"{field}[{i}].items"), start=1)
        ]
        lots.append(
            proc.LotInput(
                title=_str(lot, "title", f"{field}[{i}].title"),
                estimated_value=lot.get("estimated_value"),
                items=[
                    proc.ItemInput(
                        cucop=_str(item, "cucop", f"{name}.cucop"),
                        description=_str(item, "description", f"{name}.description"),
                        quantity=item.get("quantity"),
                        unit=_str(item, "unit", f"{name}.unit"),
                    )
                    for name, item in items
                ],
            )
        )
    return lots


def _evaluations(value: Any, field: str) -> list[bidding.EvaluationInput]:
    rows = [(f"{field}[{i}]", _dict(raw, f"{field}[{i}]")) for i, raw in enumerate(_list(value, field), start=1)]
    evaluations = []
    for name, row in rows:
        compliant = row.get("compliant")
        if not isinstance(compliant, bool):
            raise ValidationError(
                _("%(field)s must be true or false") % {"field": f"{name}.compliant"},
                field=f"{name}.compliant",
                rule="boolean",
            )
        evaluations.append(
            bidding.EvaluationInput(
                supplier_rfc=_str(row, "supplier_rfc", f"{name}.supplier_rfc"),
                lot=row.get("lot", 0),
                compliant=compliant,
                reason=_str(row, "reason", f"{name}.reason"),
                technical_points=row.get("technical_points"),
            )
        )
    return evaluations


def _step(actor: User | None, item: ContingencyProcedure, step: Mapping[str, Any], prefix: str) -> str:
    act = step.get("act")
    if act == "award":
        proc_ = contingency_backcapture_award(
            actor=actor,
            item=item,
            awarded_at=_when(step.get("date"), f"{prefix}.date"),
            law=_str(step, "law", f"{prefix}.law", Law.LAASSP),
            exception_fraction=_str(step, "exception_fraction", f"{prefix}.exception_fraction"),
            justification=_str(step, "justification", f"{prefix}.justification"),
        )
        return proc_.number
    if act == "convocatoria":
        proc_ = contingency_backcapture_tender(
            actor=actor,
            item=item,
            published_at=_when(step.get("date"), f"{prefix}.date"),
            submission_deadline=_when(step.get("submission_deadline"), f"{prefix}.submission_deadline"),
            law=_str(step, "law", f"{prefix}.law", Law.LAASSP),
            character=_str(step, "character", f"{prefix}.character", Character.NATIONAL),
            evaluation_method=_str(step, "evaluation_method", f"{prefix}.evaluation_method", EvaluationMethod.BINARY),
            invited_rfcs=[
                _str({"rfc": r}, "rfc", f"{prefix}.invited[{k}]")
                for k, r in enumerate(_list(step.get("invited", []), f"{prefix}.invited"))
            ],
            exception_fraction=_str(step, "exception_fraction", f"{prefix}.exception_fraction"),
            justification=_str(step, "justification", f"{prefix}.justification"),
            lots=_lots(step.get("lots"), f"{prefix}.lots"),
        )
        return proc_.number
    if act == "bids":
        contingency_backcapture_bids(
            actor=actor,
            item=item,
            opened_at=_when(step.get("date"), f"{prefix}.date"),
            bids=_bids(step.get("bids"), f"{prefix}.bids"),
        )
        return _("bids recorded")
    if act == "fallo":
        contingency_backcapture_fallo(
            actor=actor,
            item=item,
            awarded_at=_when(step.get("date"), f"{prefix}.date"),
            evaluations=_evaluations(step.get("evaluations"), f"{prefix}.evaluations"),
        )
        return _("fallo recorded")
    if act == "contract":
        contingency_backcapture_contract(
            actor=actor,
            item=item,
            signed_at=_when(step.get("date"), f"{prefix}.date"),
            start_date=_day(step.get("start_date"), f"{prefix}.start_date"),
            end_date=_day(step.get("end_date"), f"{prefix}.end_date"),
        )
        return _("contract recorded")
    if act == "document":
        document = contingency_backcapture_document(
            actor=actor,
            item=item,
            act=_str(step, "of", f"{prefix}.of"),
            dated_at=_when(step.get("date"), f"{prefix}.date"),
            title=_str(step, "title", f"{prefix}.title"),
            filename=_str(step, "filename", f"{prefix}.filename"),
            content_b64=_str(step, "content_b64", f"{prefix}.content_b64"),
        )
        return document.filename
    raise ValidationError(
        _("%(field)s must be one of: award, convocatoria, bids, fallo, contract, document")
        % {"field": f"{prefix}.act"},
        field=f"{prefix}.act",
        rule="choice",
    )


def attach_files(data: Any, read: Callable[[str], bytes | None]) -> Any:
    """Fill in the `content_b64` of each document step that names a `file` instead, with `read(name)`.

    The command reads the files beside the JSON; the portal, the files uploaded with it. A file `read` cannot
    give (None) is refused naming the step's field. Returns `data` (changed in place).
    """
    steps = data.get("steps") if isinstance(data, dict) else None
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict) and step.get("file") and "content_b64" not in step:
            name = str(step["file"])
            content = read(name)
            if content is None:
                raise ValidationError(
                    _("steps[%(i)d].file: %(name)s was not given with the file of acts") % {"i": i, "name": name},
                    field=f"steps[{i}].file",
                    rule="attached",
                )
            step["content_b64"] = base64.b64encode(content).decode("ascii")
            step.setdefault("filename", name.rsplit("/", 1)[-1])
    return data


@transaction.atomic
def contingency_backcapture_file(*, actor: User | None, data: Any) -> tuple[ContingencyProcedure, list[str]]:
    """Run the back-capture steps of one registered procedure described in a file, in order: all, or none.

    The file is `{"outage": N, "unit": KEY, "ref": REF, "steps": [{"act": ..., "date": ISO, ...}, ...]}`;
    a refusal names the step's field (`steps[2].date`) and the rule.
    """
    body = _dict(data, "file")
    item = contingency_get(
        outage=outage_get(pk=body.get("outage")), unit_key=_str(body, "unit", "unit"), ref=_str(body, "ref", "ref")
    )
    steps = _list(body.get("steps"), "steps")
    if not steps:
        raise ValidationError(_("steps must name at least one act"), field="steps", rule="required")
    done = []
    for i, raw in enumerate(steps):
        prefix = f"steps[{i}]"
        try:
            done.append(_step(actor, item, _dict(raw, prefix), prefix))
        except LicitaError as exc:
            exc.detail.setdefault("step", i)
            raise
        item.refresh_from_db()
    return item, done
