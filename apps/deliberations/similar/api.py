"""API of similar deliberations: the nearest ones in the authority and among other authorities'
published acts, and the assistant's comparison of two deliberations."""

import logging

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ai.models import Generation
from apps.ai.serializers import GenerationSerializer
from apps.assistant import services as assistant_services
from apps.assistant.errors import ToolInputError
from apps.assistant.writing.inputs import validate_inputs
from apps.documents.embeddings import EmbeddingUnavailable
from apps.tenants.models import Authority
from apps.tenants.permissions import ability

from ..models import Deliberation
from .comparison import visible_deliberation
from .selectors import DEFAULT_LIMIT, MAX_LIMIT, SCOPES, similar_deliberations

logger = logging.getLogger(__name__)


class SimilarQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=SCOPES,
        default="all",
        help_text="own : la collectivité ; others : les actes publiés des autres collectivités ; all : les deux.",
    )
    authority_kind = serializers.ChoiceField(
        choices=Authority.Kind.choices, required=False, help_text="Type des autres collectivités."
    )
    population_min = serializers.IntegerField(
        min_value=0, required=False, help_text="Population minimale des autres collectivités."
    )
    population_max = serializers.IntegerField(
        min_value=0, required=False, help_text="Population maximale des autres collectivités."
    )
    same_matiere = serializers.BooleanField(default=False, help_text="Même matière @ctes de premier niveau.")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)

    def validate(self, attrs):
        low, high = attrs.get("population_min"), attrs.get("population_max")
        if low is not None and high is not None and low > high:
            raise ValidationError({"population_min": "La population minimale dépasse la population maximale."})
        return attrs


class SimilarAuthoritySerializer(serializers.Serializer):
    name = serializers.CharField(source="authority_name")
    kind = serializers.CharField(source="authority_kind")
    population = serializers.IntegerField(allow_null=True)
    slug = serializers.CharField(source="authority_slug")


class SimilarHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="deliberation.pk")
    delib_id = serializers.CharField(source="deliberation.delib_id")
    delib_date = serializers.DateField(source="deliberation.delib_date")
    objet = serializers.CharField(source="deliberation.objet")
    matiere_code = serializers.CharField(source="deliberation.matiere_code")
    matiere_nom = serializers.CharField(source="deliberation.matiere_nom")
    vote_effectif = serializers.IntegerField(source="deliberation.vote_effectif", allow_null=True)
    vote_reel = serializers.IntegerField(source="deliberation.vote_reel", allow_null=True)
    vote_pour = serializers.IntegerField(source="deliberation.vote_pour", allow_null=True)
    vote_contre = serializers.IntegerField(source="deliberation.vote_contre", allow_null=True)
    vote_abstention = serializers.IntegerField(source="deliberation.vote_abstention", allow_null=True)
    decision = serializers.CharField(source="deliberation.decision")
    published = serializers.BooleanField(source="deliberation.published")
    authority = SimilarAuthoritySerializer(source="*")
    same_authority = serializers.BooleanField()
    score = serializers.SerializerMethodField(help_text="Similarité cosinus (1 = même sens).")
    url = serializers.SerializerMethodField(
        help_text="Page de la délibération (registre public pour les autres collectivités)."
    )

    def get_score(self, hit) -> float:
        return round(hit.score, 4)

    def get_url(self, hit) -> str:
        if hit.same_authority:
            return reverse("deliberation-detail", args=[hit.deliberation.pk])
        return reverse("public-deliberation", kwargs={"slug": hit.authority_slug, "pk": hit.deliberation.pk})


class CompareSerializer(serializers.Serializer):
    def get_fields(self):
        # "with" is a Python keyword: the field cannot be a class attribute.
        help_text = "Identifiant de l'autre délibération : de la collectivité, ou publiée par une autre."
        return {"with": serializers.IntegerField(min_value=1, help_text=help_text)}


class SimilarView(APIView):
    """Deliberations close in meaning to this one: the authority's (published or not) and other
    authorities' published ones. Kind and population filters apply to the other authorities."""

    permission_classes = [ability("deliberations", "similar")]

    @extend_schema(
        parameters=[SimilarQuerySerializer],
        responses=inline_serializer(
            "SimilarDeliberations",
            {"deliberation": serializers.IntegerField(), "results": SimilarHitSerializer(many=True)},
        ),
    )
    def get(self, request, pk):
        deliberation = get_object_or_404(Deliberation.objects.select_related("authority"), pk=pk)
        query = SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            with transaction.atomic():  # a savepoint: a failure must not abort the request's transaction
                hits = similar_deliberations(
                    deliberation=deliberation,
                    scope=data["scope"],
                    authority_kind=data.get("authority_kind", ""),
                    population_min=data.get("population_min"),
                    population_max=data.get("population_max"),
                    matiere_level1=deliberation.matiere_level1 if data["same_matiere"] else "",
                    limit=data["limit"],
                )
        except EmbeddingUnavailable:  # the embedder failed while computing the source's vector
            logger.exception("Similar deliberations unavailable for deliberation %s", deliberation.pk)
            return Response(
                {"detail": "La recherche de délibérations similaires est momentanément indisponible."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"deliberation": deliberation.pk, "results": SimilarHitSerializer(hits, many=True).data})


class CompareView(APIView):
    """Compare this deliberation with another with the assistant; follow the generation's `stream_url`."""

    permission_classes = [ability("deliberations", "compare")]

    @extend_schema(request=CompareSerializer, responses={202: GenerationSerializer})
    def post(self, request, pk):
        deliberation = get_object_or_404(Deliberation, pk=pk)
        body = CompareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        other = visible_deliberation(body.validated_data["with"], request.authority.pk)
        if other is None:
            raise NotFound("Délibération introuvable.")
        try:
            inputs = validate_inputs(Generation.Task.COMPARE, {"deliberations": [deliberation.pk, other.pk]})
            generation = assistant_services.request_tool(
                authority=request.authority,
                user=request.user if request.user.is_authenticated else None,
                task=Generation.Task.COMPARE,
                inputs=inputs,
            )
        except (assistant_services.AssistantError, ToolInputError) as exc:
            raise ValidationError({"detail": exc.user_message}) from exc
        return Response(
            GenerationSerializer(generation, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


urlpatterns = [
    path("deliberations/<int:pk>/similar/", SimilarView.as_view(), name="deliberation-similar"),
    path("deliberations/<int:pk>/compare/", CompareView.as_view(), name="deliberation-compare"),
]
