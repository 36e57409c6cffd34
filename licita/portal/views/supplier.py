"""The supplier workspace."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path


def register(request: HttpRequest) -> HttpResponse:
    """Register a supplier with its RFC."""
    return render(request, "portal/supplier/register.html", {})


urlpatterns: list[URLPattern] = [
    path("registro/", register, name="supplier_register"),
]
