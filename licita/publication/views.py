"""The public page that lists the bulk open-data files."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from licita.publication.bulk import dumps_list


def bulk_page(request: HttpRequest) -> HttpResponse:
    """List every bulk dump with its files, sizes and SHA-256."""
    return render(request, "publication/bulk.html", {"dumps": dumps_list()})
