"""REST API of subject routing: suggest a matière for a text, confirm a deliberation's matière, and
classify deliberations in the background."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.jobs.api import JobSerializer
from apps.tenants.permissions import AbilitiesField, ability

from ..models import Deliberation
from .job import enqueue_classification
from .services import confirm_matiere
from .suggestions import SUGGESTIONS, RoutingError, RoutingUnavailable, suggest_matieres

MAX_CLASSIFY_IDS = 10_000


class MatiereSuggestRequestSerializer(serializers.Serializer):
    objet = serializers.CharField(max_length=2000, help_text="Objet de la délibération.")
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100_000,
        help_text="Texte de l'acte (facultatif ; seul son début est lu).",
    )
    k = serializers.IntegerField(
        required=False, default=SUGGESTIONS, min_value=1, max_value=10, help_text="Nombre de suggestions par niveau."
    )


class MatiereSuggestionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    level = serializers.IntegerField(help_text="2 : matière ; 1 : domaine (somme des matières qu'il contient).")
    score = serializers.FloatField(help_text="Confiance estimée, entre 0 et 1.")
    source = serializers.ChoiceField(choices=["classifier", "model"])


class MatiereSuggestResponseSerializer(serializers.Serializer):
    suggestions = MatiereSuggestionSerializer(many=True)


class MatiereConfirmRequestSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=16, help_text="Code @ctes de niveau 2, par exemple « 7.5 ».")


class ConfirmedMatiereSerializer(serializers.ModelSerializer):
    abilities = AbilitiesField("deliberations")

    class Meta:
        model = Deliberation
        fields = [
            "id",
            "delib_id",
            "objet",
            "matiere_code",
            "matiere_nom",
            "matiere_confirmed",
            "matiere_suggestions",
            "abilities",
        ]
        read_only_fields = fields


class ClassifyDeliberationsRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=MAX_CLASSIFY_IDS,
        help_text="Identifiants des délibérations à classer.",
    )


UNAVAILABLE = OpenApiResponse(description="Service d'analyse des textes indisponible.")


class SuggestMatiereView(APIView):
    """Suggest @ctes matières (level 2, then level 1) for an objet and optional text; nothing is stored."""

    permission_classes = [ability("routing", "suggest")]

    @extend_schema(
        request=MatiereSuggestRequestSerializer, responses={200: MatiereSuggestResponseSerializer, 503: UNAVAILABLE}
    )
    def post(self, request):
        data = _valid(MatiereSuggestRequestSerializer, request)
        try:
            suggestions = suggest_matieres(
                authority_id=request.authority.pk, objet=data["objet"], text=data["text"], k=data["k"]
            )
        except RoutingError as error:
            return _error(error)
        return Response({"suggestions": suggestions})


class DeliberationMatiereView(APIView):
    """Confirm a deliberation's matière (an agent's choice, usually one of its suggestions)."""

    permission_classes = [ability("routing", "confirm")]

    @extend_schema(request=MatiereConfirmRequestSerializer, responses={200: ConfirmedMatiereSerializer})
    def post(self, request, pk):
        deliberation = get_object_or_404(Deliberation, pk=pk)
        data = _valid(MatiereConfirmRequestSerializer, request)
        try:
            confirm_matiere(deliberation=deliberation, code=data["code"], user=request.user)
        except RoutingError as error:
            raise ValidationError({"code": [str(error)]}) from error
        return Response(ConfirmedMatiereSerializer(deliberation, context={"request": request}).data)


class ClassifyView(APIView):
    """Classify deliberations in the background: those without a matière get suggestions. Follow the
    returned job at /api/v1/jobs/{id}/."""

    permission_classes = [ability("routing", "classify")]

    @extend_schema(request=ClassifyDeliberationsRequestSerializer, responses={202: JobSerializer})
    def post(self, request):
        ids = sorted(set(_valid(ClassifyDeliberationsRequestSerializer, request)["ids"]))
        found = set(Deliberation.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            shown = ", ".join(str(pk) for pk in missing[:20]) + ("…" if len(missing) > 20 else "")
            raise ValidationError({"ids": [f"Délibération(s) introuvable(s) : {shown}."]})
        job = enqueue_classification(
            authority=request.authority,
            deliberation_ids=ids,
            created_by=request.user if request.user.is_authenticated else None,
        )
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _error(error: RoutingError) -> Response:
    if isinstance(error, RoutingUnavailable):
        return Response({"detail": str(error)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    raise ValidationError({"objet": [str(error)]}) from error


urlpatterns = [
    path("deliberations/suggest-matiere/", SuggestMatiereView.as_view(), name="deliberation-suggest-matiere"),
    path("deliberations/<int:pk>/matiere/", DeliberationMatiereView.as_view(), name="deliberation-set-matiere"),
    path("deliberations/classify/", ClassifyView.as_view(), name="deliberation-classify"),
]
