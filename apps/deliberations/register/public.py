"""The public register of an authority, without login: its published deliberations, each one's page
and act, and the stable SCDL export URL for open-data portals.

Anonymous requests carry no tenant context: the authority comes from the URL, and every query
runs inside its context and asks for `published=True` explicitly. Unpublished rows, their acts
and other authorities' rows answer 404, exactly like rows that do not exist.
"""

import hashlib
import io

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_safe

from apps.tenants.public import public_authority

from ..models import Deliberation
from ..scdl.export import write_scdl_csv
from .forms import RegisterFilterForm
from .selectors import attach_snippets, base_queryset, search_register

PAGE_SIZE = 25
EXPORT_MAX_AGE = 900  # seconds: portals poll the export; a publication shows within 15 minutes


def _published(pk: int) -> Deliberation:
    return get_object_or_404(base_queryset(published_only=True), pk=pk)


@require_safe
def register(request, slug):
    form = RegisterFilterForm(request.GET or None, public=True)
    with public_authority(slug) as authority:
        found = search_register(form.filters(), published_only=True)
        page = Paginator(found.deliberations, PAGE_SIZE).get_page(request.GET.get("page"))
        attach_snippets(page.object_list, found.snippets)
        # Rendered inside the context: the page's querysets are evaluated by the template.
        return render(
            request,
            "deliberations/register/public/register.html",
            {
                "authority": authority,
                "form": form,
                "register": found,
                "page": page,
                "filters": form.filters(),
                "facets": form.facets(found),
                "page_links": form.page_links(page),
            },
        )


@require_safe
def deliberation(request, slug, pk):
    with public_authority(slug) as authority:
        return render(
            request,
            "deliberations/register/public/deliberation.html",
            {"authority": authority, "deliberation": _published(pk)},
        )


@require_safe
def deliberation_file(request, slug, pk):
    """The act's file, only while its deliberation is published."""
    with public_authority(slug):
        document = _published(pk).document
        if document is None or not document.file:
            raise Http404
        handle = document.file.open("rb")
    response = FileResponse(
        handle,
        filename=document.original_filename,
        as_attachment=not document.shows_inline,
        content_type=document.mime_type or None,
    )
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def register_export(request, slug):
    """Published deliberations as SCDL CSV, at a URL that never changes (open-data portals harvest it)."""
    with public_authority(slug) as authority:
        out = io.StringIO()
        write_scdl_csv(Deliberation.objects.filter(published=True).order_by("delib_date", "delib_id"), out)
    body = out.getvalue().encode("utf-8")
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="deliberations-{authority.slug}.csv"'
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={EXPORT_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


urlpatterns = [
    path("registre/<slug:slug>/", register, name="public-register"),
    path("registre/<slug:slug>/deliberations.csv", register_export, name="public-register-export"),
    path("registre/<slug:slug>/deliberations/<int:pk>/", deliberation, name="public-deliberation"),
    path("registre/<slug:slug>/deliberations/<int:pk>/acte/", deliberation_file, name="public-deliberation-file"),
]
