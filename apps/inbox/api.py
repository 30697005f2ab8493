"""REST API of the inbox, for an authority's existing contact form or e-mail gateway: post a citizen's
message (idempotent by `external_id`), list and read messages. Replying is deliberately absent: a reply
reaches a citizen only through an agent's « Valider et envoyer » on the message's page."""

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from apps.tenants.permissions import AbilitiesField, ability

from . import services
from .errors import InboxError
from .models import Message, Reply, Service


class ReplySerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = Reply
        fields = ["id", "text", "ai_share", "ai_share_version", "label", "sent_at", "published", "citizen_rating"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(
        slug_field="name", queryset=Service.objects.none(), required=False, allow_null=True
    )
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True)
    replies = ReplySerializer(many=True, read_only=True)
    abilities = AbilitiesField("messages")

    class Meta:
        model = Message
        fields = [
            "id",
            "external_id",
            "channel",
            "sender_name",
            "sender_email",
            "subject",
            "body",
            "service",
            "consent_publication",
            "state",
            "due_on",
            "received_at",
            "replied_at",
            "closed_at",
            "replies",
            "abilities",
        ]
        read_only_fields = ["channel", "state", "due_on", "received_at", "replied_at", "closed_at"]
        validators = []  # external_id is unique per authority: a repeat returns the stored message

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.all()


class MessageViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Citizens' messages of the authority. POST with the same `external_id` twice stores one message
    (201 the first time, 200 with the stored message afterwards)."""

    serializer_class = MessageSerializer
    permission_classes = [ability("messages")]

    def get_queryset(self):
        return Message.objects.select_related("service").prefetch_related("replies").order_by("-received_at", "-id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            message, created = services.receive_message(
                authority=request.authority,
                sender_name=data["sender_name"],
                sender_email=data["sender_email"],
                subject=data["subject"],
                body=data["body"],
                service=data.get("service"),
                consent_publication=data.get("consent_publication", False),
                channel=Message.Channel.API,
                external_id=data.get("external_id", "").strip(),
            )
        except InboxError as exc:
            raise serializers.ValidationError({"body": [exc.user_message]}) from exc
        output = self.get_serializer(self.get_queryset().get(pk=message.pk))
        return Response(output.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
