"""Forms of the supplier and auditor workspaces: they parse input; the services decide."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from licita.accounts.models import CompanySize, User
from licita.accounts.rfc import rfc_validate
from licita.bidding.services import BidDocumentInput
from licita.core.errors import LicitaError
from licita.core.money import parse_amount
from licita.procurement.models import Lot, ProcedureType, Status

#: Audit actions, as the activity log names them.
ACTION_LABELS: dict[str, Callable[[], str]] = {
    "procedure_created": lambda: str(_("Procedure created")),
    "procedure_updated": lambda: str(_("Draft edited")),
    "procedure_announced": lambda: str(_("Procedure announced")),
    "procedure_published": lambda: str(_("Call for bids published")),
    "procedure_amended": lambda: str(_("Call for bids amended")),
    "procedure_cancelled": lambda: str(_("Procedure cancelled")),
    "suppliers_invited": lambda: str(_("Suppliers invited")),
    "document_attached": lambda: str(_("Document attached")),
    "clarification_asked": lambda: str(_("Question asked")),
    "clarification_answered": lambda: str(_("Question answered")),
    "bid_submitted": lambda: str(_("Bid submitted")),
    "bid_replaced": lambda: str(_("Bid replaced")),
    "bid_withdrawn": lambda: str(_("Bid withdrawn")),
    "share_claimed": lambda: str(_("Key share handed over")),
    "bids_opened": lambda: str(_("Bids opened")),
    "bids_evaluated": lambda: str(_("Bids evaluated")),
    "fallo_issued": lambda: str(_("Award decision (fallo) issued")),
    "direct_award": lambda: str(_("Direct award recorded")),
    "award_corrected": lambda: str(_("Award corrected")),
    "contract_signed": lambda: str(_("Contract signed")),
    "contract_amended": lambda: str(_("Contract amended")),
    "contract_completed": lambda: str(_("Contract completed")),
    "payment_recorded": lambda: str(_("Payment recorded")),
    "milestone_recorded": lambda: str(_("Milestone recorded")),
    "custodian_key_registered": lambda: str(_("Custodian key registered")),
    "institution_created": lambda: str(_("Institution registered")),
    "unit_created": lambda: str(_("Purchasing unit registered")),
    "user_created": lambda: str(_("User created")),
    "membership_granted": lambda: str(_("Role granted")),
    "supplier_registered": lambda: str(_("Supplier registered")),
}

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def action_label(action: str) -> str:
    """Return the readable name of an audit action (the code itself when unknown)."""
    label = ACTION_LABELS.get(action)
    return label() if label else action


def add_service_error(form: forms.Form, exc: LicitaError, fields: dict[str, str] | None = None) -> None:
    """Show a service's refusal next to the field it names (through `fields` when names differ), else above."""
    name = str(exc.detail.get("field") or "")
    name = (fields or {}).get(name, name)
    form.add_error(name if name in form.fields else None, str(exc.message))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; none is fine when the field is optional."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[bytes]]:
        """Return the uploaded files, each checked as a FileField would."""
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


# --- Supplier ------------------------------------------------------------------------------------


class SupplierRegisterForm(forms.Form):
    rfc = forms.CharField(
        label=_("RFC"),
        max_length=20,
        help_text=_("12 characters for a company (persona moral), 13 for a person (persona física)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    name = forms.CharField(
        label=_("Legal name"), max_length=300, widget=forms.TextInput(attrs={"autocomplete": "organization"})
    )
    size = forms.ChoiceField(label=_("Company size"), choices=CompanySize.choices, required=False)
    email = forms.EmailField(label=_("Contact e-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("3 to 150 letters, digits or @ . + - _"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validators_help_text_html()

    def clean_rfc(self) -> str:
        """Return the normalised RFC, or name the rule it breaks (length, structure or date)."""
        try:
            rfc, _person_type = rfc_validate(self.cleaned_data["rfc"])
        except LicitaError as exc:
            raise forms.ValidationError(str(exc.message), code=str(exc.detail.get("rule", "invalid"))) from None
        return rfc

    def clean(self) -> dict[str, Any]:
        """Check that both passwords match and that the password passes the platform's validators."""
        data = super().clean() or {}
        password, again = data.get("password1"), data.get("password2")
        if password and again and password != again:
            self.add_error("password2", _("The two passwords differ."))
        if password:
            user = User(username=data.get("username", ""), email=data.get("email", ""))
            try:
                validate_password(password, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class OpportunityFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Text"), required=False, max_length=200, widget=forms.TextInput(attrs={"type": "search"})
    )
    procedure_type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[
            ("", _("Any")),
            (ProcedureType.PUBLIC_TENDER, ProcedureType.PUBLIC_TENDER.label),
            (ProcedureType.INVITATION, ProcedureType.INVITATION.label),
        ],
    )


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=_("Your question"),
        min_length=5,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Questions and answers are public; your company's name is shown with the question."),
    )


def _amount_text(value: str) -> str:
    """Return an amount as typed in Mexico ($1,234.50) without the sign, commas and spaces."""
    return value.replace("$", "").replace(",", "").replace(" ", "").replace("MXN", "").strip()


class BidForm(forms.Form):
    """One price per lot (empty lots are not bid on) and the technical and economic documents."""

    technical_documents = MultipleFileField(label=_("Technical documents"), required=False)
    economic_documents = MultipleFileField(label=_("Economic documents"), required=False)

    def __init__(self, *args: Any, lots: Sequence[Lot], currency: str = "MXN", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lot_fields: dict[str, int] = {}
        prices: dict[str, forms.Field] = {}
        for lot in lots:
            name = f"lot_{lot.number}"
            self.lot_fields[name] = lot.number
            prices[name] = forms.CharField(
                label=_("Lot %(number)s: %(title)s — price in %(currency)s")
                % {"number": lot.number, "title": lot.title, "currency": currency},
                required=False,
                max_length=30,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                help_text=_("Leave it empty to not bid on this lot. Price without VAT, e.g. 1,250,000.00"),
            )
        self.fields = {**prices, **self.fields}
        limit = settings.LICITA_MAX_DOCUMENT_BYTES // (1024 * 1024)
        self.fields["technical_documents"].help_text = _(
            "PDF or any format; several files at once. At most %(mb)d MB for all documents together."
        ) % {"mb": limit}
        self.fields["economic_documents"].help_text = self.fields["technical_documents"].help_text

    def clean(self) -> dict[str, Any]:
        """Parse every price (the service's own rule) and refuse documents too large to read."""
        data = super().clean() or {}
        priced = 0
        for name in self.lot_fields:
            text = _amount_text(data.get(name) or "")
            if not text:
                continue
            try:
                data[name] = parse_amount(text, field=name)
            except LicitaError:
                self.add_error(name, _("Write the price as a number greater than zero, e.g. 1,250,000.00"))
                continue
            priced += 1
        if priced == 0 and not self.errors:
            raise forms.ValidationError(_("A bid prices at least one lot: write the price of one lot or more."))
        total = sum(f.size or 0 for f in [*data.get("technical_documents", []), *data.get("economic_documents", [])])
        if total > settings.LICITA_MAX_DOCUMENT_BYTES:
            self.add_error(
                "technical_documents",
                _("The documents add up to more than %(mb)d MB.")
                % {"mb": settings.LICITA_MAX_DOCUMENT_BYTES // (1024 * 1024)},
            )
        return data

    def prices(self) -> dict[int, Decimal]:
        """Return the price of each lot bid on."""
        return {
            number: self.cleaned_data[name] for name, number in self.lot_fields.items() if self.cleaned_data.get(name)
        }

    def documents(self) -> list[BidDocumentInput]:
        """Return the uploaded documents as the bid service takes them."""
        return [
            BidDocumentInput(kind=kind, filename=f.name or "", content_b64=base64.b64encode(f.read()).decode("ascii"))
            for kind in ("technical", "economic")
            for f in self.cleaned_data.get(f"{kind}_documents", [])
        ]

    def field_for(self, service_field: str) -> str:
        """Return the form field that a service error's field (lots[i].price, documents[i]…) belongs to."""
        if service_field.startswith("lots["):
            index = int(service_field[5 : service_field.index("]")]) - 1
            names = [n for n in self.lot_fields if self.cleaned_data.get(n)]
            return names[index] if 0 <= index < len(names) else ""
        if service_field.startswith("documents["):
            index = int(service_field[10 : service_field.index("]")])
            return (
                "technical_documents"
                if index <= len(self.cleaned_data.get("technical_documents", []))
                else "economic_documents"
            )
        return ""


class ReceiptVerifyForm(forms.Form):
    receipt = forms.FileField(
        label=_("Receipt file (JSON)"),
        help_text=_("The receipt as it was downloaded from this platform."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/json,.json"}),
    )


# --- Auditor -------------------------------------------------------------------------------------


class CustodianKeyForm(forms.Form):
    public_key = forms.CharField(
        label=_("X25519 public key (base64)"),
        max_length=100,
        help_text=_(
            "The base64 text of your 32-byte X25519 public key. Generate the key pair on your own computer: "
            "the private key never leaves it, and without it your key shares cannot be opened."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class AuditorProcedureFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Text"), required=False, max_length=200, widget=forms.TextInput(attrs={"type": "search"})
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any")), *Status.choices])


class ActivityFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, input_formats=DATE_FORMATS, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, input_formats=DATE_FORMATS, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = sorted(((code, label()) for code, label in ACTION_LABELS.items()), key=lambda c: c[1])
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any")), *choices]

    def clean(self) -> dict[str, Any]:
        """Refuse a range that ends before it starts."""
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
