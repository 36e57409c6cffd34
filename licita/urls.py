"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

from licita.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("licita.ops.views")),
    path("", include("licita.continuity.views")),  # continuity (issue 7)
    path("", include("licita.portal.urls")),
]
