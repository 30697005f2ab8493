"""Pages of SCDL imports: the list, the « Importer » form (file or URL), and each import's page with its live
progress and French validation report."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from apps.tenants.decorators import ability_required

from ..models import ScdlImport
from ..scdl.reading import ENCODING_NAMES
from .services import ImportRefused, max_import_bytes, start_import

ISSUES_PER_PAGE = 100
SEVERITY_FILTERS = {"erreurs": "error", "avertissements": "warning"}
DELIMITER_LABELS = {",": "virgule", ";": "point-virgule", "\t": "tabulation"}


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Fichier SCDL",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.json,.txt,text/csv,application/json"}),
    )
    url = forms.URLField(
        label="ou adresse web du fichier",
        required=False,
        max_length=1000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://data.exemple.fr/deliberations.csv"}),
        help_text="Lien direct vers le fichier CSV ou JSON (pas la page qui le présente).",
    )
    strict = forms.BooleanField(
        label="Mode strict : tout ou rien",
        required=False,
        help_text="Si une ligne est en erreur, aucune délibération n'est importée.",
    )
    publish = forms.BooleanField(
        label="Publier dans le registre public",
        required=False,
        initial=True,
        help_text="Les délibérations importées apparaissent dans le registre public et l'export SCDL.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = max_import_bytes() // (1024 * 1024)
        self.fields["file"].help_text = (
            "Tableau au schéma SCDL « Délibérations » : CSV (séparateur virgule, point-virgule ou tabulation ; "
            f"UTF-8 ou Windows-1252) ou JSON (liste d'enregistrements). {limit} Mo au plus."
        )

    def clean(self):
        data = super().clean()
        if data.get("file") and data.get("url"):
            raise forms.ValidationError("Déposez un fichier ou indiquez une adresse, pas les deux.")
        if not data.get("file") and not data.get("url") and not self.errors:
            raise forms.ValidationError("Déposez un fichier SCDL ou indiquez l'adresse d'un fichier.")
        return data


@ability_required("imports", "list")
def import_list(request):
    imports = ScdlImport.objects.select_related("job", "created_by").order_by("-created_at", "-id")
    page = Paginator(imports, 50).get_page(request.GET.get("page"))
    any_active = any(i.job and i.job.is_active for i in page.object_list)
    template = "deliberations/imports/_table.html" if request.htmx else "deliberations/imports/list.html"
    return render(request, template, {"page": page, "any_active": any_active})


@ability_required("imports", "create")
def import_new(request):
    form = ImportForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.get("file")
        try:
            scdl_import = start_import(
                authority=request.authority,
                created_by=request.user,
                source=ScdlImport.Source.UPLOAD if upload else ScdlImport.Source.URL,
                file=upload,
                filename=upload.name if upload else "",
                url=data.get("url") or "",
                strict=data["strict"],
                publish=data["publish"],
            )
        except ImportRefused as exc:
            form.add_error("file" if upload else "url", exc.user_message)
        else:
            messages.success(request, "Import lancé : suivez sa progression ci-dessous.")
            return redirect("deliberation-import-detail", pk=scdl_import.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "deliberations/imports/new.html", {"form": form}, status=status)


@ability_required("imports", "retrieve")
def import_detail(request, pk):
    scdl_import = get_object_or_404(ScdlImport.objects.select_related("job", "created_by"), pk=pk)
    context = {"import": scdl_import, **report_context(scdl_import, request.GET)}
    template = "deliberations/imports/_report.html" if request.htmx else "deliberations/imports/detail.html"
    return render(request, template, context)


def report_context(scdl_import: ScdlImport, params) -> dict:
    """The report's issues, errors first, filtered by severity and paginated; the problem is shown without
    the « Ligne 12, COLONNE : » prefix the table already gives."""
    report = scdl_import.report or {}
    severity_filter = params.get("gravite", "")
    wanted = SEVERITY_FILTERS.get(severity_filter)
    issues = sorted(report.get("issues", []), key=lambda i: (i["severity"] != "error", i["row"] or 0))
    if wanted:
        issues = [i for i in issues if i["severity"] == wanted]
    page = Paginator([{**i, "problem": _problem(i)} for i in issues], ISSUES_PER_PAGE).get_page(params.get("page"))
    active = bool(scdl_import.job and scdl_import.job.is_active)
    return {
        "report": report,
        "issues_page": page,
        "severity_filter": severity_filter,
        "active": active,
        "finished": not active and report.get("status") in ("imported", "rejected", "failed"),
        "imported_total": (report.get("created") or 0) + (report.get("updated") or 0),
        "encoding_label": ENCODING_NAMES.get(report.get("encoding"), str(report.get("encoding", "")).upper()),
        "delimiter_label": DELIMITER_LABELS.get(report.get("delimiter") or "", ""),
    }


def _problem(issue: dict) -> str:
    message = issue.get("message", "")
    head, separator, rest = message.partition(" : ")
    if separator and head.split(",")[0].split(" ")[0] in ("Ligne", "Enregistrement"):
        return rest[:1].upper() + rest[1:]
    return message


urlpatterns = [
    path("deliberations/imports/", import_list, name="deliberation-imports"),
    path("deliberations/imports/nouveau/", import_new, name="deliberation-import-new"),
    path("deliberations/imports/<int:pk>/", import_detail, name="deliberation-import-detail"),
]
