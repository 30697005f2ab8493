"""API-wide behaviour: every error is JSON with a French `detail`, and every 400 has one envelope,
{"detail": "<one French sentence>", "errors": {"<field or non_field_errors>": ["…"]}}.

Views refuse a request by raising DRF's ValidationError; `{"detail": "…", "<field>": […]}` sets the summary
itself, otherwise it is the single non-field message or INVALID_REQUEST.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

INVALID_REQUEST = "La demande contient des erreurs : corrigez les champs signalés."
NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY
DJANGO_NON_FIELD_ERRORS = "__all__"  # a Django form's errors passed on as they are
METHODS_WITH_BODY = ("POST", "PUT", "PATCH")


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == 400:
        response.data = error_envelope(response.data)
    elif response.status_code == 404 and isinstance(response.data, dict) and "detail" in response.data:
        response.data["detail"] = "Ressource introuvable."
    return response


def error_envelope(data) -> dict:
    """The 400 envelope of whatever a ValidationError (or another 400) carried."""
    if isinstance(data, dict):
        fields = dict(data)
        summary = " ".join(_messages(fields.pop("detail", "")))
    else:  # ValidationError("…") or ValidationError(["…", "…"]) raised outside a serializer
        fields, summary = {NON_FIELD_ERRORS: data}, ""
    errors = {}
    for name, value in fields.items():
        key = NON_FIELD_ERRORS if name == DJANGO_NON_FIELD_ERRORS else str(name)
        if messages := _messages(value):
            errors.setdefault(key, []).extend(messages)
    if not summary:
        only = errors.get(NON_FIELD_ERRORS, [])
        summary = only[0] if list(errors) == [NON_FIELD_ERRORS] and len(only) == 1 else INVALID_REQUEST
    return {"detail": summary, "errors": errors}


def _messages(value) -> list[str]:
    """Every message under a field, flattened (a list's items, a nested serializer's fields), as plain text."""
    if isinstance(value, dict):
        return [message for item in value.values() for message in _messages(item)]
    if isinstance(value, (list, tuple)):
        return [message for item in value for message in _messages(item)]
    return [str(value)] if str(value) else []


class BadRequestSerializer(serializers.Serializer):
    """The body of every 400 answer of the API."""

    detail = serializers.CharField(help_text="Une phrase en français qui résume le refus.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages par champ (ou non_field_errors) ; vide sans détail par champ.",
    )


class RegistreAutoSchema(AutoSchema):
    """Every operation that takes a body documents the shared 400 envelope."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method in METHODS_WITH_BODY and "400" not in responses:
            responses["400"] = self._get_response_for_code(BadRequestSerializer, "400", direction=direction)
        return responses
