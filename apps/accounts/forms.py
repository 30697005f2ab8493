from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .models import ApiKey


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Adresse électronique ou mot de passe incorrect.",
        "inactive": "Ce compte est désactivé.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Adresse électronique"
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "type": "email"})
        self.fields["password"].label = "Mot de passe"


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "scope"]
        help_texts = {
            "name": "Pour vous y retrouver, par exemple « Logiciel de gestion des actes ».",
            "scope": "« Lecture » suffit pour consulter ; « Lecture et écriture » permet d'envoyer des documents.",
        }
