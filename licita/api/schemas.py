"""Input and output shapes of the JSON API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any]


class TokenIn(Schema):
    username: str
    password: str
    name: str = "api"


class TokenOut(Schema):
    token: str
    name: str
    prefix: str


class MembershipOut(Schema):
    role: str
    unit: str | None = None
    supplier_rfc: str | None = None
    institution: str | None = None


class MeOut(Schema):
    id: int
    username: str
    name: str
    memberships: list[MembershipOut]
    custodian_key: str | None = None


class CustodianKeyIn(Schema):
    public_key: str = Field(description="Base64 of a 32-byte X25519 public key; the private half stays with you.")


class SupplierIn(Schema):
    rfc: str
    name: str
    size: str = ""
    email: str = ""


class SupplierOut(Schema):
    rfc: str
    name: str
    person_type: str
    size: str


class UnitOut(Schema):
    key: str
    name: str
    institution: str
    siglas: str

    @staticmethod
    def resolve_institution(obj: Any) -> str:
        """Return the institution's name."""
        return obj.institution.name

    @staticmethod
    def resolve_siglas(obj: Any) -> str:
        """Return the institution's siglas."""
        return obj.institution.siglas


class InstitutionOut(Schema):
    name: str
    siglas: str
    ramo: str
    government_level: str


class SanctionOut(Schema):
    supplier_name: str
    rfc: str
    authority: str
    case_number: str
    resolution: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    in_force: bool

    @staticmethod
    def resolve_in_force(obj: Any) -> bool:
        """Return whether the debarment runs today."""
        return bool(obj.is_in_force())


class ItemIn(Schema):
    cucop: str
    description: str
    quantity: Decimal
    unit: str


class LotIn(Schema):
    title: str
    estimated_value: Decimal
    items: list[ItemIn]


class ProcedureUpdateIn(Schema):
    title: str
    description: str = ""
    law: str = Field(description="LAASSP or LOPSRM")
    procedure_type: str = Field(description="licitacion, invitacion or adjudicacion")
    character: str = "nacional"
    form: str = "electronica"
    contract_type: str
    legal_basis: str = Field(description="art26 (tender), art41 (exception) or art42 (by amount)")
    exception_fraction: str = ""
    justification: str = ""
    evaluation_method: str = "binaria"
    currency: str = "MXN"
    lots: list[LotIn]


class ProcedureIn(ProcedureUpdateIn):
    unit_key: str


class ItemOut(Schema):
    cucop: str
    description: str
    quantity: Decimal
    unit: str


class LotOut(Schema):
    number: int
    title: str
    estimated_value: Decimal
    status: str
    items: list[ItemOut]


class ProcedureSummaryOut(Schema):
    id: int
    number: str
    expediente: str
    title: str
    status: str
    procedure_type: str
    law: str
    unit_key: str
    institution: str
    estimated_value: Decimal
    currency: str
    published_at: dt.datetime | None
    submission_deadline: dt.datetime | None

    @staticmethod
    def resolve_unit_key(obj: Any) -> str:
        """Return the unit's CLAVEUC (from a model or an already serialised dict)."""
        return obj["unit_key"] if isinstance(obj, dict) else obj.unit.key

    @staticmethod
    def resolve_institution(obj: Any) -> str:
        """Return the institution's siglas."""
        return obj["institution"] if isinstance(obj, dict) else obj.unit.institution.siglas


class ClarificationOut(Schema):
    id: int
    question: str
    supplier: str
    asked_at: dt.datetime
    answer: str
    answered_at: dt.datetime | None


class TenderAmendmentOut(Schema):
    id: int
    description: str
    previous_deadline: dt.datetime | None
    new_deadline: dt.datetime | None
    date: dt.datetime


class AwardOut(Schema):
    id: int
    lot: int
    supplier_rfc: str
    supplier_name: str
    value: Decimal
    currency: str
    status: str
    date: dt.datetime
    contract: str | None


class DocumentOut(Schema):
    kind: str
    title: str
    filename: str
    sha256: str
    size: int
    url: str


class ProcedureOut(ProcedureSummaryOut):
    description: str
    regime: str
    character: str
    form: str
    contract_type: str
    legal_basis: str
    exception_fraction: str
    justification: str
    evaluation_method: str
    clarification_deadline: dt.datetime | None
    award_deadline: dt.datetime | None = Field(None, description="When the fallo is to be given.")
    signature_deadline: dt.datetime | None = Field(None, description="Set at the fallo: contract to be signed by.")
    reduced_period_justification: str
    opened_at: dt.datetime | None
    cancellation_reason: str
    provenance: str
    lots: list[LotOut]
    invited_suppliers: list[str]
    documents: list[DocumentOut]
    awards: list[AwardOut]
    bids_in_force: int | None = Field(None, description="Only for the unit's buyers and auditors, before the opening.")
    opening_threshold: int | None = None
    opening_committee_size: int | None = None


class InviteIn(Schema):
    rfcs: list[str]


class PublishIn(Schema):
    submission_deadline: dt.datetime
    clarification_deadline: dt.datetime | None = None
    award_deadline: dt.datetime | None = Field(None, description="The fallo's date (after the submission deadline).")
    reduced_period_justification: str = ""
    committee: list[str] = Field(description="Usernames of the opening committee (each with a custodian key).")
    threshold: int = Field(2, description="Shares needed to open the bids (k of n).")


class DocumentIn(Schema):
    kind: str
    title: str
    filename: str
    content_b64: str


class QuestionIn(Schema):
    question: str
    supplier_rfc: str | None = None


class AnswerIn(Schema):
    answer: str


class AmendIn(Schema):
    description: str
    submission_deadline: dt.datetime | None = None


class CancelIn(Schema):
    reason: str


class BidLotIn(Schema):
    lot: int
    price: Decimal


class BidDocumentIn(Schema):
    kind: str = Field(description="technical or economic")
    filename: str
    content_b64: str


class BidIn(Schema):
    lots: list[BidLotIn]
    documents: list[BidDocumentIn] = []
    supplier_rfc: str | None = None


class ReceiptOut(Schema):
    payload: dict[str, str]
    signature: str
    algorithm: str
    public_key: str


class BidLotOut(Schema):
    lot: int
    price: Decimal
    compliant: bool | None
    disqualification_reason: str
    technical_points: Decimal | None
    economic_points: Decimal | None


class BidOut(Schema):
    id: int
    procedure: str
    supplier_rfc: str
    supplier_name: str
    version: int
    status: str
    committed_at: dt.datetime
    sealed_sha256: str
    receipt: ReceiptOut | None = None
    lots: list[BidLotOut] | None = Field(None, description="Prices appear only after the opening.")


class ShareOut(Schema):
    procedure: str
    sealed_share: str
    context: str
    threshold: int
    share_count: int


class OpenIn(Schema):
    shares: list[str]


class EvaluationItemIn(Schema):
    supplier_rfc: str
    lot: int
    compliant: bool
    reason: str = ""
    technical_points: Decimal | None = None


class EvaluationIn(Schema):
    evaluations: list[EvaluationItemIn]


class DirectAwardLotIn(Schema):
    lot: int
    value: Decimal


class DirectAwardIn(Schema):
    supplier_rfc: str
    lots: list[DirectAwardLotIn]


class ContractIn(Schema):
    start_date: dt.date
    end_date: dt.date
    title: str = ""
    code: str = ""
    date_signed: dt.datetime | None = None


class AmendmentOut(Schema):
    number: int
    description: str
    rationale: str
    value_change: Decimal
    new_end_date: dt.date | None
    date: dt.datetime


class PaymentOut(Schema):
    amount: Decimal
    date: dt.datetime
    description: str


class MilestoneOut(Schema):
    id: int
    title: str
    due_date: dt.date
    status: str


class ContractOut(Schema):
    id: int
    code: str
    procedure: str
    title: str
    supplier_rfc: str
    supplier_name: str
    value: Decimal
    current_value: Decimal
    currency: str
    date_signed: dt.datetime
    start_date: dt.date
    end_date: dt.date
    status: str
    amendments: list[AmendmentOut]
    payments: list[PaymentOut]
    milestones: list[MilestoneOut]


class ContractAmendIn(Schema):
    description: str
    rationale: str
    value_change: Decimal = Decimal(0)
    new_end_date: dt.date | None = None


class PaymentIn(Schema):
    amount: Decimal
    description: str
    date: dt.datetime | None = None


class MilestoneIn(Schema):
    title: str
    due_date: dt.date
    met: bool = False


class ReceiptVerifyIn(Schema):
    receipt: dict[str, Any]


class ReceiptVerifyOut(Schema):
    valid: bool
    public_key: str


class PlatformKeysOut(Schema):
    receipt_signing_key: str
    algorithm: str


class ProcedureFilters(Schema):
    status: str | None = None
    procedure_type: str | None = None
    unit: str | None = None
    institution: str | None = None
    supplier: str | None = None
    q: str | None = None
    published_from: dt.date | None = None
    published_to: dt.date | None = None


class MilestoneMetIn(Schema):
    met: bool = True


class AwardCorrectIn(Schema):
    value: Decimal
    rationale: str
