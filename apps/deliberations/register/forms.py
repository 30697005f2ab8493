"""Forms of the register: a deliberation (every SCDL field, checked by the SCDL rules), a council
session, and the register's filters (agents' and public)."""

from django import forms
from django.http import QueryDict

from apps.documents.models import Document

from .. import nomenclature
from ..models import Deliberation, Session
from ..scdl.fields import INPUT_OF_COLUMN
from .rules import scdl_issues
from .selectors import Register, RegisterFilters


def matiere_choices() -> list:
    """Level-2 matières grouped under their level-1 heading (SCDL codes are level 2: « 7.10 »)."""
    groups: dict[str, list] = {}
    headings: dict[str, str] = {}
    for matiere in nomenclature.all_matieres():
        if matiere.level == 1:
            headings[matiere.code] = f"{matiere.code} {matiere.label}"
        elif matiere.level == 2:
            groups.setdefault(matiere.code.split(".")[0], []).append((matiere.code, f"{matiere.code} {matiere.label}"))
    return [("", "— À classer —")] + [(headings.get(code, code), options) for code, options in groups.items()]


class DeliberationForm(forms.ModelForm):
    matiere_code = forms.ChoiceField(
        label="Matière (@ctes)", required=False, help_text="Obligatoire pour publier la délibération."
    )
    delib_url = forms.URLField(
        label="Adresse web de l'acte (facultatif)", required=False, max_length=1000, assume_scheme="https"
    )

    class Meta:
        model = Deliberation
        fields = [
            "delib_id",
            "delib_date",
            "objet",
            "matiere_code",
            "decision",
            "session",
            "document",
            "vote_effectif",
            "vote_reel",
            "vote_pour",
            "vote_contre",
            "vote_abstention",
            "budget_annee",
            "budget_nom",
            "pref_id",
            "pref_date",
            "delib_url",
            "coll_nom",
            "coll_siret",
        ]
        widgets = {
            "delib_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "pref_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "objet": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "delib_id": "Numéro de la délibération",
            "coll_siret": "SIRET de la collectivité",
            "vote_effectif": "Membres en exercice",
            "vote_reel": "Votants",
            "vote_pour": "Pour",
            "vote_contre": "Contre",
            "vote_abstention": "Abstentions",
        }
        help_texts = {
            "delib_id": "Identifiant unique dans la collectivité, ex. 2024-015.",
            "budget_annee": "ex. 2024, ou 2024/2025.",
            "coll_siret": "14 chiffres.",
            "decision": "ex. Adoptée à l'unanimité.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["matiere_code"].choices = matiere_choices()
        self.fields["session"].queryset = Session.objects.order_by("-date")
        current = self.instance.document_id
        documents = Document.objects.filter(kind=Document.Kind.DELIBERATION) | Document.objects.filter(pk=current)
        self.fields["document"].queryset = documents.order_by("-created_at")
        self.fields["document"].label = "Document de l'acte (PDF déjà déposé)"
        self.fields["document"].help_text = "Parmi les documents de type « Délibération »."
        for name, field in self.fields.items():
            if name.startswith("vote_"):
                field.widget.attrs.setdefault("inputmode", "numeric")

    def clean_delib_id(self):
        delib_id = self.cleaned_data["delib_id"].strip()
        taken = Deliberation.objects.filter(delib_id=delib_id).exclude(pk=self.instance.pk).exists()
        if taken:
            raise forms.ValidationError("Une délibération de la collectivité porte déjà ce numéro.")
        return delib_id

    def clean(self):
        data = super().clean()
        code = data.get("matiere_code") or ""
        data["matiere_nom"] = nomenclature.label_path(code) if code else ""
        already_wrong = set(self.errors)  # a value the field itself refused is not checked again
        for column, message in scdl_issues(data, require_matiere=self.instance.published):
            field = INPUT_OF_COLUMN.get(column)
            if field not in self.fields:
                self.add_error(None, message)
            elif field not in already_wrong:
                self.add_error(field, message)
        return data

    def _post_clean(self):
        self.instance.matiere_nom = self.cleaned_data.get("matiere_nom", self.instance.matiere_nom)
        super()._post_clean()


class SessionForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = ["date", "title", "agenda", "minutes"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "agenda": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = [Document.Kind.PROCES_VERBAL, Document.Kind.COMPTE_RENDU]
        self.fields["minutes"].queryset = (
            Document.objects.filter(kind__in=kinds) | Document.objects.filter(pk=self.instance.minutes_id)
        ).order_by("-date")


class RegisterFilterForm(forms.Form):
    """Filters of the register; the public one hides `published`."""

    q = forms.CharField(
        label="Rechercher",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "ex. subvention association"}),
    )
    year = forms.IntegerField(label="Année", required=False, min_value=1800, max_value=2200)
    matiere = forms.ChoiceField(
        label="Matière", required=False, error_messages={"invalid_choice": "« %(value)s » n'est pas une matière @ctes."}
    )
    published = forms.TypedChoiceField(
        label="Publication",
        required=False,
        empty_value=None,
        choices=[("", "Toutes"), ("1", "Publiées"), ("0", "Non publiées")],
        coerce=lambda value: value == "1",
    )

    def __init__(self, *args, public: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["matiere"].choices = [("", "Toutes les matières")] + [
            (code, label if "." not in code else f"\u2003{label}") for code, label in nomenclature.choices(max_level=2)
        ]
        if public:
            del self.fields["published"]

    def filters(self) -> RegisterFilters:
        """The valid filters (an invalid one is ignored, and its error shown next to it)."""
        if not self.is_bound:
            return RegisterFilters()
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = self.cleaned_data
        return RegisterFilters(
            query=(data.get("q") or "").strip(),
            year=data.get("year"),
            matiere=data.get("matiere") or "",
            published=data.get("published"),
        )

    def link(self, **changes) -> str:
        """This page's query string with some filters changed (None removes one), back to page 1."""
        params = self.data.copy() if self.data else QueryDict(mutable=True)
        params.pop("page", None)
        for name, value in changes.items():
            if value in (None, ""):
                params.pop(name, None)
            else:
                params[name] = str(value)
        return "?" + params.urlencode()

    def page_links(self, page) -> dict:
        return {
            "previous": self.link(page=page.previous_page_number()) if page.has_previous() else "",
            "next": self.link(page=page.next_page_number()) if page.has_next() else "",
        }

    def facets(self, register: Register) -> dict:
        """Facet entries ready for the template: label, count, link, and whether it is the current filter."""
        current = self.filters()

        def entries(items, name, selected):
            return [
                {
                    "value": value,
                    "label": label,
                    "count": count,
                    "current": str(value) == str(selected),
                    "href": self.link(**{name: None if str(value) == str(selected) else value}),
                }
                for value, label, count in items
            ]

        return {
            "years": entries([(year, year, count) for year, count in register.years], "year", current.year),
            "matieres": entries([m for m in register.matieres if m[0]], "matiere", current.matiere),
            "sub_matieres": entries(register.sub_matieres, "matiere", current.matiere),
        }
