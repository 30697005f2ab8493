"""Authorities (the tenants), their members, and the base class of every tenant-owned table."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from .context import current_authority_id


class Authority(models.Model):
    """A local authority using Registre. Not tenant-scoped itself: it *is* the tenant."""

    class Kind(models.TextChoices):
        COMMUNE = "commune", "Commune"
        INTERCOMMUNALITE = "intercommunalite", "Intercommunalité"
        DEPARTEMENT = "departement", "Département"
        REGION = "region", "Région"
        OTHER = "autre", "Autre"

    name = models.CharField("nom", max_length=200)
    kind = models.CharField("type", max_length=20, choices=Kind.choices, default=Kind.COMMUNE)
    slug = models.SlugField("identifiant d'adresse", max_length=80, unique=True)
    siren = models.CharField(
        "SIREN",
        max_length=9,
        blank=True,
        validators=[RegexValidator(r"^\d{9}$", "Le SIREN comporte 9 chiffres.")],
    )
    insee_code = models.CharField(
        "code INSEE",
        max_length=5,
        blank=True,
        validators=[RegexValidator(r"^(\d{5}|2[AB]\d{3})$", "Le code INSEE comporte 5 caractères (ex. 35238, 2A004).")],
    )
    population = models.PositiveIntegerField("population", null=True, blank=True)
    contact_email = models.EmailField("adresse de contact", blank=True)
    settings = models.JSONField("réglages", default=dict, blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    class Meta:
        verbose_name = "collectivité"
        verbose_name_plural = "collectivités"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["siren"], condition=~models.Q(siren=""), name="authority_unique_siren"),
        ]

    def __str__(self):
        return self.name


class TenantManager(models.Manager):
    """Default manager of tenant tables: only the current authority's rows, none without context.

    Row-level security enforces the same rule in PostgreSQL; this keeps queries explicit (the
    authority id is in every WHERE clause, which a distributed Citus deployment also needs).
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        authority_id = current_authority_id()
        return queryset.filter(authority_id=authority_id) if authority_id else queryset.none()


class TenantModel(models.Model):
    authority = models.ForeignKey(Authority, on_delete=models.CASCADE, verbose_name="collectivité", editable=False)

    objects = TenantManager()
    # Cross-authority reads (platform staff, maintenance tasks); row-level security still applies.
    all_tenants = models.Manager()  # noqa: DJ012 - a manager, not a field

    class Meta:
        abstract = True
        base_manager_name = "all_tenants"

    def save(self, *args, **kwargs):
        if self.authority_id is None:
            self.authority_id = current_authority_id()
        super().save(*args, **kwargs)


class Membership(TenantModel):
    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", "Administrateur"
        AGENT = "agent", "Agent"
        READER = "reader", "Lecteur"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name="utilisateur"
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField("ajouté le", auto_now_add=True)

    class Meta:
        verbose_name = "membre"
        verbose_name_plural = "membres"
        ordering = ["user__email"]
        constraints = [models.UniqueConstraint(fields=["authority", "user"], name="membership_unique_user")]

    def __str__(self):
        return f"{self.user} — {self.authority} ({self.get_role_display()})"
