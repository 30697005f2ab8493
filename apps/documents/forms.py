from django import forms

from .models import Collection, Document


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Fichiers",
        help_text="PDF, DOCX, ODT, HTML, TXT, Markdown, ou une archive .zip. "
        "Vous pouvez en sélectionner plusieurs, ou les glisser ici.",
    )
    collection = forms.ModelChoiceField(
        label="Collection", queryset=Collection.objects.none(), required=False, empty_label="Documents (par défaut)"
    )
    kind = forms.ChoiceField(label="Type", choices=Document.Kind.choices, initial=Document.Kind.OTHER, required=False)
    date = forms.DateField(label="Date (facultatif)", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.all()

    def clean_kind(self):
        return self.cleaned_data["kind"] or Document.Kind.OTHER


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Rechercher",
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "ex. tarif de la cantine"}),
    )
    collection = forms.ModelMultipleChoiceField(
        label="Collections", queryset=Collection.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    kind = forms.MultipleChoiceField(
        label="Types", choices=Document.Kind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    year = forms.IntegerField(label="Année", required=False, min_value=1800, max_value=2200)
    date_from = forms.DateField(label="Depuis le", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Jusqu'au", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    matiere = forms.CharField(label="Matière (@ctes)", required=False, max_length=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.all()


class CollectionForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = ["name", "description", "visibility"]
        help_texts = {"visibility": "Une collection publique peut être citée par l'assistant du site internet."}
