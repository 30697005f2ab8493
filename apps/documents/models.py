"""Collections, documents and their chunks: what search, the assistant and the chatbot rest on."""

import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Upper
from pgvector.django import HnswIndex, VectorField

from apps.tenants.models import TenantModel

# Full-text configuration created in migration 0001: French stemming on unaccented words, so that
# "deliberation" finds "délibération".
FULLTEXT_CONFIG = "french_unaccent"
EMBEDDING_DIMENSIONS = 384


class Collection(TenantModel):
    class Visibility(models.TextChoices):
        INTERNAL = "internal", "Interne"
        PUBLIC = "public", "Publique"

    name = models.CharField("nom", max_length=120)
    description = models.CharField("description", max_length=300, blank=True)
    visibility = models.CharField("visibilité", max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    class Meta:
        verbose_name = "collection"
        verbose_name_plural = "collections"
        ordering = ["name"]
        constraints = [models.UniqueConstraint("authority", Upper("name"), name="collection_unique_name")]

    def __str__(self):
        return self.name


def original_file_path(document, filename):
    return f"documents/{document.authority_id}/{document.content_hash[:2]}/{document.content_hash}/{filename}"


class Document(TenantModel):
    class Kind(models.TextChoices):
        DELIBERATION = "deliberation", "Délibération"
        PROCES_VERBAL = "proces_verbal", "Procès-verbal"
        COMPTE_RENDU = "compte_rendu", "Compte rendu"
        ARRETE = "arrete", "Arrêté"
        NOTE = "note", "Note"
        FICHE = "fiche", "Fiche"
        OTHER = "autre", "Autre"

    class State(models.TextChoices):
        PENDING = "pending", "En attente"
        PROCESSING = "processing", "En cours d'indexation"
        INDEXED = "indexed", "Indexé"
        FAILED = "failed", "Échec"

    collection = models.ForeignKey(
        Collection, on_delete=models.PROTECT, related_name="documents", verbose_name="collection"
    )
    title = models.CharField("titre", max_length=300)
    kind = models.CharField("type", max_length=20, choices=Kind.choices, default=Kind.OTHER)
    date = models.DateField("date", null=True, blank=True)
    matiere = models.CharField("matière (@ctes)", max_length=10, blank=True)
    source = models.CharField("source", max_length=200, blank=True, help_text="« dépôt », « API », un connecteur…")
    file = models.FileField("fichier original", upload_to=original_file_path, max_length=500)
    original_filename = models.CharField("nom du fichier", max_length=255)
    size = models.PositiveBigIntegerField("taille (octets)", default=0)
    mime_type = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField("empreinte SHA-256", max_length=64)
    metadata = models.JSONField("métadonnées", default=dict, blank=True)
    state = models.CharField("état", max_length=12, choices=State.choices, default=State.PENDING)
    error = models.TextField("raison de l'échec", blank=True)
    warnings = models.JSONField("avertissements", default=list, blank=True)
    page_count = models.PositiveIntegerField("pages", default=0)
    pages = models.JSONField("texte par page", default=list, blank=True, editable=False)
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="déposé par",
    )
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    indexed_at = models.DateTimeField("indexé le", null=True, blank=True)

    class Meta:
        verbose_name = "document"
        verbose_name_plural = "documents"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "content_hash"], name="document_unique_content"),
        ]
        indexes = [
            models.Index(fields=["authority", "collection", "kind", "date"], name="document_filters"),
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="document_title_trgm"),
        ]

    def __str__(self):
        return self.title

    # Types a browser may display from our origin; anything else (HTML, SVG…) is downloaded, so an
    # uploaded page can never run script as Registre.
    INLINE_TYPES = ("application/pdf", "text/plain", "image/png", "image/jpeg")

    @property
    def shows_inline(self) -> bool:
        return (self.mime_type or "").split(";")[0].strip().lower() in self.INLINE_TYPES

    @staticmethod
    def hash_bytes(chunks) -> str:
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)
        return digest.hexdigest()


class Chunk(TenantModel):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    pages = ArrayField(models.PositiveIntegerField(), default=list)
    heading = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    token_count = models.PositiveIntegerField(default=0)
    search_vector = models.GeneratedField(
        expression=SearchVector("heading", weight="A", config=FULLTEXT_CONFIG)
        + SearchVector("text", weight="B", config=FULLTEXT_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True)
    embedding_model = models.CharField(max_length=120, blank=True)

    class Meta:
        verbose_name = "passage"
        verbose_name_plural = "passages"
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "document", "position"], name="chunk_unique_position"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="chunk_search_vector"),
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self):
        return f"{self.document} §{self.position}"
