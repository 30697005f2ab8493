"""REST API of SCDL imports: start one (multipart file, JSON {"url"} or JSON {"records"}), follow it, read
its validation report. Agents (or write keys) start imports; readers follow them."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from apps.tenants.permissions import AbilitiesField, ability

from ..models import ScdlImport
from .services import ImportRefused, start_import

SUMMARY_KEYS = (
    "status",
    "message",
    "rows",
    "valid",
    "invalid",
    "created",
    "updated",
    "unchanged",
    "errors",
    "warnings",
)


class ScdlImportSerializer(serializers.ModelSerializer):
    source = serializers.CharField(read_only=True, help_text="upload, url ou api.")
    publish = serializers.SerializerMethodField()
    job = serializers.PrimaryKeyRelatedField(read_only=True, help_text="Travail d'arrière-plan (/api/v1/jobs/{id}/).")
    state = serializers.SerializerMethodField(help_text="État du travail : pending, running, succeeded, failed.")
    progress = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField(help_text="Raison de l'échec, en français.")
    summary = serializers.SerializerMethodField(help_text="Décomptes du rapport (lignes, valides, ajoutées…).")
    abilities = AbilitiesField("imports")

    class Meta:
        model = ScdlImport
        fields = [
            "id",
            "source",
            "filename",
            "url",
            "strict",
            "publish",
            "job",
            "state",
            "progress",
            "message",
            "error",
            "summary",
            "created_at",
            "abilities",
        ]
        read_only_fields = fields

    def get_publish(self, obj) -> bool:
        return bool(obj.report.get("publish", True))

    def get_state(self, obj) -> str:
        return obj.job.state if obj.job else ""

    def get_progress(self, obj) -> int:
        return obj.job.progress if obj.job else 0

    def get_message(self, obj) -> str:
        return obj.job.message if obj.job else ""

    def get_error(self, obj) -> str:
        return obj.job.error if obj.job else ""

    def get_summary(self, obj) -> dict:
        return {key: obj.report[key] for key in SUMMARY_KEYS if key in obj.report}


class ScdlImportDetailSerializer(ScdlImportSerializer):
    report = serializers.JSONField(
        read_only=True,
        help_text=(
            "Rapport complet : rows, valid, invalid, created, updated, unchanged, errors, warnings, strict, publish, "
            "status (imported, rejected, failed), message, notices, encoding, delimiter, format, issues [{row, column, "
            "code, severity, message, value}] (5 000 au plus, erreurs d'abord ; issues_truncated), issue_totals."
        ),
    )

    class Meta(ScdlImportSerializer.Meta):
        fields = [*ScdlImportSerializer.Meta.fields, "report"]
        read_only_fields = fields


class FlagField(serializers.BooleanField):
    """A boolean whose absence from a multipart form means its default (DRF would read False)."""

    default_empty_html = empty


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="Fichier CSV ou JSON au schéma SCDL (multipart).")
    url = serializers.URLField(required=False, max_length=1000, help_text="Adresse directe d'un fichier SCDL.")
    records = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        allow_empty=False,
        help_text="Enregistrements SCDL (clés coll_nom, delib_id… en minuscules ou "
        "majuscules), comme un export JSON de portail.",
    )
    strict = FlagField(default=False, help_text="Tout ou rien : une erreur et rien n'est importé.")
    publish = FlagField(default=True, help_text="Publier les délibérations importées.")

    def validate(self, attrs):
        given = [key for key in ("file", "url", "records") if attrs.get(key) not in (None, "")]
        if len(given) != 1:
            raise serializers.ValidationError("Envoyez exactement l'un de : file (multipart), url ou records.")
        return attrs


class ScdlImportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """SCDL imports of the authority. An import runs in the background: poll it (or its job) until its
    state is succeeded or failed, then read the report."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]
    permission_classes = [ability("imports")]

    def get_queryset(self):
        return ScdlImport.objects.select_related("job").order_by("-created_at", "-id")

    def get_serializer_class(self):
        return ScdlImportDetailSerializer if self.action == "retrieve" else ScdlImportSerializer

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer, "application/json": ImportRequestSerializer},
        responses={202: ScdlImportSerializer},
        examples=[
            OpenApiExample("Adresse", value={"url": "https://data.exemple.fr/deliberations.csv"}, request_only=True),
            OpenApiExample(
                "Enregistrements",
                request_only=True,
                value={
                    "strict": True,
                    "records": [
                        {
                            "coll_nom": "Commune de Rennes",
                            "coll_siret": "21350238800019",
                            "delib_id": "2023_0461",
                            "delib_date": "2023-12-04",
                            "delib_matiere_code": "5.7",
                            "delib_matiere_nom": "Institutions et vie politique/Intercommunalite",
                            "delib_objet": "Rapport d'activités 2022",
                        }
                    ],
                },
            ),
        ],
    )
    def create(self, request):
        """Start an import: a multipart `file`, or JSON with `url` or `records`. Answers 202 at once; the
        rows are validated and written by a background job (`job`, `state`, `progress`)."""
        payload = ImportRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        upload = data.get("file")
        source = ScdlImport.Source.URL if data.get("url") else ScdlImport.Source.API
        try:
            scdl_import = start_import(
                authority=request.authority,
                source=source,
                created_by=request.user if request.user.is_authenticated else None,
                file=upload,
                filename=upload.name if upload else "",
                url=data.get("url", ""),
                records=data.get("records"),
                strict=data["strict"],
                publish=data["publish"],
            )
        except ImportRefused as exc:
            raise ValidationError({"detail": exc.user_message}) from exc
        return Response(self.get_serializer(scdl_import).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter(trailing_slash=True)
router.register("deliberations/imports", ScdlImportViewSet, basename="deliberation-import")
urlpatterns = router.urls
