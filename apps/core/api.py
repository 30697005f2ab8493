"""API-wide behaviour: every error is JSON with a French `detail`."""

from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == 404 and "detail" in response.data:
        response.data["detail"] = "Ressource introuvable."
    return response
