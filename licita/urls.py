"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import path

from licita.api.api import api
from licita.publication.views import bulk_page

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("datos/", bulk_page, name="bulk"),
]
