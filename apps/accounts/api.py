from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenants.abilities import all_abilities
from apps.tenants.permissions import AbilitiesField, IsIdentified, ability

from . import services
from .models import ApiKey


class ApiKeySerializer(serializers.ModelSerializer):
    abilities = AbilitiesField("api_keys")

    class Meta:
        model = ApiKey
        fields = ["id", "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at", "abilities"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class NewApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="La clé complète, affichée une seule fois.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """API keys of the authority (administrators, signed in: a key cannot mint keys)."""

    serializer_class = ApiKeySerializer
    permission_classes = [ability("api_keys")]

    def get_queryset(self):
        return ApiKey.objects.order_by("-created_at")

    @extend_schema(request=ApiKeySerializer, responses={201: NewApiKeySerializer})
    def create(self, request, *args, **kwargs):
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, plaintext = services.create_api_key(
            authority=request.authority, created_by=request.user, **serializer.validated_data
        )
        data = NewApiKeySerializer(key, context=self.get_serializer_context()).data | {"key": plaintext}
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None}, description="Revoke the key (it stops working at once).")
    def destroy(self, request, *args, **kwargs):
        services.revoke_api_key(key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who is calling: the signed-in user and their authorities, or the API key."""

    permission_classes = [IsIdentified]

    @extend_schema(responses={200: dict})
    def get(self, request):
        authority = getattr(request, "authority", None)
        body = {
            "authority": {"id": authority.pk, "slug": authority.slug, "name": authority.name} if authority else None,
            "role": getattr(request, "role", None),
            # What this caller may do, resource by resource (the table the API's permissions read).
            "abilities": all_abilities(getattr(request, "role", None)),
        }
        if isinstance(request.auth, ApiKey):
            body["api_key"] = {"name": request.auth.name, "prefix": request.auth.prefix, "scope": request.auth.scope}
        else:
            body["user"] = {"email": request.user.email, "name": request.user.get_full_name()}
            body["memberships"] = [
                {"authority": m.authority.slug, "name": m.authority.name, "role": m.role} for m in request.memberships
            ]
        return Response(body)
