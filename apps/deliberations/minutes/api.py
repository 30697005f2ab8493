"""REST API for extraction from minutes: start it on a document, read a session's proposals, accept
(with corrections) or reject one. Agents write, readers read; another authority's ids answer 404."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.documents.models import Document
from apps.jobs.api import JobSerializer
from apps.tenants.permissions import AbilitiesField, ability

from ..models import Deliberation, Session
from .extraction import MinutesError, latest_job, start_extraction
from .review import ProposalNotFound, accept_proposal, reject_proposal


class StartSerializer(serializers.Serializer):
    document = serializers.IntegerField(min_value=1, help_text="Identifiant du procès-verbal ou compte rendu indexé.")


class ProposalSerializer(serializers.Serializer):
    id = serializers.CharField(
        help_text="Identifiant stable de la proposition : à utiliser pour valider ou écarter "
        "(une nouvelle extraction ne le réattribue jamais à une autre)."
    )
    status = serializers.ChoiceField(choices=["pending", "accepted", "rejected"])
    objet = serializers.CharField()
    decision = serializers.CharField(allow_blank=True)
    delib_id = serializers.CharField(allow_blank=True, help_text="Numéro proposé (année-numéro).")
    page = serializers.IntegerField(allow_null=True)
    number = serializers.CharField(allow_blank=True, help_text="Numéro du point dans le procès-verbal.")
    excerpt = serializers.CharField(allow_blank=True, help_text="Extrait du texte qui porte la décision.")
    confidence = serializers.FloatField()
    source = serializers.CharField(help_text="« règles », « modèle » ou « règles + modèle ».")
    vote_effectif = serializers.IntegerField(allow_null=True)
    vote_reel = serializers.IntegerField(allow_null=True)
    vote_pour = serializers.IntegerField(allow_null=True)
    vote_contre = serializers.IntegerField(allow_null=True)
    vote_abstention = serializers.IntegerField(allow_null=True)
    votes_derived = serializers.BooleanField(help_text="Votes déduits des présents et des noms (non écrits).")
    notes = serializers.ListField(child=serializers.CharField())
    matiere_suggestion = serializers.DictField(allow_null=True)
    deliberation_id = serializers.IntegerField(allow_null=True)


class AcceptSerializer(serializers.Serializer):
    """Corrections of the proposal; what is not sent is taken from it."""

    objet = serializers.CharField(required=False, max_length=2000)
    delib_id = serializers.CharField(required=False, max_length=100)
    delib_date = serializers.DateField(required=False)
    decision = serializers.CharField(required=False, allow_blank=True, max_length=200)
    vote_effectif = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    vote_reel = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    vote_pour = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    vote_contre = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    vote_abstention = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    matiere_code = serializers.CharField(required=False, allow_blank=True, max_length=16)
    matiere_confirmed = serializers.BooleanField(required=False, default=False)


class CreatedDeliberationSerializer(serializers.ModelSerializer):
    abilities = AbilitiesField("deliberations")

    class Meta:
        model = Deliberation
        fields = [
            "id",
            "delib_id",
            "delib_date",
            "objet",
            "decision",
            "matiere_code",
            "matiere_nom",
            "matiere_confirmed",
            "vote_effectif",
            "vote_reel",
            "vote_pour",
            "vote_contre",
            "vote_abstention",
            "published",
            "origin",
            "session",
            "abilities",
        ]
        read_only_fields = fields


SessionProposals = inline_serializer(
    "MinutesSessionProposals",
    {
        "session": inline_serializer(
            "MinutesSession",
            {
                "id": serializers.IntegerField(),
                "date": serializers.DateField(),
                "title": serializers.CharField(),
                "minutes": serializers.IntegerField(allow_null=True),
            },
        ),
        "job": JobSerializer(allow_null=True),
        "proposals": ProposalSerializer(many=True),
    },
)
Started = inline_serializer("MinutesExtractionStarted", {"job": JobSerializer(), "session": serializers.IntegerField()})
NotFound = inline_serializer(
    "MinutesNotFound", {"detail": serializers.CharField(), "errors": serializers.DictField(required=False)}
)


def _proposals(session: Session) -> list[dict]:
    defaults = {
        "delib_id": "",
        "number": "",
        "page": None,
        "excerpt": "",
        "notes": [],
        "source": "règles",
        "votes_derived": False,
        "matiere_suggestion": None,
        "deliberation_id": None,
        "decision": "",
    }
    return [defaults | proposal for proposal in session.proposals or []]


def _refused(exc: MinutesError) -> Response:
    if isinstance(exc, ProposalNotFound):
        return Response({"detail": exc.user_message, "errors": exc.errors}, status=status.HTTP_404_NOT_FOUND)
    raise ValidationError({"detail": exc.user_message, **exc.errors}) from exc


class MinutesExtractionView(APIView):
    permission_classes = [ability("minutes", "create")]

    @extend_schema(request=StartSerializer, responses={202: Started, 404: NotFound})
    def post(self, request):
        """Propose the deliberations of an indexed procès-verbal or compte rendu (a background job);
        its council session is created the first time, and answered at once."""
        given = StartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        document = get_object_or_404(Document.objects.defer("pages"), pk=given.validated_data["document"])
        try:
            session, job = start_extraction(
                authority=request.authority,
                document=document,
                created_by=request.user if request.user.is_authenticated else None,
            )
        except MinutesError as exc:
            return _refused(exc)
        return Response(
            {"job": JobSerializer(job, context={"request": request}).data, "session": session.pk},
            status=status.HTTP_202_ACCEPTED,
        )


class SessionProposalsView(APIView):
    permission_classes = [ability("minutes", "list")]

    @extend_schema(responses={200: SessionProposals, 404: NotFound})
    def get(self, request, pk):
        """A session's proposals and the state of its latest extraction."""
        session = get_object_or_404(Session, pk=pk)
        job = latest_job(session)
        return Response(
            {
                "session": {
                    "id": session.pk,
                    "date": session.date,
                    "title": str(session),
                    "minutes": session.minutes_id,
                },
                "job": JobSerializer(job, context={"request": request}).data if job else None,
                "proposals": ProposalSerializer(_proposals(session), many=True).data,
            }
        )


class ProposalAcceptView(APIView):
    permission_classes = [ability("minutes", "accept")]

    @extend_schema(request=AcceptSerializer, responses={201: CreatedDeliberationSerializer, 404: NotFound})
    def post(self, request, pk, proposal_id):
        """Create the deliberation (not published) from the proposal and the corrections sent. Accepting an
        accepted proposal again returns the same deliberation."""
        session = get_object_or_404(Session, pk=pk)
        values = AcceptSerializer(data=request.data)
        values.is_valid(raise_exception=True)
        try:
            deliberation = accept_proposal(session=session, proposal_id=proposal_id, values=values.validated_data)
        except MinutesError as exc:
            return _refused(exc)
        return Response(
            CreatedDeliberationSerializer(deliberation, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ProposalRejectView(APIView):
    permission_classes = [ability("minutes", "reject")]

    @extend_schema(request=None, responses={200: ProposalSerializer, 404: NotFound})
    def post(self, request, pk, proposal_id):
        """Drop a proposal; a re-run of the extraction keeps it dropped."""
        session = get_object_or_404(Session, pk=pk)
        try:
            reject_proposal(session=session, proposal_id=proposal_id)
        except MinutesError as exc:
            return _refused(exc)
        session.refresh_from_db()
        rejected = next(p for p in _proposals(session) if p["id"] == proposal_id)
        return Response(ProposalSerializer(rejected).data)


urlpatterns = [
    path("deliberations/minutes/", MinutesExtractionView.as_view(), name="deliberation-minutes"),
    path("deliberations/sessions/<int:pk>/proposals/", SessionProposalsView.as_view(), name="deliberation-proposals"),
    path(
        "deliberations/sessions/<int:pk>/proposals/<slug:proposal_id>/accept/",
        ProposalAcceptView.as_view(),
        name="deliberation-proposal-accept",
    ),
    path(
        "deliberations/sessions/<int:pk>/proposals/<slug:proposal_id>/reject/",
        ProposalRejectView.as_view(),
        name="deliberation-proposal-reject",
    ),
]
