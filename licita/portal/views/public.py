"""Public pages: no login needed."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from licita.publication.bulk import dumps_list


def home(request: HttpRequest) -> HttpResponse:
    """Show the home page."""
    return render(request, "portal/public/home.html", {})


def search(request: HttpRequest) -> HttpResponse:
    """Search procedures, buyers, suppliers and contracts."""
    return render(request, "portal/public/search.html", {"nav": "search"})


def data_page(request: HttpRequest) -> HttpResponse:
    """List the bulk open-data files and the API."""
    return render(request, "portal/public/data.html", {"dumps": dumps_list(), "nav": "data"})


urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
    path("buscar/", search, name="search"),
    path("datos/", data_page, name="data"),
]
