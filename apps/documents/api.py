"""REST API for collections, documents (single and batch upload) and search."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenants.permissions import AbilitiesField, ability

from . import services
from .forms import SearchForm
from .models import Chunk, Collection, Document
from .search import MODES, search
from .selectors import collection_name_taken, documents_with_jobs, filters_from

NONE_ACCEPTED = "Aucun fichier n'a été accepté : voyez la raison de chacun."


class CollectionSerializer(serializers.ModelSerializer):
    abilities = AbilitiesField("collections")

    class Meta:
        model = Collection
        fields = ["id", "name", "description", "visibility", "created_at", "abilities"]
        read_only_fields = ["id", "created_at"]

    def validate_name(self, value):
        if collection_name_taken(value, exclude_pk=self.instance.pk if self.instance else None):
            raise serializers.ValidationError("Une collection porte déjà ce nom.")
        return value


class CollectionViewSet(viewsets.ModelViewSet):
    """Spaces of documents; a public collection may be quoted to citizens."""

    serializer_class = CollectionSerializer
    permission_classes = [ability("collections")]

    def get_queryset(self):
        return Collection.objects.order_by("name")

    def perform_create(self, serializer):
        serializer.save(authority=self.request.authority)

    def perform_destroy(self, instance):
        if instance.documents.exists():
            raise serializers.ValidationError(
                {"detail": "La collection contient des documents : déplacez-les ou supprimez-les d'abord."}
            )
        instance.delete()


class DocumentSerializer(serializers.ModelSerializer):
    collection = serializers.PrimaryKeyRelatedField(queryset=Collection.objects.none(), required=False)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    progress = serializers.SerializerMethodField()
    abilities = AbilitiesField("documents")

    class Meta:
        model = Document
        fields = [
            "id",
            "title",
            "kind",
            "date",
            "matiere",
            "collection",
            "source",
            "original_filename",
            "size",
            "mime_type",
            "content_hash",
            "metadata",
            "state",
            "state_label",
            "error",
            "warnings",
            "page_count",
            "progress",
            "created_at",
            "indexed_at",
            "abilities",
        ]
        read_only_fields = [
            "source",
            "original_filename",
            "size",
            "mime_type",
            "content_hash",
            "state",
            "error",
            "warnings",
            "page_count",
            "created_at",
            "indexed_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.all()

    def get_progress(self, document) -> int:
        if document.state == Document.State.INDEXED:
            return 100
        return document.job.progress if document.job else 0


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), help_text="Un ou plusieurs fichiers, ou un .zip.")
    collection = serializers.PrimaryKeyRelatedField(queryset=Collection.objects.none(), required=False)
    kind = serializers.ChoiceField(choices=Document.Kind.choices, default=Document.Kind.OTHER)
    date = serializers.DateField(required=False, allow_null=True)
    matiere = serializers.CharField(required=False, allow_blank=True, max_length=10, default="")
    title = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.all()


class ChunkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Chunk
        fields = ["id", "position", "pages", "heading", "text", "token_count", "embedding_model"]


class DocumentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The authority's documents, their indexing state and progress."""

    serializer_class = DocumentSerializer
    permission_classes = [ability("documents")]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self):
        queryset = documents_with_jobs()
        params = self.request.query_params
        for field in ("collection", "kind", "state"):
            if params.get(field):
                queryset = queryset.filter(**{field: params[field]})
        return queryset

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: inline_serializer(
                "UploadResult",
                {
                    "documents": DocumentSerializer(many=True),
                    "errors": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    def create(self, request):
        """Upload one or several files (or zips). Each is indexed in the background; a file already
        stored (same content) returns the existing document. 201 if at least one was accepted."""
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = dict(upload.validated_data)
        files = data.pop("files")
        outcomes = services.add_uploads(
            authority=request.authority,
            files=files,
            created_by=request.user if request.user.is_authenticated else None,
            source="API",
            **data,
        )
        accepted = [o.document for o in outcomes if o.document]
        refused = [o for o in outcomes if o.error]
        if not accepted:
            messages = [o.error for o in refused]
            raise ValidationError({"detail": messages[0] if len(messages) == 1 else NONE_ACCEPTED, "files": messages})
        body = {
            "documents": self.get_serializer(accepted, many=True).data,
            "errors": [{"file": o.filename, "detail": o.error} for o in refused],
        }
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.delete_document(document=instance)

    @extend_schema(request=None, responses={202: DocumentSerializer})
    @action(detail=True, methods=["post"])
    def reindex(self, request, pk=None):
        """Extract, chunk and embed the document again (its file is kept)."""
        document = services.reindex_document(
            document=self.get_object(), created_by=request.user if request.user.is_authenticated else None
        )
        return Response(self.get_serializer(document).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses=inline_serializer(
            "Page", {"number": serializers.IntegerField(), "text": serializers.CharField()}, many=True
        )
    )
    @action(detail=True, methods=["get"])
    def pages(self, request, pk=None):
        """Extracted text, page by page."""
        return Response(Document.objects.filter(pk=self.get_object().pk).values_list("pages", flat=True).first())

    @extend_schema(responses=ChunkSerializer(many=True))
    @action(detail=True, methods=["get"])
    def chunks(self, request, pk=None):
        """The indexed passages (administrators)."""
        return Response(ChunkSerializer(self.get_object().chunks.order_by("position"), many=True).data)


class HitSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    document_title = serializers.CharField()
    kind = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    collection = serializers.CharField()
    page = serializers.IntegerField()
    pages = serializers.ListField(child=serializers.IntegerField())
    heading = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML : texte échappé, mots trouvés entre <mark>.")
    score = serializers.FloatField()


class SearchView(APIView):
    """Hybrid French search (full-text + vector) over the authority's indexed documents."""

    permission_classes = [ability("documents", "search")]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("mode", str, enum=MODES),
            OpenApiParameter("collection", int, many=True),
            OpenApiParameter("kind", str, many=True),
            OpenApiParameter("year", int),
            OpenApiParameter("date_from", str),
            OpenApiParameter("date_to", str),
            OpenApiParameter("matiere", str),
            OpenApiParameter("limit", int),
        ],
        responses=inline_serializer(
            "SearchResults",
            {
                "query": serializers.CharField(),
                "mode": serializers.CharField(),
                "hits": HitSerializer(many=True),
                "facets": serializers.DictField(),
            },
        ),
    )
    def get(self, request):
        form = SearchForm(request.query_params)
        if not form.is_valid() or not form.cleaned_data["q"].strip():
            raise ValidationError(form.errors if form.errors else {"q": ["Indiquez ce que vous cherchez."]})
        mode = request.query_params.get("mode", "hybrid")
        if mode not in MODES:
            raise ValidationError({"mode": [f"Valeurs possibles : {', '.join(MODES)}."]})
        limit_param = request.query_params.get("limit", "10")
        limit = min(max(int(limit_param), 1), 50) if limit_param.isdigit() else 10
        results = search(
            authority_id=request.authority.pk,
            query=form.cleaned_data["q"],
            filters=filters_from(form.cleaned_data),
            limit=limit,
            mode=mode,
        )
        facets = {
            name: [{"value": v, "label": label, "count": n} for v, label, n in values]
            for name, values in results.facets.items()
        }
        return Response(
            {
                "query": results.query,
                "mode": results.mode,
                "hits": HitSerializer(results.hits, many=True).data,
                "facets": facets,
            }
        )
