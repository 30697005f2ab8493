from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.tenants.permissions import AbilitiesField, ability

from . import services
from .models import Job


class JobSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    abilities = AbilitiesField("jobs")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "kind_label",
            "state",
            "state_label",
            "progress",
            "message",
            "error",
            "result",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "abilities",
        ]
        read_only_fields = fields


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Long-running work of the current authority, with its progress."""

    serializer_class = JobSerializer
    permission_classes = [ability("jobs")]

    def get_queryset(self):
        queryset = Job.objects.order_by("-created_at", "-id")
        state = self.request.query_params.get("state")
        return queryset.filter(state=state) if state else queryset

    @extend_schema(request=None, responses={201: JobSerializer})
    @action(detail=False, methods=["post"])
    def diagnostic(self, request):
        """Start a platform diagnostic (database, broker, inference, embeddings) as a job."""
        job = services.enqueue_job(
            authority=request.authority,
            kind="platform.diagnostic",
            created_by=request.user if request.user.is_authenticated else None,
        )
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Send a failed job again."""
        job = services.retry_job(job=self.get_object())
        return Response(self.get_serializer(job).data)
