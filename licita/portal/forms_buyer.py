"""Forms of the buyer workspace: they parse input; the services decide (their refusals land on these fields)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from licita.core.money import CURRENCIES
from licita.documents.models import DocumentKind
from licita.procurement.models import (
    Character,
    ContractType,
    EvaluationMethod,
    Form,
    Law,
    LegalBasis,
    ProcedureType,
)

if TYPE_CHECKING:
    from licita.accounts.models import User
    from licita.bidding.models import BidLot, ShareEnvelope
    from licita.core.errors import LicitaError
    from licita.procurement.models import Lot

MONEY: dict[str, Any] = {"max_digits": 17, "decimal_places": 2}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def service_error(form: forms.Form, exc: LicitaError, fields: dict[str, str] | None = None) -> None:
    """Put a service's refusal next to the field it names (or above the form when it names none of them)."""
    name = str(exc.detail.get("field", ""))
    name = (fields or {}).get(name, name)
    form.add_error(name if name in form.fields else None, str(exc.message))


class ProcedureForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=500)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    law = forms.ChoiceField(label=_("Law"), choices=Law.choices)
    procedure_type = forms.ChoiceField(label=_("Procedure type"), choices=ProcedureType.choices)
    character = forms.ChoiceField(label=_("Character"), choices=Character.choices)
    form = forms.ChoiceField(label=_("Form of participation"), choices=Form.choices)
    contract_type = forms.ChoiceField(label=_("Contract type"), choices=ContractType.choices)
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices)
    exception_fraction = forms.CharField(
        label=_("Exception fraction"),
        required=False,
        max_length=10,
        help_text=_("Only for an Art. 41 exception: the fraction invoked, e.g. I or III."),
    )
    justification = forms.CharField(
        label=_("Written justification"),
        required=False,
        widget=forms.Textarea,
        help_text=_("Required for an Art. 41 exception (at least 30 characters)."),
    )
    evaluation_method = forms.ChoiceField(label=_("Evaluation method"), choices=EvaluationMethod.choices)
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in sorted(CURRENCIES)], initial="MXN")


class LotForm(forms.Form):
    title = forms.CharField(label=_("Lot title"), max_length=300)
    estimated_value = forms.DecimalField(label=_("Estimated value"), min_value=Decimal("0.01"), **MONEY)


class ItemForm(forms.Form):
    lot = forms.IntegerField(label=_("Lot number"), min_value=1, initial=1)
    cucop = forms.RegexField(
        label=_("CUCoP code"),
        regex=r"^\d{5,12}$",
        error_messages={"invalid": _("A CUCoP code has 5 to 12 digits.")},
    )
    description = forms.CharField(label=_("Description"), max_length=500)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal("0.001"), max_digits=14, decimal_places=3)
    unit = forms.CharField(label=_("Unit of measure"), max_length=40)


LotFormSet = forms.formset_factory(LotForm, extra=0, can_delete=True, max_num=50, absolute_max=50)
ItemFormSet = forms.formset_factory(ItemForm, extra=0, can_delete=True, max_num=200, absolute_max=200)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of document"), choices=DocumentKind.choices)
    title = forms.CharField(label=_("Title"), max_length=300)
    file = forms.FileField(label=_("File"))


class InviteForm(forms.Form):
    rfcs = forms.CharField(
        label=_("RFCs to invite"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or more registered suppliers' RFCs, separated by spaces, commas or lines."),
    )

    def rfc_list(self) -> list[str]:
        """Return the RFCs typed, in order."""
        return [r for r in self.cleaned_data["rfcs"].replace(",", " ").split() if r]


class PublishForm(forms.Form):
    submission_deadline = forms.DateTimeField(
        label=_("Bids accepted until (opening)"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("Mexico City time."),
    )
    clarification_deadline = forms.DateTimeField(
        label=_("Questions accepted until (clarification meeting)"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("Leave empty for 24 hours before the opening."),
    )
    award_deadline = forms.DateTimeField(
        label=_("Fallo date"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("Optional: when the fallo will be given, after the opening."),
    )
    reduced_period_justification = forms.CharField(
        label=_("Justification of a reduced period"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    committee = forms.TypedMultipleChoiceField(
        label=_("Opening committee"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Custodians of the opening key: buyers of the unit and at least one auditor."),
    )
    threshold = forms.IntegerField(
        label=_("Shares needed to open the bids"), min_value=2, max_value=20, initial=2, required=False
    )

    def __init__(self, *args: Any, candidates: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["committee"].choices = [(u.pk, u.get_full_name() or u.username) for u in candidates]  # type: ignore[attr-defined]


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Public answer"), widget=forms.Textarea(attrs={"rows": 3}))


class AmendForm(forms.Form):
    description = forms.CharField(label=_("What changes and why"), widget=forms.Textarea(attrs={"rows": 3}))
    submission_deadline = forms.DateTimeField(
        label=_("New submission deadline"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("Leave empty to keep the current deadline."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the cancellation"), widget=forms.Textarea(attrs={"rows": 3}))


class OpeningForm(forms.Form):
    """One field per committee member: those present type their decrypted share (a SLIP-39 mnemonic)."""

    def __init__(self, *args: Any, envelopes: list[ShareEnvelope], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for envelope in envelopes:
            user = envelope.custodian
            self.fields[f"share_{user.pk}"] = forms.CharField(
                label=_("Share of %(name)s") % {"name": user.get_full_name() or user.username},
                required=False,
                strip=True,
                widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false"}),
            )

    def share_fields(self) -> list[str]:
        """Return the names of the fields where a share was entered, in order."""
        return [k for k, v in self.cleaned_data.items() if k.startswith("share_") and v]

    def shares(self) -> list[str]:
        """Return the shares entered, in order."""
        return [self.cleaned_data[k] for k in self.share_fields()]


class EvaluationForm(forms.Form):
    """Per opened bid and lot: compliant or not, the reason for a disqualification and, by points, the technical score."""

    def __init__(self, *args: Any, rows: list[BidLot], points: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.points = points
        for row in rows:
            self.fields[f"c_{row.pk}"] = forms.TypedChoiceField(
                label=_("Meets the requirements"),
                choices=[("1", _("Yes")), ("0", _("No"))],
                coerce=lambda v: v == "1",
                widget=forms.RadioSelect,
                initial="1",
            )
            self.fields[f"r_{row.pk}"] = forms.CharField(label=_("Reason for the disqualification"), required=False)
            if points:
                self.fields[f"t_{row.pk}"] = forms.DecimalField(
                    label=_("Technical points"), min_value=0, max_digits=6, decimal_places=2, required=False
                )

    def table(self) -> list[dict[str, Any]]:
        """Return each row with its bound fields, for the template."""
        return [
            {
                "row": r,
                "compliant": self[f"c_{r.pk}"],
                "reason": self[f"r_{r.pk}"],
                "points": self[f"t_{r.pk}"] if self.points else None,
            }
            for r in self.rows
        ]

    def error_fields(self) -> dict[str, str]:
        """Map the service's field names (evaluations[i].x) to this form's fields."""
        names: dict[str, str] = {}
        for i, r in enumerate(self.rows, start=1):
            names[f"evaluations[{i}]"] = f"c_{r.pk}"
            names[f"evaluations[{i}].reason"] = f"r_{r.pk}"
            names[f"evaluations[{i}].technical_points"] = f"t_{r.pk}"
        return names


class DirectAwardForm(forms.Form):
    supplier_rfc = forms.CharField(label=_("Supplier RFC"), max_length=13)

    def __init__(self, *args: Any, lots: list[Lot], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lot_numbers = [lot.number for lot in lots]
        for lot in lots:
            self.fields[f"lot_{lot.number}"] = forms.DecimalField(
                label=_("Amount awarded for lot %(n)d: %(title)s") % {"n": lot.number, "title": lot.title},
                min_value=Decimal("0.01"),
                required=False,
                **MONEY,
            )

    def error_fields(self) -> dict[str, str]:
        """Map lots[i].value to the amount field of the i-th lot awarded."""
        given = [n for n in self.lot_numbers if self.cleaned_data.get(f"lot_{n}") is not None]
        names = {f"lots[{i}].value": f"lot_{n}" for i, n in enumerate(given, start=1)}
        if self.lot_numbers:
            names["lots"] = f"lot_{self.lot_numbers[0]}"
        return names


class ContractSignForm(forms.Form):
    code = forms.CharField(
        label=_("Contract code"), required=False, max_length=60, help_text=_("Leave empty to number it automatically.")
    )
    title = forms.CharField(label=_("Contract title"), required=False, max_length=500)
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    end_date = forms.DateField(label=_("End date"), widget=DateInput())
    date_signed = forms.DateTimeField(
        label=_("Signed at"), required=False, widget=DateTimeInput(), help_text=_("Leave empty for now.")
    )


class ContractAmendForm(forms.Form):
    description = forms.CharField(label=_("What the amendment changes"), widget=forms.Textarea(attrs={"rows": 2}))
    rationale = forms.CharField(label=_("Rationale"), widget=forms.Textarea(attrs={"rows": 2}))
    value_change = forms.DecimalField(
        label=_("Change of amount"),
        required=False,
        help_text=_("Positive to increase, negative to reduce; empty for no change."),
        **MONEY,
    )
    new_end_date = forms.DateField(label=_("New end date"), required=False, widget=DateInput())


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount paid"), min_value=Decimal("0.01"), **MONEY)
    description = forms.CharField(label=_("Description"), max_length=300)
    date = forms.DateTimeField(
        label=_("Paid at"), required=False, widget=DateTimeInput(), help_text=_("Leave empty for now.")
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone or delivery"), max_length=300)
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())
    met = forms.BooleanField(label=_("Already met"), required=False)
