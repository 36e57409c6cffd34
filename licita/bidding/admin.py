"""Admin screens for bids show only the sealed envelope: there is no content to show before the opening."""

from django.contrib import admin

from licita.bidding.models import Bid, OpeningKey


@admin.register(Bid)
class BidAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("procedure", "supplier", "version", "status", "committed_at", "sealed_sha256")
    list_filter = ("status",)
    readonly_fields = (
        "procedure",
        "supplier",
        "submitted_by",
        "version",
        "status",
        "sealed_sha256",
        "sealed_size",
        "committed_at",
        "withdrawn_at",
        "receipt",
    )

    def has_add_permission(self, request: object) -> bool:
        """Bids arrive only through the bidding service."""
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        """Bids are never deleted."""
        return False


@admin.register(OpeningKey)
class OpeningKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("procedure", "threshold", "share_count", "used_at")
    readonly_fields = ("procedure", "threshold", "share_count", "used_at")
