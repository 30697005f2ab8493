"""A Job is the visible trace of long work done by a Celery worker for an authority."""

from django.conf import settings
from django.db import models

from apps.tenants.abilities import get_abilities
from apps.tenants.models import TenantModel


class Job(TenantModel):
    class State(models.TextChoices):
        PENDING = "pending", "En attente"
        RUNNING = "running", "En cours"
        SUCCEEDED = "succeeded", "Terminé"
        FAILED = "failed", "Échec"

    kind = models.CharField("type", max_length=60)
    state = models.CharField("état", max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    message = models.CharField("message", max_length=500, blank=True)
    error = models.TextField("erreur", blank=True)
    params = models.JSONField("paramètres", default=dict, blank=True)
    result = models.JSONField("résultat", default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="lancé par",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    started_at = models.DateTimeField("démarré le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    heartbeat_at = models.DateTimeField("dernier signe de vie", null=True, blank=True)

    class Meta:
        verbose_name = "travail"
        verbose_name_plural = "travaux"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["authority", "-created_at"], name="job_authority_recent")]
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_max_100")]

    def __str__(self):
        return f"{self.kind_label} #{self.pk} ({self.get_state_display()})"

    @property
    def kind_label(self):
        from .registry import kind_label

        return kind_label(self.kind)

    @property
    def is_active(self):
        return self.state in (self.State.PENDING, self.State.RUNNING)

    def get_abilities(self, *, user, role: str | None) -> dict[str, bool]:
        """Only a failed job is worth retrying (retrying another one changes nothing)."""
        abilities = get_abilities(role, "jobs")
        abilities["retry"] = abilities["retry"] and self.state == self.State.FAILED
        return abilities
