"""REST API of the assistant: ask, run a writing tool, follow a generation (JSON or server-sent
events), rate it; the audit log and its CSV export for administrators."""

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ai import audit
from apps.ai.models import Conversation, Generation
from apps.ai.serializers import GenerationSerializer
from apps.documents.models import Collection
from apps.tenants.permissions import ability

from . import selectors, services
from .errors import ToolInputError
from .sse import generation_events
from .writing import comparands
from .writing.inputs import validate_inputs
from .writing.tools import TOOLS


class EventStreamRenderer(renderers.BaseRenderer):
    media_type, format, charset = "text/event-stream", "sse", "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # The stream view returns its own StreamingHttpResponse; only errors (404…) come here.
        return json.dumps(data, ensure_ascii=False).encode()


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=services.MAX_QUESTION_CHARS)
    conversation = serializers.PrimaryKeyRelatedField(
        queryset=Conversation.objects.none(), required=False, allow_null=True
    )
    collections = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when the OpenAPI schema is generated
        if request is not None:
            self.fields["conversation"].queryset = selectors.conversations_of(request.user)

    def validate_collections(self, value):
        known = set(Collection.objects.filter(pk__in=value).values_list("pk", flat=True))
        if set(value) - known:
            raise ValidationError("Collection inconnue.")
        return sorted(known)


class ToolSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_TEXT_CHARS)
    document = serializers.IntegerField(required=False)
    documents = serializers.ListField(child=serializers.IntegerField(), required=False)
    chunks = serializers.ListField(child=serializers.IntegerField(), required=False)
    instructions = serializers.CharField(required=False, allow_blank=True, max_length=5_000)
    agenda = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_TEXT_CHARS)
    stream = serializers.BooleanField(
        default=True, help_text="false pour un traitement par lots : le résultat arrive en une fois (moins de charge)."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in comparands.kinds():  # what other apps let the comparison read (deliberations…)
            self.fields.setdefault(
                kind,
                serializers.ListField(
                    child=serializers.IntegerField(),
                    required=False,
                    help_text=f"compare : deux éléments « {kind} » (d'une autre collectivité s'il est public).",
                ),
            )


class FeedbackSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=[("up", "utile"), ("down", "pas utile")])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


def _user(request):
    return request.user if request.user.is_authenticated else None  # API keys act for the authority


def _accepted(request, generation: Generation) -> Response:
    return Response(
        GenerationSerializer(generation, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
    )


def _refused(exc: services.AssistantError):
    raise ValidationError({"detail": exc.user_message})


class QuestionView(APIView):
    """Ask a question about the authority's documents; follow the answer at `stream_url`."""

    permission_classes = [ability("assistant", "ask")]

    @extend_schema(request=QuestionSerializer, responses={202: GenerationSerializer})
    def post(self, request):
        serializer = QuestionSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            generation = services.ask_question(
                authority=request.authority,
                user=_user(request),
                question=data["question"],
                conversation=data.get("conversation"),
                collections=data["collections"],
            )
        except services.AssistantError as exc:
            _refused(exc)
        return _accepted(request, generation)


class ToolView(APIView):
    """Run a writing tool (summary, key_points, plain_language, compare, minutes, email, spelling)."""

    permission_classes = [ability("assistant", "tools")]

    @extend_schema(request=ToolSerializer, responses={202: GenerationSerializer})
    def post(self, request, task):
        if task not in TOOLS:
            raise NotFound("Outil inconnu.")
        serializer = ToolSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            inputs = validate_inputs(task, serializer.validated_data)
            generation = services.request_tool(
                authority=request.authority,
                user=_user(request),
                task=task,
                inputs=inputs,
                stream=serializer.validated_data["stream"],
            )
        except (services.AssistantError, ToolInputError) as exc:
            _refused(exc)
        return _accepted(request, generation)


class GenerationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Generations you asked for (administrators: all of the authority's, the audit log)."""

    serializer_class = GenerationSerializer
    permission_classes = [ability("generations")]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return Generation.objects.none()
        return selectors.visible_generations(self.request.user, self.request.role)

    @extend_schema(responses={(200, "text/event-stream"): OpenApiResponse(description="Server-sent events")})
    @action(detail=True, renderer_classes=[EventStreamRenderer, renderers.JSONRenderer])
    def stream(self, request, pk=None):
        generation = self.get_object()
        return generation_events(generation, request.headers.get("Last-Event-ID", ""))

    @extend_schema(request=FeedbackSerializer, responses={200: GenerationSerializer})
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        generation = self.get_object()
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.rate(
            generation=generation,
            rating=1 if serializer.validated_data["rating"] == "up" else -1,
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response(self.get_serializer(generation).data)


class AuditExportView(APIView):
    """The authority's audit log as CSV (administrators)."""

    permission_classes = [ability("assistant", "audit")]

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="CSV")})
    def get(self, request):
        return audit.csv_response(Generation.objects.select_related("user").order_by("-created_at"))
