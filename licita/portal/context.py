"""Template context shared by every portal page: the workspaces the user can open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from licita.accounts.models import Role

#: Each workspace: its navigation key, the URL name of its first page, its label, and the roles that open it.
WORKSPACES: tuple[tuple[str, str, Callable[[], str], set[str]], ...] = (
    ("buyer", "buyer_home", lambda: _("My purchasing unit"), {Role.BUYER_OPERATOR, Role.BUYER_ADMIN}),
    ("supplier", "supplier_home", lambda: _("My bids"), {Role.SUPPLIER_REP}),
    ("auditor", "auditor_home", lambda: _("Oversight"), {Role.AUDITOR, Role.PLATFORM_ADMIN}),
)


def workspaces(request: HttpRequest) -> dict[str, Any]:
    """Return the links to the workspaces of the user's active roles (none for visitors)."""
    user = request.user
    if not user.is_authenticated:
        return {"workspace_links": []}
    roles = set(user.memberships.filter(is_active=True).values_list("role", flat=True))
    links = []
    for key, url_name, label, allowed in WORKSPACES:
        if roles & allowed:
            links.append({"key": key, "url": reverse(url_name), "label": label()})
    return {"workspace_links": links}
