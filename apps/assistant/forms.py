from django import forms

from apps.documents.models import Collection

from .services import MAX_QUESTION_CHARS


class QuestionForm(forms.Form):
    question = forms.CharField(
        label="Votre question",
        max_length=MAX_QUESTION_CHARS,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "Ex. : Quel est le tarif de la cantine décidé en 2023 ?"}
        ),
    )
    conversation = forms.IntegerField(required=False, widget=forms.HiddenInput)
    collections = forms.ModelMultipleChoiceField(
        label="Chercher dans",
        required=False,
        queryset=Collection.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Aucune case cochée : toutes les collections.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collections"].queryset = Collection.objects.order_by("name")


class FeedbackForm(forms.Form):
    rating = forms.ChoiceField(choices=[("up", "Utile"), ("down", "Pas utile")])
    reason = forms.CharField(label="Pourquoi ? (facultatif)", required=False, max_length=500)


class WritingForm(forms.Form):
    task = forms.ChoiceField(label="Outil", choices=[])
    text = forms.CharField(
        label="Texte",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Les données personnelles sont masquées avant l'envoi au modèle, puis rétablies dans le résultat.",
    )
    instructions = forms.CharField(
        label="Consignes (courriel)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    agenda = forms.CharField(
        label="Ordre du jour (compte rendu)", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    notes = forms.CharField(
        label="Notes de séance (compte rendu)", required=False, widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(self, *args, tools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].choices = [(tool.task, tool.label) for tool in tools]


class AssistantSettingsForm(forms.Form):
    abstain_below = forms.FloatField(
        label="Seuil d'abstention",
        min_value=0,
        max_value=1,
        help_text="Entre 0 et 1. En dessous de cette confiance de la recherche, l'assistant répond qu'il ne "
        "trouve pas l'information plutôt que de risquer une réponse.",
    )
