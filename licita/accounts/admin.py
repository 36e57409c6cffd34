from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from licita.accounts.models import Institution, Membership, PurchasingUnit, Sanction, Supplier, User

admin.site.register(User, UserAdmin)


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("siglas", "name", "ramo", "government_level")


@admin.register(PurchasingUnit)
class PurchasingUnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("key", "name", "institution")
    search_fields = ("key", "name")


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("rfc", "name", "person_type", "size")
    search_fields = ("rfc", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "role", "unit", "supplier", "institution", "is_active")


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("supplier_name", "authority", "case_number", "starts_on", "ends_on")
    search_fields = ("supplier_name", "case_number")
