from django import forms

from .models import Authority, Membership


class AddMemberForm(forms.Form):
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="La personne recevra un courriel pour choisir son mot de passe si elle n'a pas encore de compte.",
    )
    role = forms.ChoiceField(label="Rôle", choices=Membership.Role.choices, initial=Membership.Role.AGENT)


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label="Rôle", choices=Membership.Role.choices)


class AuthoritySettingsForm(forms.ModelForm):
    class Meta:
        model = Authority
        fields = ["name", "kind", "siren", "insee_code", "population", "contact_email"]
