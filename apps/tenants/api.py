from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import Authority, Membership
from .permissions import AbilitiesField, ability


class AuthoritySerializer(serializers.ModelSerializer):
    abilities = AbilitiesField("authority")

    class Meta:
        model = Authority
        fields = [
            "id",
            "name",
            "kind",
            "slug",
            "siren",
            "insee_code",
            "population",
            "contact_email",
            "settings",
            "abilities",
        ]
        read_only_fields = ["id", "slug"]


class CurrentAuthorityView(APIView):
    """The authority this request works for (from the API key, or the user's current choice)."""

    def get_permissions(self):
        return [ability("authority", "retrieve" if self.request.method == "GET" else "update")()]

    @extend_schema(responses=AuthoritySerializer)
    def get(self, request):
        return Response(AuthoritySerializer(request.authority, context={"request": request}).data)

    @extend_schema(request=AuthoritySerializer, responses=AuthoritySerializer)
    def patch(self, request):
        serializer = AuthoritySerializer(
            request.authority, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    abilities = AbilitiesField("members")

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "created_at", "abilities"]
        read_only_fields = ["id", "name", "created_at"]


class MembershipRoleSerializer(serializers.ModelSerializer):
    abilities = AbilitiesField("members")

    class Meta:
        model = Membership
        fields = ["role", "abilities"]


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Who has access to the authority, and with which role (administrators only)."""

    permission_classes = [ability("members")]
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self):
        return Membership.objects.select_related("user").order_by("user__email")

    def get_serializer_class(self):
        return MembershipRoleSerializer if self.action == "partial_update" else MembershipSerializer

    def perform_create(self, serializer):
        serializer.instance = services.add_member(
            authority=self.request.authority,
            email=serializer.validated_data["user"]["email"],
            role=serializer.validated_data.get("role", Membership.Role.AGENT),
            request=self.request,
        )

    def perform_update(self, serializer):
        try:
            services.change_role(membership=serializer.instance, role=serializer.validated_data["role"])
        except services.LastAdministratorError as exc:
            raise ValidationError({"role": exc.message}) from exc

    def perform_destroy(self, instance):
        try:
            services.remove_member(membership=instance)
        except services.LastAdministratorError as exc:
            raise ValidationError({"detail": exc.message}) from exc
