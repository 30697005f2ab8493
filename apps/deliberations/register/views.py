"""Agents' pages of the register: the list with its filters, a deliberation's page, the form, the
publish switch, council sessions and the SCDL export. Readers read; agents edit."""

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.tenants.abilities import can
from apps.tenants.decorators import ability_required

from ..models import Deliberation, Session
from ..scdl.export import write_scdl_csv
from . import services
from .forms import DeliberationForm, RegisterFilterForm, SessionForm
from .rules import PublicationRefused, deliberation_issues
from .selectors import attach_snippets, search_register, sessions_with_counts

PAGE_SIZE = 50


@ability_required("deliberations", "list")
def register_list(request):
    form = RegisterFilterForm(request.GET or None)
    register = search_register(form.filters())
    page = Paginator(register.deliberations, PAGE_SIZE).get_page(request.GET.get("page"))
    attach_snippets(page.object_list, register.snippets)
    context = {
        "form": form,
        "register": register,
        "page": page,
        "filters": form.filters(),
        "facets": form.facets(register),
        "page_links": form.page_links(page),
    }
    template = "deliberations/register/_results.html" if request.htmx else "deliberations/register/list.html"
    return render(request, template, context)


@ability_required("deliberations", "retrieve")
def deliberation_detail(request, pk):
    deliberation = get_object_or_404(Deliberation.objects.select_related("document__collection", "session"), pk=pk)
    return render(
        request,
        "deliberations/register/detail.html",
        {"deliberation": deliberation, "issues": deliberation_issues(deliberation)},
    )


@ability_required("deliberations", "create")
def deliberation_new(request):
    form = DeliberationForm(request.POST or None, initial=services.default_values(request.authority))
    if request.method == "POST" and form.is_valid():
        deliberation = services.create_deliberation(authority=request.authority, **_editable(form))
        messages.success(request, f"Délibération n° {deliberation.delib_id} enregistrée.")
        return redirect("deliberation-detail", pk=deliberation.pk)
    return render(request, "deliberations/register/form.html", {"form": form}, status=400 if form.errors else 200)


@ability_required("deliberations", "update")
def deliberation_edit(request, pk):
    deliberation = get_object_or_404(Deliberation, pk=pk)
    # The form validates its own copy: the service compares the stored values with the new ones.
    form = DeliberationForm(request.POST or None, instance=Deliberation.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_deliberation(deliberation=deliberation, **_editable(form))
        except PublicationRefused as refused:
            for message in refused.messages:
                form.add_error(None, f"Délibération publiée : {message}")
        else:
            messages.success(request, "Modifications enregistrées.")
            return redirect("deliberation-detail", pk=deliberation.pk)
    return render(
        request,
        "deliberations/register/form.html",
        {"form": form, "deliberation": deliberation},
        status=400 if form.errors else 200,
    )


def _editable(form) -> dict:
    data = form.cleaned_data
    return {name: data[name] for name in form.Meta.fields}


@ability_required("deliberations", "publish")
@require_POST
def deliberation_publish(request, pk):
    deliberation = get_object_or_404(Deliberation, pk=pk)
    if request.POST.get("published") == "1":
        try:
            services.publish_deliberation(deliberation=deliberation)
        except PublicationRefused as refused:
            messages.error(request, "Publication impossible : " + " ".join(refused.messages))
        else:
            messages.success(request, "La délibération est publiée dans le registre public.")
    else:
        services.unpublish_deliberation(deliberation=deliberation)
        messages.success(request, "La délibération est retirée du registre public.")
    return redirect("deliberation-detail", pk=deliberation.pk)


@ability_required("deliberations", "destroy")
@require_POST
def deliberation_delete(request, pk):
    deliberation = get_object_or_404(Deliberation, pk=pk)
    services.delete_deliberation(deliberation=deliberation)
    messages.success(request, f"Délibération n° {deliberation.delib_id} supprimée du registre.")
    return redirect("deliberations")


@ability_required("deliberations", "export")
def register_export(request):
    """The register as SCDL CSV: published deliberations only (?publiees=1) or all of them."""
    published_only = request.GET.get("publiees") == "1"
    deliberations = Deliberation.objects.order_by("delib_date", "delib_id")
    if published_only:
        deliberations = deliberations.filter(published=True)
    out = io.StringIO()
    write_scdl_csv(deliberations, out)
    suffix = "publiees" if published_only else "toutes"
    filename = f"deliberations-{request.authority.slug}-{suffix}-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@ability_required("sessions", "list")
def session_list(request):
    form = SessionForm(request.POST or None)
    if request.method == "POST":
        if not can(request.role, "sessions", "create"):
            raise PermissionDenied
        if form.is_valid():
            session = services.create_session(authority=request.authority, **form.cleaned_data)
            messages.success(request, f"{session} enregistrée.")
            return redirect("deliberation-session", pk=session.pk)
    page = Paginator(sessions_with_counts(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "deliberations/register/sessions.html",
        {"form": form, "page": page},
        status=400 if form.errors else 200,
    )


@ability_required("sessions", "retrieve")
def session_detail(request, pk):
    session = get_object_or_404(Session.objects.select_related("minutes"), pk=pk)
    form = SessionForm(request.POST or None, instance=session)
    if request.method == "POST":
        if not can(request.role, "sessions", "update"):
            raise PermissionDenied
        if form.is_valid():
            services.update_session(session=session, **form.cleaned_data)
            messages.success(request, "Séance enregistrée.")
            return redirect("deliberation-session", pk=session.pk)
    deliberations = session.deliberations.order_by("delib_id")
    return render(
        request,
        "deliberations/register/session.html",
        {"session": session, "form": form, "deliberations": deliberations},
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("deliberations/", register_list, name="deliberations"),
    path("deliberations/nouvelle/", deliberation_new, name="deliberation-new"),
    path("deliberations/export.csv", register_export, name="deliberations-export"),
    path("deliberations/<int:pk>/", deliberation_detail, name="deliberation-detail"),
    path("deliberations/<int:pk>/modifier/", deliberation_edit, name="deliberation-edit"),
    path("deliberations/<int:pk>/publication/", deliberation_publish, name="deliberation-publish"),
    path("deliberations/<int:pk>/supprimer/", deliberation_delete, name="deliberation-delete"),
    path("deliberations/seances/", session_list, name="deliberation-sessions"),
    path("deliberations/seances/<int:pk>/", session_detail, name="deliberation-session"),
]
