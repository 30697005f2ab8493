"""A generation as the API shows it, whichever app started it (a question, a writing tool, a comparison
of deliberations): its request, outcome, answer, sources without their text, usage, and where to
follow it live."""

from rest_framework import serializers
from rest_framework.reverse import reverse

from apps.tenants.permissions import AbilitiesField

from .models import Generation


class GenerationSerializer(serializers.ModelSerializer):
    task_label = serializers.CharField(source="get_task_display", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    sources = serializers.ListField(source="public_sources", child=serializers.DictField(), read_only=True)
    stream_url = serializers.SerializerMethodField()
    abilities = AbilitiesField("generations")

    class Meta:
        model = Generation
        fields = [
            "id",
            "task",
            "task_label",
            "outcome",
            "outcome_label",
            "mode",
            "conversation",
            "job",
            "input",
            "query",
            "output",
            "flagged",
            "invalid_citations",
            "sources",
            "result",
            "confidence",
            "error",
            "model",
            "template",
            "prompt_tokens",
            "completion_tokens",
            "tokens_estimated",
            "latency_ms",
            "energy_wh",
            "co2_g",
            "pseudonymised",
            "rating",
            "rating_reason",
            "created_at",
            "finished_at",
            "stream_url",
            "abilities",
        ]
        read_only_fields = fields

    def get_stream_url(self, generation) -> str:
        # The generations' server-sent events (their route is the assistant's API, which serves them).
        return reverse("api:generation-stream", args=[generation.pk])
