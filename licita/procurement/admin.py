"""Read-mostly admin screens; changes of state go through the services, not the admin."""

from django.contrib import admin

from licita.procurement.models import AmendmentCap, Contract, MinimumPeriod, Procedure, Threshold


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: object) -> bool:
        """Refuse: rows are created only through the services."""
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        """Refuse: rows change only through the services."""
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        """Never deleted from the admin."""
        return False


@admin.register(Procedure)
class ProcedureAdmin(ReadOnly):
    list_display = ("number", "title", "procedure_type", "status", "unit", "estimated_value", "submission_deadline")
    list_filter = ("status", "procedure_type", "law")
    search_fields = ("number", "expediente", "title")


@admin.register(Contract)
class ContractAdmin(ReadOnly):
    list_display = ("code", "supplier", "value", "status", "date_signed")


@admin.register(MinimumPeriod)
class MinimumPeriodAdmin(ReadOnly):
    list_display = ("law", "regime", "procedure_type", "character", "days", "reduced_days", "is_example", "source")


@admin.register(Threshold)
class ThresholdAdmin(ReadOnly):
    list_display = ("fiscal_year", "contract_type", "budget_band", "direct_award_max", "invitation_max", "is_example")


@admin.register(AmendmentCap)
class AmendmentCapAdmin(ReadOnly):
    list_display = ("law", "percent", "is_example", "source")
