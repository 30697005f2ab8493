"""REST API of the register: deliberations (filters, create, edit, publish), council sessions, and
the SCDL export. Thin: validation rules and writes live in forms/services."""

import io

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from apps.documents.models import Document
from apps.tenants.permissions import AbilitiesField, ability

from .. import nomenclature
from ..models import Deliberation, Session
from ..scdl.export import write_scdl_csv
from ..scdl.fields import FIELDS, INPUT_OF_COLUMN
from . import rules, services
from .forms import RegisterFilterForm
from .selectors import search_register, sessions_with_counts

REGISTRE_FIELDS = ["decision", "session", "document"]  # Registre's own fields an agent writes


class DeliberationSerializer(serializers.ModelSerializer):
    session = serializers.PrimaryKeyRelatedField(queryset=Session.objects.none(), required=False, allow_null=True)
    document = serializers.PrimaryKeyRelatedField(queryset=Document.objects.none(), required=False, allow_null=True)
    abilities = AbilitiesField("deliberations")

    class Meta:
        model = Deliberation
        fields = [
            "id",
            *FIELDS,
            *REGISTRE_FIELDS,
            "published",
            "origin",
            "matiere_confirmed",
            "matiere_suggestions",
            "created_at",
            "updated_at",
            "abilities",
        ]
        read_only_fields = [
            "matiere_nom",
            "published",
            "origin",
            "matiere_confirmed",
            "matiere_suggestions",
            "created_at",
            "updated_at",
        ]
        # Uniqueness per authority is checked in validate_delib_id (the authority is not an input).
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = Session.objects.all()
        self.fields["document"].queryset = Document.objects.all()

    def validate_delib_id(self, value):
        value = value.strip()
        instance_pk = self.instance.pk if self.instance else None
        if Deliberation.objects.filter(delib_id=value).exclude(pk=instance_pk).exists():
            raise serializers.ValidationError("Une délibération de la collectivité porte déjà ce numéro.")
        return value

    def validate(self, attrs):
        values = {name: getattr(self.instance, name) for name in FIELDS} if self.instance else {}
        values.update(attrs)
        code = values.get("matiere_code") or ""
        if code != (self.instance.matiere_code if self.instance else None):
            values["matiere_nom"] = nomenclature.label_path(code)
        published = bool(self.instance and self.instance.published)
        errors: dict[str, list[str]] = {}
        for column, message in rules.scdl_issues(values, require_matiere=published):
            errors.setdefault(INPUT_OF_COLUMN.get(column, "non_field_errors"), []).append(message)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        request = self.context["request"]
        return services.create_deliberation(
            authority=request.authority, origin=Deliberation.Origin.API, **validated_data
        )

    def update(self, instance, validated_data):
        try:
            return services.update_deliberation(deliberation=instance, **validated_data)
        except rules.PublicationRefused as refused:
            raise serializers.ValidationError({"non_field_errors": refused.messages}) from refused


FILTER_PARAMETERS = [
    OpenApiParameter("q", str, description="Recherche plein texte (objet, matière, texte de l'acte)."),
    OpenApiParameter("year", int, description="Année de la délibération."),
    OpenApiParameter("matiere", str, description="Code @ctes : « 7 » (et ses sous-matières) ou « 7.1 » (pas 7.10)."),
    OpenApiParameter("published", str, enum=["0", "1"], description="1 : publiées, 0 : non publiées."),
]


@extend_schema(parameters=FILTER_PARAMETERS)
class DeliberationViewSet(viewsets.ModelViewSet):
    """The authority's register of deliberations (every SCDL field)."""

    serializer_class = DeliberationSerializer
    permission_classes = [ability("deliberations")]
    lookup_value_regex = r"\d+"  # never captures deliberations/imports/, deliberations/classify/…
    http_method_names = ["get", "post", "put", "patch", "delete"]

    def get_queryset(self):
        if self.action != "list":
            return Deliberation.objects.select_related("session", "document")
        form = RegisterFilterForm(self.request.query_params)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors)
        return search_register(form.filters(), with_facets=False).deliberations

    def perform_destroy(self, instance):
        services.delete_deliberation(deliberation=instance)

    @extend_schema(request=None, responses={200: DeliberationSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Put the deliberation in the public register and SCDL export (400 with the reasons if it
        does not meet the schema, e.g. no matière)."""
        try:
            deliberation = services.publish_deliberation(deliberation=self.get_object())
        except rules.PublicationRefused as refused:
            raise serializers.ValidationError(
                {"detail": "Publication impossible.", "non_field_errors": refused.messages}
            ) from refused
        return Response(self.get_serializer(deliberation).data)

    @extend_schema(request=None, responses={200: DeliberationSerializer})
    @action(detail=True, methods=["post"])
    def unpublish(self, request, pk=None):
        """Withdraw the deliberation from the public register."""
        return Response(self.get_serializer(services.unpublish_deliberation(deliberation=self.get_object())).data)


class SessionSerializer(serializers.ModelSerializer):
    minutes = serializers.PrimaryKeyRelatedField(queryset=Document.objects.none(), required=False, allow_null=True)
    deliberation_count = serializers.IntegerField(read_only=True, default=0)
    abilities = AbilitiesField("sessions")

    class Meta:
        model = Session
        fields = ["id", "date", "title", "agenda", "minutes", "deliberation_count", "created_at", "abilities"]
        read_only_fields = ["created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes"].queryset = Document.objects.all()

    def create(self, validated_data):
        return services.create_session(authority=self.context["request"].authority, **validated_data)

    def update(self, instance, validated_data):
        return services.update_session(session=instance, **validated_data)


class SessionViewSet(viewsets.ModelViewSet):
    """Council sessions: date, agenda, minutes document; their deliberations link to them."""

    serializer_class = SessionSerializer
    permission_classes = [ability("sessions")]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete"]

    def get_queryset(self):
        return sessions_with_counts()

    def perform_destroy(self, instance):
        services.delete_session(session=instance)


class CsvRenderer(renderers.BaseRenderer):
    """Lets clients ask for text/csv; errors still come back as JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data)


class ExportView(APIView):
    """The register as a SCDL « Délibérations » 2.1.5 CSV (UTF-8)."""

    permission_classes = [ability("deliberations", "export")]
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "published",
                str,
                enum=["0", "1"],
                description="1 (défaut) : seulement les délibérations publiées ; 0 : toutes.",
            )
        ],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Fichier SCDL")},
    )
    def get(self, request):
        published_only = request.query_params.get("published", "1") != "0"
        deliberations = Deliberation.objects.order_by("delib_date", "delib_id")
        if published_only:
            deliberations = deliberations.filter(published=True)
        out = io.StringIO()
        write_scdl_csv(deliberations, out)
        response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="deliberations-{request.authority.slug}.csv"'
        return response


router = SimpleRouter()
router.register("deliberations", DeliberationViewSet, basename="deliberation")
router.register("deliberation-sessions", SessionViewSet, basename="deliberation-session")

urlpatterns = [
    path("deliberations/export.csv", ExportView.as_view(), name="deliberation-export"),
    *router.urls,
]
