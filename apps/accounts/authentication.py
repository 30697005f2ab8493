"""DRF authentication by authority API key (`Authorization: Bearer rgk_…`)."""

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import ApiKey
from .services import authenticate_api_key

SCOPE_ROLE = {ApiKey.Scope.READ: "reader", ApiKey.Scope.WRITE: "agent"}


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("En-tête Authorization invalide : « Bearer <clé> » attendu.")
        key = authenticate_api_key(header[1].decode("ascii", errors="replace"))
        if key is None:
            raise exceptions.AuthenticationFailed("Clé d'API invalide ou révoquée.")
        django_request = request._request
        django_request.authority = key.authority
        django_request.membership = None
        django_request.role = SCOPE_ROLE[key.scope]
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
