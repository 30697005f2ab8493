"""Forms of the inbox: the citizen's public form (with its proof of work), the agents' filters, assignment,
reply editor, ratings, and the authority's inbox settings."""

from django import forms
from django.contrib.auth import get_user_model

from apps.tenants.models import Membership

from . import rules
from .models import Draft, Message, Service
from .selectors import InboxFilters

BOT_MESSAGE = (
    "La vérification anti-robot n'a pas abouti. Attendez que la case « Je ne suis pas un robot » soit cochée, "
    "puis envoyez à nouveau votre message."
)


class ContactForm(forms.Form):
    """What a citizen fills in on /registre/<slug>/ecrire/."""

    sender_name = forms.CharField(
        label="Vos nom et prénom", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    sender_email = forms.EmailField(
        label="Votre adresse électronique",
        help_text="La réponse vous sera envoyée à cette adresse.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    service = forms.ModelChoiceField(
        label="Service concerné (facultatif)",
        queryset=Service.objects.none(),
        required=False,
        empty_label="Je ne sais pas",
    )
    subject = forms.CharField(label="Objet", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    body = forms.CharField(
        label="Votre message", max_length=10_000, widget=forms.Textarea(attrs={"rows": 8, "autocomplete": "off"})
    )
    consent_publication = forms.BooleanField(
        label="J'accepte que la réponse soit publiée sur le site de la commune, sans mon nom ni mon adresse.",
        required=False,
    )
    altcha = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services if services is not None else Service.objects.none()


class FilterForm(forms.Form):
    etat = forms.ChoiceField(
        label="État",
        required=False,
        choices=[("open", "À traiter"), *Message.State.choices, ("", "Tous")],
    )
    service = forms.ModelChoiceField(
        label="Service", queryset=Service.objects.none(), required=False, empty_label="Tous"
    )
    moi = forms.BooleanField(label="Qui me sont attribués", required=False)
    retard = forms.BooleanField(label="En retard", required=False)
    q = forms.CharField(label="Rechercher", required=False, max_length=200)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["service"].queryset = Service.objects.all()

    def filters(self) -> InboxFilters:
        if not self.is_bound:
            return InboxFilters(state="open")
        data = self.cleaned_data if self.is_valid() else {}
        return InboxFilters(
            state=data.get("etat", "open") if "etat" in self.data else "open",
            service=data["service"].pk if data.get("service") else None,
            mine=bool(data.get("moi")),
            overdue=bool(data.get("retard")),
            search=data.get("q", ""),
        )


class AssignForm(forms.Form):
    service = forms.ModelChoiceField(
        label="Service", queryset=Service.objects.none(), required=False, empty_label="Aucun"
    )
    assigned_to = forms.ModelChoiceField(
        label="Agent chargé", queryset=get_user_model().objects.none(), required=False, empty_label="Personne"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.all()
        agents = Membership.objects.filter(role__in=[Membership.Role.AGENT, Membership.Role.ADMINISTRATOR])
        self.fields["assigned_to"].queryset = (
            get_user_model()
            .objects.filter(pk__in=agents.values("user_id"), is_active=True)
            .order_by("first_name", "last_name", "email")
        )
        self.fields["assigned_to"].label_from_instance = lambda user: user.get_full_name() or user.email


class ReplyForm(forms.Form):
    text = forms.CharField(
        label="Réponse", max_length=20_000, widget=forms.Textarea(attrs={"rows": 16}), required=False
    )
    draft = forms.IntegerField(required=False, widget=forms.HiddenInput)
    publish = forms.BooleanField(label="Publier la réponse sur le site (l'habitant l'a accepté)", required=False)


class DraftRatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Note du brouillon", coerce=int, choices=[(n, str(n)) for n in range(1, 6)], widget=forms.RadioSelect
    )
    reason = forms.ChoiceField(label="Motif principal", choices=Draft.Reason.choices)
    comment = forms.CharField(label="Commentaire (facultatif)", required=False, max_length=500)


class CitizenRatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Cette réponse vous a-t-elle été utile ? (1 : pas du tout, 5 : tout à fait)",
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 6)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Un commentaire ? (facultatif)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class InboxSettingsForm(forms.Form):
    reply_days = forms.IntegerField(
        label="Délai de réponse visé (jours ouvrés)", min_value=1, max_value=rules.MAX_REPLY_DAYS
    )
    retention_months = forms.IntegerField(
        label="Conservation des messages clos (mois)",
        min_value=1,
        max_value=rules.MAX_RETENTION_MONTHS,
        help_text="Passé ce délai après leur clôture, les messages, leurs brouillons et leurs réponses sont supprimés.",
    )
    services = forms.CharField(
        label="Services (un par ligne)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Les habitants peuvent choisir l'un d'eux ; les messages peuvent leur être attribués.",
    )

    def service_names(self) -> list[str]:
        names = [" ".join(line.split())[:120] for line in self.cleaned_data.get("services", "").splitlines()]
        return list(dict.fromkeys(name for name in names if name))
