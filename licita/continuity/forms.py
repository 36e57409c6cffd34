"""Forms of the continuity office's workspaces: register a contingency procedure, upload a signed file."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licita.continuity.models import Outage
from licita.core.errors import LicitaError
from licita.portal.forms_buyer import MONEY, DateTimeInput
from licita.portal.forms_supplier import MultipleFileField
from licita.procurement.models import ContractType, LegalBasis, ProcedureType

#: Largest signed contingency file taken, by the portal and the API: about 4,000 procedures at ~500 bytes each.
CONTINGENCY_FILE_MAX_BYTES = 2 * 1024 * 1024


def refusal_text(exc: LicitaError) -> str:
    """Return a service's refusal with the field and the rule it names, as the forms and pages show it."""
    message = str(exc.message)
    field = exc.detail.get("field")
    rule = exc.detail.get("rule")
    if field and rule:
        return _("%(message)s (field: %(field)s; rule: %(rule)s)") % {"message": message, "field": field, "rule": rule}
    if field:
        return _("%(message)s (field: %(field)s)") % {"message": message, "field": field}
    if rule:
        return _("%(message)s (rule: %(rule)s)") % {"message": message, "rule": rule}
    return message


def service_error(form: forms.Form, exc: LicitaError, *, default: str | None = None) -> None:
    """Put a service's refusal next to the field it names, else on `default` (or above the form)."""
    name = str(exc.detail.get("field") or "")
    target = name if name in form.fields else default
    form.add_error(target, refusal_text(exc))


class OutageChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        """Return the outage as its period in Mexico City time and what was affected."""
        end = f"{timezone.localtime(obj.ended_at):%d/%m/%Y %H:%M}" if obj.ended_at else _("ongoing")
        return f"{timezone.localtime(obj.started_at):%d/%m/%Y %H:%M} – {end} · {obj.affected}"


class ContingencyRegisterForm(forms.Form):
    """One procedure a unit carried out in person during an outage."""

    unit = forms.ChoiceField(label=gettext_lazy("Purchasing unit"))
    outage = OutageChoiceField(
        label=gettext_lazy("Outage"),
        queryset=Outage.objects.order_by("-started_at"),
        empty_label=None,
        help_text=gettext_lazy("The outage during which the procedure was carried out in person."),
    )
    ref = forms.CharField(
        label=gettext_lazy("Unit's reference"),
        max_length=60,
        help_text=gettext_lazy("The number the unit gave the procedure on paper; unique per outage."),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=500)
    procedure_type = forms.ChoiceField(label=gettext_lazy("Procedure type"), choices=ProcedureType.choices)
    contract_type = forms.ChoiceField(label=gettext_lazy("Contract type"), choices=ContractType.choices)
    legal_basis = forms.ChoiceField(label=gettext_lazy("Legal basis"), choices=LegalBasis.choices)
    supplier_rfc = forms.CharField(label=gettext_lazy("Supplier RFC"), max_length=13)
    amount = forms.DecimalField(label=gettext_lazy("Amount (MXN)"), **MONEY)
    carried_out_at = forms.DateTimeField(
        label=gettext_lazy("Carried out at"),
        widget=DateTimeInput(),
        help_text=gettext_lazy("Date and time of the act, in Mexico City time; it must fall inside the outage."),
    )

    def __init__(self, *args: Any, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.key, f"{u.key} — {u.name}") for u in units]  # type: ignore[attr-defined]


class ContingencyFileForm(forms.Form):
    """A contingency file exported by `licita contingency export` and signed by the unit's official."""

    file = forms.FileField(label=gettext_lazy("Signed contingency file (JSON)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "The file made on the laptop with “licita contingency export”, at most %(size)s."
        ) % {"size": filesizeformat(CONTINGENCY_FILE_MAX_BYTES)}

    def clean_file(self) -> bytes:
        """Return the file's bytes, refusing one larger than the limit without reading it."""
        upload = self.cleaned_data["file"]
        if upload.size > CONTINGENCY_FILE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; at most %(max)s is taken (field: file; rule: max_size)")
                % {"size": filesizeformat(upload.size), "max": filesizeformat(CONTINGENCY_FILE_MAX_BYTES)},
                code="max_size",
            )
        return bytes(upload.read())


def backcapture_file_max_bytes() -> int:
    """Largest file of acts taken: the acts, and one document's worth of actas written into it in base64."""
    return CONTINGENCY_FILE_MAX_BYTES + settings.LICITA_MAX_DOCUMENT_BYTES * 4 // 3


class BackcaptureFileForm(forms.Form):
    """The acts of one registered contingency procedure (JSON), with the actas (PDF) its document steps name."""

    file = forms.FileField(label=gettext_lazy("File of acts (JSON)"))
    attachments = MultipleFileField(
        label=gettext_lazy("Actas (PDF)"),
        required=False,
        help_text=gettext_lazy("The files named by the “file” of each document step."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "The convocatoria, bids, fallo, contract and actas of one registered procedure, as for"
            " “licita contingency backcapture”; at most %(size)s."
        ) % {"size": filesizeformat(backcapture_file_max_bytes())}

    def clean_file(self) -> Any:
        """Return the file's JSON, refusing one too large or not JSON (field and rule in the message)."""
        upload = self.cleaned_data["file"]
        limit = backcapture_file_max_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; at most %(max)s is taken (field: file; rule: max_size)")
                % {"size": filesizeformat(upload.size), "max": filesizeformat(limit)},
                code="max_size",
            )
        try:
            return json.loads(upload.read())
        except (ValueError, UnicodeDecodeError):
            raise forms.ValidationError(
                _("The file is not valid JSON (field: file; rule: json)"), code="json"
            ) from None

    def clean_attachments(self) -> dict[str, bytes]:
        """Return the actas by file name, refusing any larger than a document may be."""
        files: dict[str, bytes] = {}
        for upload in self.cleaned_data["attachments"]:
            if upload.size > settings.LICITA_MAX_DOCUMENT_BYTES:
                raise forms.ValidationError(
                    _("%(name)s is %(size)s; at most %(max)s is taken (field: attachments; rule: max_size)")
                    % {
                        "name": upload.name,
                        "size": filesizeformat(upload.size),
                        "max": filesizeformat(settings.LICITA_MAX_DOCUMENT_BYTES),
                    },
                    code="max_size",
                )
            files[upload.name] = bytes(upload.read())
        return files


class OutageDeclareForm(forms.Form):
    """An outage the platform could not see (the network, a provider), declared by an auditor."""

    start = forms.DateTimeField(
        label=gettext_lazy("Start"), widget=DateTimeInput(), help_text=gettext_lazy("Mexico City time.")
    )
    end = forms.DateTimeField(
        label=gettext_lazy("End"),
        widget=DateTimeInput(),
        required=False,
        help_text=gettext_lazy("Leave empty while it lasts; close it when it ends."),
    )
    affected = forms.CharField(label=gettext_lazy("What was affected"), max_length=500)
    cause = forms.CharField(label=gettext_lazy("Cause"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class OutageCloseForm(forms.Form):
    """The end of an open outage."""

    outage = forms.IntegerField(widget=forms.HiddenInput)
    end = forms.DateTimeField(
        label=gettext_lazy("End"), widget=DateTimeInput(), help_text=gettext_lazy("Mexico City time.")
    )
