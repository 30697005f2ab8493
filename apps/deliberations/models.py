"""The council's register: @ctes matières, council sessions, deliberations (every SCDL field) and
the SCDL imports that fill it."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField

from apps.documents.models import EMBEDDING_DIMENSIONS, FULLTEXT_CONFIG
from apps.tenants.abilities import get_abilities
from apps.tenants.models import TenantModel


class Matiere(models.Model):
    """One subject of the @ctes nomenclature ("7.10 Divers"). National reference data, not a
    tenant's: loaded from the préfecture's `RetourClassification` files shipped in `reference/`."""

    code = models.CharField("code", max_length=16, unique=True)  # "7", "7.1", "7.10", "3.5.2"
    label = models.CharField("libellé", max_length=300)
    level = models.PositiveSmallIntegerField("niveau")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    source = models.CharField("source", max_length=120, blank=True)

    class Meta:
        verbose_name = "matière @ctes"
        verbose_name_plural = "matières @ctes"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.label}"


class Session(TenantModel):
    """A council meeting: its agenda, its minutes, the deliberations it adopted."""

    date = models.DateField("date de la séance")
    title = models.CharField("intitulé", max_length=300, blank=True)
    agenda = models.TextField("ordre du jour", blank=True)
    minutes = models.ForeignKey(
        "documents.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="procès-verbal ou compte rendu",
    )
    # Deliberations proposed from the minutes, waiting for an agent: [{objet, votes…, status}]
    proposals = models.JSONField("propositions extraites", default=list, blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    class Meta:
        verbose_name = "séance"
        verbose_name_plural = "séances"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["authority", "-date"], name="session_authority_date")]

    def __str__(self):
        return self.title or f"Séance du {self.date:%d/%m/%Y}"


class ScdlImport(TenantModel):
    """One SCDL import (uploaded CSV, CSV at a URL, API payload) and its validation report."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Fichier déposé"
        URL = "url", "Adresse web"
        API = "api", "API"

    source = models.CharField("origine", max_length=10, choices=Source.choices)
    filename = models.CharField("nom du fichier", max_length=255, blank=True)
    url = models.URLField("adresse", max_length=1000, blank=True)
    file = models.FileField("fichier reçu", upload_to="imports/%Y/%m/", max_length=500, blank=True)
    strict = models.BooleanField("mode strict (tout ou rien)", default=False)
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # {"rows", "valid", "invalid", "created", "updated", "unchanged", "issues": [...], ...}
    report = models.JSONField("rapport", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="lancé par",
    )
    created_at = models.DateTimeField("lancé le", auto_now_add=True)

    class Meta:
        verbose_name = "import SCDL"
        verbose_name_plural = "imports SCDL"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.filename or self.url or f"Import #{self.pk}"


class Deliberation(TenantModel):
    """A deliberation of the register, with every field of the SCDL « Délibérations » schema 2.1.5."""

    class Origin(models.TextChoices):
        IMPORT = "import", "Import SCDL"
        MINUTES = "minutes", "Extraite d'un procès-verbal"
        MANUAL = "manual", "Saisie"
        API = "api", "API"

    # SCDL fields, in the schema's order (COLL_NOM … DELIB_URL)
    coll_nom = models.CharField("nom de la collectivité", max_length=300)
    coll_siret = models.CharField("SIRET de la collectivité", max_length=14)
    delib_id = models.CharField("identifiant de la délibération", max_length=100)
    delib_date = models.DateField("date de la délibération")
    matiere_code = models.CharField("code de la matière", max_length=16, blank=True)
    matiere_nom = models.CharField("matière", max_length=300, blank=True)
    objet = models.TextField("objet")
    budget_annee = models.CharField("année budgétaire", max_length=9, blank=True)
    budget_nom = models.CharField("budget", max_length=300, blank=True)
    pref_id = models.CharField("identifiant de télétransmission", max_length=100, blank=True)
    pref_date = models.DateField("date de réception en préfecture", null=True, blank=True)
    vote_effectif = models.PositiveIntegerField("membres en exercice", null=True, blank=True)
    vote_reel = models.PositiveIntegerField("votants", null=True, blank=True)
    vote_pour = models.PositiveIntegerField("pour", null=True, blank=True)
    vote_contre = models.PositiveIntegerField("contre", null=True, blank=True)
    vote_abstention = models.PositiveIntegerField("abstentions", null=True, blank=True)
    delib_url = models.URLField("adresse de l'acte", max_length=1000, blank=True)

    # Registre's own fields
    published = models.BooleanField(
        "publiée", default=False, help_text="Visible dans le registre public et l'export SCDL."
    )
    decision = models.CharField("décision", max_length=200, blank=True)
    text = models.TextField(
        "texte intégral",
        blank=True,
        help_text="Copié du document de l'acte une fois indexé (rapprochement, classement).",
    )
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliberations",
        verbose_name="document de l'acte",
    )
    session = models.ForeignKey(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliberations", verbose_name="séance"
    )
    origin = models.CharField("origine", max_length=10, choices=Origin.choices, default=Origin.MANUAL)
    last_import = models.ForeignKey(
        ScdlImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="dernier import"
    )
    # Routing: [{"code", "label", "level", "score"}] best first; cleared once an agent confirms.
    matiere_suggestions = models.JSONField("matières suggérées", default=list, blank=True)
    matiere_confirmed = models.BooleanField("matière confirmée", default=False)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_model = models.CharField(max_length=120, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("objet", weight="A", config=FULLTEXT_CONFIG)
        + SearchVector("matiere_nom", weight="B", config=FULLTEXT_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "délibération"
        verbose_name_plural = "délibérations"
        ordering = ["-delib_date", "-delib_id"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "delib_id"], name="deliberation_unique_id"),
        ]
        indexes = [
            models.Index(fields=["authority", "-delib_date"], name="deliberation_authority_date"),
            models.Index(fields=["authority", "matiere_code"], name="deliberation_matiere"),
            models.Index(fields=["published", "-delib_date"], name="deliberation_published"),
            GinIndex(fields=["search_vector"], name="deliberation_search_vector"),
            HnswIndex(
                name="deliberation_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self):
        return f"{self.delib_id} — {self.objet[:80]}"

    @property
    def matiere_level1(self) -> str:
        return self.matiere_code.split(".")[0] if self.matiere_code else ""

    def get_abilities(self, *, user, role: str | None) -> dict[str, bool]:
        """Publishing is offered for a draft, withdrawing for a published deliberation."""
        abilities = get_abilities(role, "deliberations")
        abilities["publish"] = abilities["publish"] and not self.published
        abilities["unpublish"] = abilities["unpublish"] and self.published
        return abilities
